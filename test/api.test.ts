import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../server/app.ts';
import type { ErrorBody } from '../api/errors.ts';
import { cpuLoad } from '../workflows/cpuLoad.ts';
import { CPU_LOAD_CONTROL_TASK_QUEUE, cpuLoadStatusQuery, cpuLoadWorkflowId } from '../workflows/cpuLoad.shared.ts';
import { HEALTH_TASK_QUEUE } from '../workflows/healthCheck.shared.ts';
import { requestJson, useStack } from './support/fixture.ts';
import { createTestApp } from './support/stack.ts';
import { asToken } from './support/asToken.ts';

describe('HTTP API (app.request against real Temporal and services)', () => {
  const stack = useStack({ app: { maxBodyBytes: 4096 } });
  const { env, suffix } = stack;
  let app: App;
  /** An app whose health task queue has no worker, so started workflows stay running. */
  let idleApp: App;

  beforeAll(() => {
    app = stack.app;
    idleApp = asToken(createTestApp(env, { taskQueueSuffix: `-no-worker${suffix}` }), stack.tokens.admin);
  });

  it('GET /healthz answers while the process is alive', async () => {
    const response = await app.request('/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz reports each dependency and is 200 when all are up', async () => {
    // A worker shows up as a poller once its first poll reaches the server: give it a moment.
    await expect.poll(async () => (await app.request('/readyz')).status, { timeout: 10_000, interval: 200 }).toBe(200);
    const response = await app.request('/readyz');
    const body = (await response.json()) as { status: string; dependencies: { name: string; ok: boolean }[] };
    expect(response.status).toBe(200);
    expect(body.status).toBe('ready');
    expect(body.dependencies.map((d) => [d.name, d.ok])).toEqual([
      ['temporal', true], ['worker', true], ['mysql', true], ['memcached', true], ['etcd', true],
    ]);
  });

  it('GET /readyz is 503 and names the worker when no worker polls the task queue', async () => {
    const response = await idleApp.request('/readyz');
    expect(response.status).toBe(503);
    const body = (await response.json()) as { status: string; dependencies: { name: string; ok: boolean; detail: string }[] };
    expect(body.status).toBe('unready');
    const idle = `-no-worker${suffix}`;
    expect(body.dependencies.find((d) => d.name === 'worker')).toMatchObject({
      ok: false,
      detail: `no worker polls health-checks${idle}, request-runs${idle}, cpu-load-control${idle}, cf-converge${idle}, nodes${idle}, triggers${idle}, fractal-jobs${idle}`,
    });
  });

  it('starts a health check, then shows its report', async () => {
    const started = await requestJson<{ workflowId: string; runId: string; webUiUrl: string }>(app, 'POST', '/api/health-checks', { dependencies: ['etcd', 'mysql'] });
    expect(started.status).toBe(201);
    const { workflowId, runId, webUiUrl } = started.body;
    expect(workflowId).toBe('health-check-etcd+mysql');
    expect(webUiUrl).toBe(`http://127.0.0.1:8233/namespaces/default/workflows/${encodeURIComponent(workflowId)}/${runId}/history`);
    await env.client.workflow.getHandle(workflowId).result();
    const shown = await app.request(`/api/health-checks/${encodeURIComponent(workflowId)}`);
    expect(shown.status).toBe(200);
    expect(await shown.json()).toMatchObject({ workflowId, status: 'COMPLETED', report: { healthy: true, results: [{ name: 'etcd' }, { name: 'mysql' }] } });
  });

  it('answers 409 naming the running workflow when the same check is started twice', async () => {
    const first = await requestJson(idleApp, 'POST', '/api/health-checks', { dependencies: ['memcached'] });
    expect(first.status).toBe(201);
    try {
      const second = await requestJson<ErrorBody>(idleApp, 'POST', '/api/health-checks', { dependencies: ['memcached'] });
      expect(second.status).toBe(409);
      const body = second.body;
      expect(body.error).toMatchObject({ code: 'already_running', workflowId: 'health-check-memcached' });
      expect(body.error.message).toMatch(/health-check-memcached is already running/);
    } finally {
      await env.client.workflow.getHandle('health-check-memcached').terminate('test cleanup');
    }
  });

  it.each([
    ['an unknown dependency', { dependencies: ['redis'] }, 'dependencies.0'],
    ['an empty dependency list', { dependencies: [] }, 'dependencies'],
    ['a non-integer timeout', { probeTimeoutMs: 1.5 }, 'probeTimeoutMs'],
    ['an unknown field', { dependency: 'mysql' }, 'dependency'],
  ])('answers 400 naming the field for %s, and starts nothing', async (_what, body, field) => {
    const before = await env.client.workflow.count(`TaskQueue = "${HEALTH_TASK_QUEUE + suffix}"`);
    const response = await requestJson<ErrorBody>(app, 'POST', '/api/health-checks', body);
    expect(response.status).toBe(400);
    const error = response.body.error;
    expect(error.code).toBe('validation_failed');
    expect(error.field).toBe(field);
    expect((await env.client.workflow.count(`TaskQueue = "${HEALTH_TASK_QUEUE + suffix}"`)).count).toBe(before.count);
  });

  it('answers 400 for malformed JSON, 415 for a body that is not JSON and 413 for an oversized body', async () => {
    const malformed = await requestJson<ErrorBody>(app, 'POST', '/api/health-checks', '{"dependencies": [');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('invalid_json');
    const text = await app.request('/api/health-checks', { method: 'POST', body: '{"dependencies": ["mysql"]}', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    expect(((await text.json()) as ErrorBody).error.code).toBe('unsupported_media_type');
    const oversized = await requestJson<ErrorBody>(app, 'POST', '/api/health-checks', { padding: 'x'.repeat(10_000) });
    expect(oversized.status).toBe(413);
    expect(oversized.body.error.code).toBe('payload_too_large');
  });

  it('answers 404 in the same shape for an unknown workflow and an unknown route', async () => {
    const workflow = await app.request('/api/health-checks/never-started');
    expect(workflow.status).toBe(404);
    expect(((await workflow.json()) as ErrorBody).error).toMatchObject({ code: 'not_found', workflowId: 'never-started' });
    const route = await app.request('/api/nothing-here');
    expect(route.status).toBe(404);
    expect(((await route.json()) as ErrorBody).error.code).toBe('not_found');
  });

  it('cancels and pauses through /api/cf-convergences only convergences: a running workflow of another type answers 404 and keeps running', async () => {
    const start = (workflowId: string, target: string) =>
      env.client.workflow.start(cpuLoad, { workflowId, taskQueue: CPU_LOAD_CONTROL_TASK_QUEUE + suffix, args: [{ target, loadTaskQueue: `no-load-worker${suffix}` }] });
    // A CPU-load toggle under its own ID, and one started by hand under an ID of the convergences' scheme.
    const handles = [await start(cpuLoadWorkflowId(`scope${suffix}`), `scope${suffix}`), await start(`cf-converge-default-scope${suffix}-space`, `scope-cf${suffix}`)];
    try {
      for (const handle of handles) {
        await handle.query(cpuLoadStatusQuery); // running on this file's worker
        for (const action of ['cancel', 'pause']) {
          const response = await requestJson<ErrorBody>(app, 'POST', `/api/cf-convergences/${handle.workflowId}/${action}`);
          expect(response.status, `${action} ${handle.workflowId}`).toBe(404);
          expect(response.body.error).toMatchObject({ code: 'not_found', workflowId: handle.workflowId });
        }
        expect((await handle.describe()).status.name).toBe('RUNNING');
        const { events } = await handle.fetchHistory();
        expect(events!.filter((e) => e.workflowExecutionCancelRequestedEventAttributes || e.workflowExecutionSignaledEventAttributes)).toEqual([]);
        expect((await handle.query(cpuLoadStatusQuery)).state).toBe('OFF');
      }
    } finally {
      await Promise.all(handles.map((handle) => handle.terminate('test cleanup').catch(() => undefined)));
    }
  });

  it('lists recent executions with links into the Temporal Web UI, and validates the limit', async () => {
    const response = await app.request('/api/workflows?limit=5');
    expect(response.status).toBe(200);
    const { executions } = (await response.json()) as { executions: { workflowId: string; webUiUrl: string }[] };
    expect(executions.length).toBeGreaterThan(0);
    expect(executions.length).toBeLessThanOrEqual(5);
    for (const e of executions) expect(e.webUiUrl).toContain(`/workflows/${encodeURIComponent(e.workflowId)}/`);
    const bad = await app.request('/api/workflows?limit=abc');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ErrorBody).error.field).toBe('limit');
  });
});
