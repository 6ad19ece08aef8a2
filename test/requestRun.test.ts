import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RowDataPacket } from 'mysql2';
import type { ServerType } from '@hono/node-server';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { App } from '../server/app.ts';
import type { ErrorBody } from '../api/errors.ts';
import type { RunView } from '../services/requestRun.ts';
import { triggerKeys } from '../activities/requestRun.ts';
import { findFreePort } from '../scripts/processes.ts';
import { requestRun } from '../workflows/requestRun.ts';
import { REQUEST_RUN_TASK_QUEUE, requestRunWorkflowId, type RequestRunSummary } from '../workflows/requestRun.shared.ts';
import { serveForBrowser } from './support/browser.ts';
import { requestJson, useStack } from './support/fixture.ts';
import { startWorkerProcess, uniqueSuffix } from './support/stack.ts';

/** A receiver stand-in that answers after `delayMs` and counts the requests in flight (to see cancels land). */
function slowServer(delayMs: number) {
  let inFlight = 0;
  const server: Server = createServer((request, response) => {
    inFlight++;
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        inFlight--;
      }
    };
    request.once('close', finish);
    const timer = setTimeout(() => {
      response.end('{}');
      finish();
    }, delayMs);
    response.once('close', () => clearTimeout(timer));
  });
  return {
    listen: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slow`))),
    inFlight: () => inFlight,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The receiver behind a stand-in that answers 503 to its first `refusals` calls, as a receiver restarting (or its MySQL) does. */
function flakyReceiver(refusals: number, receiver: () => string) {
  let refused = 0;
  const server: Server = createServer((request, response) => {
    if (refused < refusals) {
      refused++;
      response.writeHead(503).end('{}');
      return;
    }
    const query = request.url!.slice(request.url!.indexOf('?'));
    fetch(`${receiver()}${query}`).then(
      async (answer) => response.writeHead(answer.status).end(await answer.text()),
      () => response.writeHead(502).end(),
    );
  });
  return {
    listen: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/flaky`))),
    refused: () => refused,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** How the tests below poll (every 50 ms, for up to 15 s unless they say otherwise). */
const polling = { timeout: 15_000, interval: 50 };

describe('request runs (real Temporal, MariaDB, memcached; receivers over HTTP)', () => {
  let app: App;
  let server: ServerType;
  let receiver: string;
  const slow = slowServer(250);
  let slowUrl: string;
  let deadUrl: string;
  const flaky = flakyReceiver(10, () => receiver);
  let flakyUrl: string;

  // The receivers come first: the stack's workers call them, and they close after them.
  beforeAll(async () => {
    slowUrl = await slow.listen();
    flakyUrl = await flaky.listen();
    deadUrl = `http://127.0.0.1:${await findFreePort()}/receiver`;
    ({ url: receiver, server } = await serveForBrowser((request) => app.fetch(request)));
    receiver += '/receiver';
  });
  afterAll(async () => {
    server?.close();
    await slow.close();
    await flaky.close();
  });
  const allowedDestinations = () => [receiver, slowUrl, deadUrl, flakyUrl];
  const stack = useStack({
    workers: () => ({ allowedDestinations: allowedDestinations() }),
    app: () => ({ allowedDestinations: allowedDestinations(), requestRunScope: scope }),
  });
  const { env, suffix } = stack;
  const scope = `t${suffix.slice(-8)}`;
  const workflowId = requestRunWorkflowId(scope);
  const keys = triggerKeys(scope);
  beforeAll(() => {
    app = stack.app;
  });

  const start = async (body: Record<string, unknown>) => {
    const response = await requestJson<{ runId: string; workflowId: string }>(app, 'POST', '/api/request-runs', body);
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  };
  const result = (runId: string) => env.client.workflow.getHandle(workflowId, runId).result() as Promise<RequestRunSummary>;
  const row = async (runId: string) => {
    const [rows] = await env.clients.mysql.query<RowDataPacket[]>('SELECT * FROM request_recorder WHERE run_id = ?', [runId]);
    return rows[0]!;
  };
  const memcachedValue = async (key: string) => (await env.clients.memcached.get(key)).value?.toString() ?? null;

  it('counts every call exactly in atomic mode, records the run and releases the trigger keys', async () => {
    const { runId } = await start({ calls: 300, concurrency: 12, destination: receiver });
    const summary = await result(runId);
    expect(summary).toMatchObject({ runId, status: 'completed', calls: 300, ok: 300, failed: 0, counted: 300, lostUpdates: 0, mode: 'atomic' });
    expect(summary.latencyMs!.p50).toBeGreaterThan(0);
    expect(summary.timeline.reduce((n, b) => n + b.ok, 0)).toBe(300);
    const recorded = await row(runId);
    expect(recorded).toMatchObject({ status: 'completed', max_possible_count: 300, current_request_count: 300, sent_calls: 300, failed_calls: 0, mode: 'atomic', scope });
    expect(recorded.timestamp).toBe(Math.floor(Date.parse(summary.startedAt) / 1000));
    for (const key of Object.values(keys)) expect(await memcachedValue(key)).toBeNull();
    const shown = (await (await app.request(`/api/request-runs/${runId}`)).json()) as RunView;
    expect(shown).toMatchObject({ runId, status: 'completed', counted: 300, ok: 300, failed: 0 });
  });

  it('holds the seed trigger keys while running, answers 409 naming the run, and cancels within 2 s', async () => {
    const { runId } = await start({ calls: 200, concurrency: 4, destination: slowUrl });
    await expect.poll(() => slow.inFlight(), { ...polling, message: 'calls in flight' }).toBe(4);
    expect(await memcachedValue(keys.workInProgress)).toBe('True');
    expect(await memcachedValue(keys.amountOfCalls)).toBe('200');
    expect(await memcachedValue(keys.destinationURL)).toBe(slowUrl);

    const conflict = await requestJson<ErrorBody>(app, 'POST', '/api/request-runs', { calls: 5, destination: receiver });
    expect(conflict.status).toBe(409);
    const error = conflict.body.error;
    expect(error).toMatchObject({ code: 'already_running', runId, workflowId });
    expect(error.message).toMatch(new RegExp(`Request run ${runId} is running \\(\\d+ of 200 calls done\\)`));

    const progress = await vi.waitFor(async () => {
      const view = (await (await app.request(`/api/request-runs/${runId}`)).json()) as RunView;
      expect(view.ok, 'progress from heartbeats').toBeGreaterThan(0);
      return view;
    }, polling);
    expect(progress.status).toBe('running');

    const cancelledAt = Date.now();
    const cancel = await app.request(`/api/request-runs/${runId}/cancel`, { method: 'POST' });
    expect(cancel.status).toBe(202);
    await expect.poll(() => slow.inFlight(), { ...polling, timeout: 2000, message: 'in-flight calls to stop' }).toBe(0);
    expect(Date.now() - cancelledAt).toBeLessThan(2000);
    await expect(result(runId)).rejects.toBeInstanceOf(WorkflowFailedError);
    expect((await row(runId)).status).toBe('cancelled');
    for (const key of Object.values(keys)) expect(await memcachedValue(key)).toBeNull();
    const again = await app.request(`/api/request-runs/${runId}/cancel`, { method: 'POST' });
    expect(again.status).toBe(409);
  });

  it.each([
    ['no calls', { calls: 0 }, 'calls'],
    ['too many calls', { calls: 100_001 }, 'calls'],
    ['a fraction', { calls: 1.5 }, 'calls'],
    ['a string', { calls: '10' }, 'calls'],
    ['zero concurrency', { calls: 5, concurrency: 0 }, 'concurrency'],
    ['an unknown mode', { calls: 5, mode: 'fast' }, 'mode'],
    ['a malformed URL', { calls: 5, destination: 'not a url' }, 'destination'],
    ['a disallowed URL', { calls: 5, destination: 'http://169.254.169.254/latest/meta-data' }, 'destination'],
  ])('refuses %s with 400 naming the field, and starts nothing', async (_what, body, field) => {
    const [before] = await env.clients.mysql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM request_recorder');
    const response = await requestJson<ErrorBody>(app, 'POST', '/api/request-runs', body);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'validation_failed', field });
    const [after] = await env.clients.mysql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM request_recorder');
    expect(after[0]!.n).toBe(before[0]!.n);
  });

  it('refuses a disallowed destination in the workflow too (the CLI path bypasses the API)', async () => {
    const failure = await env.client.workflow
      .execute(requestRun, { workflowId: `${workflowId}-cli`, taskQueue: REQUEST_RUN_TASK_QUEUE + suffix, args: [{ calls: 3, destination: 'http://10.0.0.1/receiver', scope: `${scope}-cli` }] })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause?.cause as ApplicationFailure;
    expect(cause.type).toBe('DestinationNotAllowed');
  });

  it('counts failed calls without failing the run', async () => {
    const { runId } = await start({ calls: 20, concurrency: 4, destination: deadUrl });
    const summary = await result(runId);
    expect(summary).toMatchObject({ status: 'completed', ok: 0, failed: 20, counted: 0 });
    expect(await row(runId)).toMatchObject({ status: 'completed', failed_calls: 20 });
  });

  it('resends exactly-once calls the receiver did not answer, and counts each once', async () => {
    const { runId } = await start({ calls: 60, concurrency: 4, mode: 'exactly-once', destination: flakyUrl });
    const summary = await result(runId);
    expect(flaky.refused()).toBe(10);
    expect(summary).toMatchObject({ status: 'completed', ok: 60, failed: 0, counted: 60 });
    const [receipts] = await env.clients.mysql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM request_receipts WHERE run_id = ?', [runId]);
    expect(receipts[0]!.n).toBe(60);
  });

  it('loses updates in racy mode, and says how many', async () => {
    const { runId } = await start({ calls: 1500, concurrency: 32, mode: 'racy', destination: receiver });
    const summary = await result(runId);
    expect(summary.ok).toBe(1500);
    expect(summary.lostUpdates).toBeGreaterThan(0);
    expect(summary.counted + summary.lostUpdates).toBe(1500);
  });

  it('counts exactly N in exactly-once mode although the worker is SIGKILLed mid-run', async () => {
    const crashSuffix = uniqueSuffix();
    const crashScope = `c${crashSuffix.slice(-8)}`;
    const lane = { FLEET_TASK_QUEUE_SUFFIX: crashSuffix, REQUEST_RUN_ALLOWED_DESTINATIONS: receiver };
    const first = startWorkerProcess(lane);
    await first.ready;
    const calls = 4000;
    const handle = await env.client.workflow.start(requestRun, {
      workflowId: requestRunWorkflowId(crashScope),
      taskQueue: REQUEST_RUN_TASK_QUEUE + crashSuffix,
      args: [{ calls, concurrency: 8, mode: 'exactly-once', destination: receiver, scope: crashScope, chunkSize: 4000, heartbeatTimeoutMs: 1500 }],
    });
    const runId = handle.firstExecutionRunId;
    await expect.poll(async () => (await row(runId))?.current_request_count, { ...polling, message: 'a quarter of the calls' }).toBeGreaterThanOrEqual(calls / 4);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const countAtCrash = (await row(runId)).current_request_count as number;
    expect(countAtCrash).toBeLessThan(calls);
    const second = startWorkerProcess(lane);
    try {
      await second.ready;
      const summary = (await handle.result()) as RequestRunSummary;
      expect(summary.counted).toBe(calls);
      expect((await row(runId)).current_request_count).toBe(calls);
      const [receipts] = await env.clients.mysql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM request_receipts WHERE run_id = ?', [runId]);
      expect(receipts[0]!.n).toBe(calls);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 90_000);
});

describe('receiver (GET /receiver)', () => {
  const stack = useStack({ workers: false });
  const { env } = stack;
  let app: App;
  beforeAll(() => {
    app = stack.app;
  });

  async function insertRun(runId: string, timestamp: number) {
    await env.clients.mysql.query(
      `INSERT INTO request_recorder (\`timestamp\`, max_possible_count, run_id, mode, status, concurrency, destination_url, started_at)
       VALUES (?, 10, ?, 'atomic', 'running', 1, 'http://x/receiver', NOW(3))`,
      [timestamp, runId],
    );
  }
  const count = async (runId: string) => {
    const [rows] = await env.clients.mysql.query<RowDataPacket[]>('SELECT current_request_count AS n FROM request_recorder WHERE run_id = ?', [runId]);
    return rows[0]!.n as number;
  };

  it("answers the seed's own call (timestamp only) and counts it", async () => {
    const timestamp = 1_000_000 + Math.floor(Math.random() * 1_000_000);
    await insertRun(`seed-${timestamp}`, timestamp);
    const response = await app.request(`/receiver?timestamp=${timestamp}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({});
    expect(await count(`seed-${timestamp}`)).toBe(1);
  });

  it('records an exactly-once call once, however often it is retried', async () => {
    const runId = `eo-${uniqueSuffix()}`;
    await insertRun(runId, 1);
    const call = `/receiver?run=${runId}&seq=7&mode=exactly-once&timestamp=1`;
    expect((await app.request(call)).headers.get('x-call')).toBe('counted');
    expect((await app.request(call)).headers.get('x-call')).toBe('duplicate');
    expect(await count(runId)).toBe(1);
  });

  it.each([
    ['no run and no timestamp', '/receiver', 400, 'timestamp'],
    ['a bad mode', '/receiver?run=r&mode=fast', 400, 'mode'],
    ['exactly-once without seq', '/receiver?run=r&mode=exactly-once', 400, 'seq'],
    ['a non-numeric timestamp', '/receiver?timestamp=abc', 400, 'timestamp'],
  ])('answers 400 for %s', async (_what, url, status, field) => {
    const response = await app.request(url);
    expect(response.status).toBe(status);
    expect(((await response.json()) as ErrorBody).error.field).toBe(field);
  });

  it('answers 404 for an unknown run in every mode', async () => {
    for (const mode of ['atomic', 'racy', 'exactly-once']) {
      const response = await app.request(`/receiver?run=never-${mode}&seq=1&mode=${mode}`);
      expect(response.status).toBe(404);
    }
  });
});
