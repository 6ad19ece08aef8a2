// A fractal worker process SIGKILLed mid-render (the original's "if you kill a worker, some of the
// images are not rendered"): its render stops heartbeating, Temporal gives it to the next fractal
// worker, and the fractal is made once, by that worker, with one record and one PNG.
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { fractalImageStoreFor } from '../activities/fractals/storage.ts';
import type { RowDataPacket } from 'mysql2';
import { fractalWorkflowId, type FractalRecord } from '../workflows/fractals.shared.ts';
import { requestJson, useStack } from './support/fixture.ts';
import { createTestApp, startWorkerProcess, uniqueSuffix, type WorkerProcess } from './support/stack.ts';
import { asToken } from './support/asToken.ts';

const stack = useStack({ app: { fractalTimings: { renderHeartbeatTimeoutMs: 2000, retryMaxIntervalMs: 200 } } });
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const processes: WorkerProcess[] = [];
afterAll(async () => {
  for (const { child } of processes) child.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
});

describe('a fractal worker killed mid-render', () => {
  it('loses nothing and makes nothing twice: the next worker renders it, once', { timeout: 90_000 }, async () => {
    const lane = { FLEET_TASK_QUEUE_SUFFIX: stack.suffix, FRACTAL_WORKER_THREADS: '1' };
    const first = startWorkerProcess(lane, 'workers/fractalWorker.ts');
    processes.push(first);
    await first.ready;

    // Douady's rabbit at 1024² and 3,000 iterations: seconds of rendering, a wide window to kill it in.
    const uuid = randomUUID();
    const created = await requestJson<FractalRecord>(stack.app, 'POST', '/v1/fractal', { uuid, width: 1024, height: 1024, iterations: 3000, xa: -1.5, xb: 1.5, ya: -1.5, yb: 1.5, cx: -0.123, cy: 0.745 });
    expect(created.status).toBe(201);
    const handle = stack.env.client.workflow.getHandle(fractalWorkflowId(uuid));
    await vi.waitFor(
      async () => {
        const [pending] = (await handle.describe()).raw.pendingActivities ?? [];
        expect(pending?.activityType?.name).toBe('renderFractal');
        expect(String(pending?.state)).toMatch(/STARTED|2/);
      },
      { timeout: 20_000, interval: 50 },
    );
    first.child.kill('SIGKILL');
    await first.exited;

    const second = startWorkerProcess(lane, 'workers/fractalWorker.ts');
    processes.push(second);
    await second.ready;
    const record = await vi.waitFor(
      async () => {
        const { body } = await requestJson<FractalRecord>(stack.app, 'GET', `/v1/fractal/${uuid}`);
        expect(body.status).toBe('done');
        return body;
      },
      { timeout: 60_000, interval: 250 },
    );
    expect(record.generated_by).toBe(`fractal-${second.child.pid}@${hostname()}`);
    const png = Buffer.from(await (await stack.app.request(`/fractal/${uuid}`)).arrayBuffer());
    expect(sha256(png)).toBe(record.checksum);

    // Once: one record for the uuid, one object in storage, one completed workflow whose render was retried.
    const [rows] = await stack.env.clients.mysql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM fractals WHERE uuid = ?', [uuid]);
    expect(Number(rows[0]!.n)).toBe(1);
    const { config } = stack.env;
    const store = fractalImageStoreFor(config.fractals.storage);
    expect((await store.head(uuid))?.checksum).toBe(record.checksum);
    const history = await handle.fetchHistory();
    const scheduled = history.events!.filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'renderFractal');
    expect(scheduled).toHaveLength(1);
    const completed = history.events!.find((event) => event.activityTaskCompletedEventAttributes);
    const startedEvent = history.events!.find((event) => event.eventId?.toString() === completed?.activityTaskCompletedEventAttributes?.startedEventId?.toString());
    expect(startedEvent?.activityTaskStartedEventAttributes?.attempt).toBeGreaterThanOrEqual(2);
    expect((await handle.describe()).status.name).toBe('COMPLETED');
  });

  it('loses nothing and makes nothing twice when the main worker is killed mid-batch', { timeout: 90_000 }, async () => {
    // A lane of its own: its main worker is a process this test kills, its fractal worker another.
    const suffix = uniqueSuffix();
    const lane = { FLEET_TASK_QUEUE_SUFFIX: suffix, FRACTAL_WORKER_THREADS: '1', WORKER_METRICS_PORT: '0' };
    const app = asToken(createTestApp(stack.env, { taskQueueSuffix: suffix, fractalTimings: { renderHeartbeatTimeoutMs: 2000, retryMaxIntervalMs: 200 } }), stack.tokens.admin);
    const renderer = startWorkerProcess(lane, 'workers/fractalWorker.ts');
    const firstMain = startWorkerProcess(lane);
    processes.push(renderer, firstMain);
    await Promise.all([renderer.ready, firstMain.ready]);
    const started = await requestJson<{ batch_id: string }>(app, 'POST', '/v1/fractal-batches', { tasks: 30, width: 160, height: 160, iterations: 400, cx: -0.123, cy: 0.745 });
    expect(started.status).toBe(202);
    const progress = async () => (await requestJson<{ tasks: number; accepted: number; done: number }>(app, 'GET', `/v1/fractal-batches/${started.body.batch_id}`)).body;
    await vi.waitFor(async () => expect((await progress()).done).toBeGreaterThanOrEqual(3), { timeout: 30_000, interval: 50 });
    firstMain.child.kill('SIGKILL');
    await firstMain.exited;
    const secondMain = startWorkerProcess(lane);
    processes.push(secondMain);
    await secondMain.ready;
    await vi.waitFor(async () => expect(await progress()).toMatchObject({ tasks: 30, accepted: 30, done: 30 }), { timeout: 60_000, interval: 250 });
    // Once each: one workflow per fractal of the batch, each completed (its last task may trail its record by a moment).
    await vi.waitFor(
      async () => {
        const executions = [];
        for await (const execution of stack.env.client.workflow.list({ query: `WorkflowType = 'fractal' AND TaskQueue = 'fractal-jobs${suffix}'` })) executions.push(execution);
        expect(executions).toHaveLength(30);
        expect(new Set(executions.map((e) => e.workflowId)).size).toBe(30);
        expect(executions.filter((e) => e.status.name !== 'COMPLETED').map((e) => `${e.workflowId} ${e.status.name}`)).toEqual([]);
      },
      { timeout: 20_000, interval: 250 },
    );
  });
});
