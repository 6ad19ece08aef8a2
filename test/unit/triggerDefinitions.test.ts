// Counter and trigger definitions through the API, in process: the whole app over stub clients with
// the definitions in memory (support/triggerModel.ts) and a scheduler that records what it is asked
// to sync. Bad input is a 400 naming the field; unknown things 404 (422 for a counter a trigger
// names); a counter a trigger reads cannot be deleted; every change to a trigger syncs its cluster.
import { describe, expect, it } from 'vitest';
import { asToken } from '../support/asToken.ts';
import { MAX_COUNTER_SCRIPT_BYTES } from '../../workflows/triggers.shared.ts';
import { counterUrlProblem } from '../../services/triggers.ts';
import { stubApp } from './support/stubApp.ts';
import { unitTokens } from './support/stubAccess.ts';
import { memoryTriggerModel, recordingScheduler } from './support/triggerModel.ts';

const json = (method: string, body: unknown): RequestInit => ({ method, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

const cpuBusy = { kind: 'ssh', comparison: '>', threshold: 70.25, script: "awk '{print 42.5}' /proc/loadavg" };
const httpCounter = (url: string) => ({ kind: 'http', comparison: '>=', threshold: 0.1, url, format: 'json', jsonPointer: '/value' });
const scaleOut = { cluster: 'web', counters: ['cpu-busy'], combine: 'avg', intervalMs: 10_000, heldForMs: 30_000, chain: [{ kind: 'deploy-node' }, { kind: 'email', address: 'ops@fleet.test', title: '{trigger} fired', content: '' }] };

interface ErrorBody {
  error: { code: string; message: string; field?: string; [extra: string]: unknown };
}

function setup(options: { counterAllowedHosts?: string[] } = {}) {
  const memory = memoryTriggerModel(['web', 'batch']);
  const recorder = recordingScheduler();
  const stub = stubApp({ triggerModel: memory.model, triggerScheduler: recorder.scheduler, counterAllowedHosts: options.counterAllowedHosts });
  const call = async (path: string, init?: RequestInit) => {
    const response = await stub.app.request(path, init);
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> & ErrorBody };
  };
  return { ...memory, synced: recorder.synced, stub, call };
}

async function withCounterAndTrigger() {
  const context = setup();
  expect((await context.call('/api/counters/cpu-busy', json('PUT', cpuBusy))).status).toBe(201);
  expect((await context.call('/api/triggers/scale-out', json('PUT', scaleOut))).status).toBe(201);
  context.synced.length = 0;
  return context;
}

describe('counters', () => {
  it('are created (201), replaced (200), read and listed with their decimal threshold as given', async () => {
    const { call } = setup();
    const created = await call('/api/counters/cpu-busy', json('PUT', cpuBusy));
    expect(created.status).toBe(201);
    expect(created.body.counter).toMatchObject({ name: 'cpu-busy', ...cpuBusy });
    const replaced = await call('/api/counters/cpu-busy', json('PUT', { ...cpuBusy, threshold: 0.3 }));
    expect(replaced.status).toBe(200);
    expect((await call('/api/counters/cpu-busy')).body.counter).toMatchObject({ threshold: 0.3 });
    await call('/api/counters/errors', json('PUT', httpCounter('http://127.0.0.1:9100/metrics')));
    expect(((await call('/api/counters')).body.counters as { name: string }[]).map((c) => c.name)).toEqual(['cpu-busy', 'errors']);
  });

  it.each([
    ['a threshold that is not a number', { ...cpuBusy, threshold: '70' }, 'threshold'],
    ['an unknown comparison', { ...cpuBusy, comparison: '>>' }, 'comparison'],
    ['a script over 64 KiB', { ...cpuBusy, script: 'x'.repeat(MAX_COUNTER_SCRIPT_BYTES + 1) }, 'script'],
    ['an unknown kind', { ...cpuBusy, kind: 'snmp' }, 'kind'],
    ['a URL outside COUNTER_ALLOWED_HOSTS', httpCounter('http://metrics.example.com:9100/metrics'), 'url'],
  ])('refuses %s with 400 naming the field, and stores nothing', async (_, body, field) => {
    const { call, counters } = setup();
    const refused = await call('/api/counters/cpu-busy', json('PUT', body));
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'validation_failed', field });
    expect(counters.size).toBe(0);
  });

  it('takes a script of exactly 64 KiB', async () => {
    const { call } = setup();
    expect((await call('/api/counters/big', json('PUT', { ...cpuBusy, script: 'x'.repeat(MAX_COUNTER_SCRIPT_BYTES) }))).status).toBe(201);
  });

  it('refuses a body over the API limit with 413 before parsing it', async () => {
    const { call, counters } = setup();
    const refused = await call('/api/counters/huge', json('PUT', { ...cpuBusy, script: 'x'.repeat(1024 * 1024 + 1) }));
    expect(refused.status).toBe(413);
    expect(refused.body.error.code).toBe('payload_too_large');
    expect(counters.size).toBe(0);
  });

  it('answers 404 for a counter that does not exist, and 400 for a name that is not a slug', async () => {
    const { call } = setup();
    expect((await call('/api/counters/nope')).body.error.code).toBe('unknown_counter');
    expect((await call('/api/counters/nope', { method: 'DELETE' })).status).toBe(404);
    const badName = await call('/api/counters/CPU_Busy', json('PUT', cpuBusy));
    expect(badName.status).toBe(400);
    expect(badName.body.error.field).toBe('name');
  });

  it('cannot be deleted while a trigger reads it (409 naming the trigger), and can once the trigger is gone', async () => {
    const { call, counters } = await withCounterAndTrigger();
    const refused = await call('/api/counters/cpu-busy', { method: 'DELETE' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'in_use', triggers: ['scale-out'] });
    expect(counters.has('cpu-busy')).toBe(true);
    expect((await call('/api/triggers/scale-out', { method: 'DELETE' })).status).toBe(204);
    expect((await call('/api/counters/cpu-busy', { method: 'DELETE' })).status).toBe(204);
    expect(counters.has('cpu-busy')).toBe(false);
  });

  it('cannot move its threshold past the clear threshold of a trigger that reads it (409)', async () => {
    const { call } = await withCounterAndTrigger();
    await call('/api/triggers/scale-out', json('PUT', { ...scaleOut, clearThreshold: 60 }));
    const refused = await call('/api/counters/cpu-busy', json('PUT', { ...cpuBusy, threshold: 50 }));
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'clear_threshold_conflict', triggers: ['scale-out'] });
    expect((await call('/api/counters/cpu-busy', json('PUT', { ...cpuBusy, threshold: 80 }))).status).toBe(200);
  });
});

describe('an http counter’s host', () => {
  const allowed = ['127.0.0.1', 'localhost', '::1'];
  it.each([
    ['http://127.0.0.1:9100/metrics', undefined],
    ['https://LOCALHOST/jolokia/read/java.lang:type=Memory', undefined],
    ['http://[::1]:8080/x', undefined],
    ['http://{host}:9100/metrics', undefined],
    ['http://{node}:8778/jolokia?node={node}', undefined],
    ['http://metrics.example.com/x', /not in COUNTER_ALLOWED_HOSTS/],
    ['http://127.0.0.1@evil.example.com/x', /host evil\.example\.com is not in/],
    ['http://{node}.evil.example.com/x', /placeholder must be the whole host/],
    ['http://127.0.0.2/x', /not in COUNTER_ALLOWED_HOSTS/],
  ])('%s', (url, problem) => {
    const found = counterUrlProblem(url, allowed);
    if (problem) expect(found).toMatch(problem);
    else expect(found).toBeUndefined();
  });

  it('may be any host COUNTER_ALLOWED_HOSTS lists, and no longer loopback when it lists others', async () => {
    const { call } = setup({ counterAllowedHosts: ['metrics.internal'] });
    expect((await call('/api/counters/errors', json('PUT', httpCounter('http://metrics.internal:9100/metrics')))).status).toBe(201);
    const refused = await call('/api/counters/local', json('PUT', httpCounter('http://127.0.0.1:9100/metrics')));
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/^url: host 127\.0\.0\.1 is not in COUNTER_ALLOWED_HOSTS \(metrics\.internal\)/);
  });
});

describe('triggers', () => {
  it('are created with the schema’s defaults, read, replaced and listed, each change syncing the cluster', async () => {
    const { call, synced } = setup();
    await call('/api/counters/cpu-busy', json('PUT', cpuBusy));
    const created = await call('/api/triggers/scale-out', json('PUT', scaleOut));
    expect(created.status).toBe(201);
    expect(created.body.trigger).toMatchObject({ name: 'scale-out', enabled: true, cooldownMs: 300_000, keepFiringForMs: 0, chain: [{ kind: 'deploy-node', target: 'none', onFailure: 'stop' }, { kind: 'email' }] });
    expect(synced).toEqual(['web']);
    expect((await call('/api/triggers/scale-out', json('PUT', { ...scaleOut, clearThreshold: 65.5 }))).status).toBe(200);
    expect((await call('/api/triggers/scale-out')).body.trigger).toMatchObject({ clearThreshold: 65.5 });
    expect(synced).toEqual(['web', 'web']);
    expect(((await call('/api/triggers')).body.triggers as { name: string }[]).map((t) => t.name)).toEqual(['scale-out']);
  });

  it('moved to another cluster syncs both clusters', async () => {
    const { call, synced } = await withCounterAndTrigger();
    await call('/api/triggers/scale-out', json('PUT', { ...scaleOut, cluster: 'batch' }));
    expect(synced).toEqual(['batch', 'web']);
  });

  it('are listed by cluster, and an unknown cluster is 404', async () => {
    const { call } = await withCounterAndTrigger();
    await call('/api/triggers/batch-load', json('PUT', { ...scaleOut, cluster: 'batch' }));
    expect(((await call('/api/triggers?cluster=web')).body.triggers as { name: string }[]).map((t) => t.name)).toEqual(['scale-out']);
    expect(((await call('/api/triggers?cluster=batch')).body.triggers as { name: string }[]).map((t) => t.name)).toEqual(['batch-load']);
    expect((await call('/api/triggers?cluster=nowhere')).body.error.code).toBe('unknown_cluster');
  });

  it.each([
    ['heldForMs below intervalMs', { ...scaleOut, heldForMs: 5_000 }, 'heldForMs'],
    ['a chain with an unknown action kind', { ...scaleOut, chain: [{ kind: 'deploy-node' }, { kind: 'reboot-world' }] }, 'chain.1.kind'],
    ['an action missing its fields', { ...scaleOut, chain: [{ kind: 'email', title: 'x', content: '' }] }, 'chain.0.address'],
    ['no counter', { ...scaleOut, counters: [] }, 'counters'],
    ['an unknown combination', { ...scaleOut, combine: 'median' }, 'combine'],
    ['a clear threshold that is not a number', { ...scaleOut, clearThreshold: 'sixty' }, 'clearThreshold'],
    ['a clear threshold on the breaching side of a > counter', { ...scaleOut, clearThreshold: 75 }, 'clearThreshold'],
    ['an unknown field', { ...scaleOut, heldFor: 30_000 }, 'heldFor'],
  ])('refuse %s with 400 naming the field, store nothing and sync nothing', async (_, body, field) => {
    const { call, triggers, synced } = setup();
    await call('/api/counters/cpu-busy', json('PUT', cpuBusy));
    const refused = await call('/api/triggers/scale-out', json('PUT', body));
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'validation_failed', field });
    expect(triggers.size).toBe(0);
    expect(synced).toEqual([]);
  });

  it('take a clear threshold on the clearing side: at most a > counter’s threshold, at least a < counter’s', async () => {
    const { call } = setup();
    await call('/api/counters/cpu-busy', json('PUT', cpuBusy));
    await call('/api/counters/cpu-idle', json('PUT', { ...cpuBusy, comparison: '<', threshold: 20 }));
    expect((await call('/api/triggers/out', json('PUT', { ...scaleOut, clearThreshold: 70.25 }))).status).toBe(201);
    expect((await call('/api/triggers/in', json('PUT', { ...scaleOut, counters: ['cpu-idle'], clearThreshold: 25 }))).status).toBe(201);
    const wrongSide = await call('/api/triggers/in', json('PUT', { ...scaleOut, counters: ['cpu-idle'], clearThreshold: 15 }));
    expect(wrongSide.body.error).toMatchObject({ field: 'clearThreshold', message: "clearThreshold: must be at least the counter's threshold 20 (it breaches when < 20)" });
  });

  it('on an unknown cluster are 404, on an unknown counter 422 naming it', async () => {
    const { call, synced } = setup();
    await call('/api/counters/cpu-busy', json('PUT', cpuBusy));
    const noCluster = await call('/api/triggers/scale-out', json('PUT', { ...scaleOut, cluster: 'nowhere' }));
    expect(noCluster.status).toBe(404);
    expect(noCluster.body.error.code).toBe('unknown_cluster');
    const noCounter = await call('/api/triggers/scale-out', json('PUT', { ...scaleOut, counters: ['cpu-busy', 'mem-used'] }));
    expect(noCounter.status).toBe(422);
    expect(noCounter.body.error).toMatchObject({ code: 'unknown_counter', field: 'counters', counters: ['mem-used'] });
    expect(noCounter.body.error.message).toContain('"mem-used"');
    expect(synced).toEqual([]);
  });

  it('are disabled and enabled by an operator, each syncing the cluster; an operator cannot edit one (403)', async () => {
    const { call, stub, synced } = await withCounterAndTrigger();
    const operator = asToken(stub.anonymous, unitTokens.operator);
    const disabled = await operator.request('/api/triggers/scale-out/disable', { method: 'POST' });
    expect(disabled.status).toBe(200);
    expect(((await disabled.json()) as { trigger: { enabled: boolean } }).trigger.enabled).toBe(false);
    expect((await call('/api/triggers/scale-out')).body.trigger).toMatchObject({ enabled: false });
    expect((await operator.request('/api/triggers/scale-out/enable', { method: 'POST' })).status).toBe(200);
    expect((await call('/api/triggers/scale-out')).body.trigger).toMatchObject({ enabled: true });
    expect(synced).toEqual(['web', 'web']);
    expect((await operator.request('/api/triggers/scale-out', json('PUT', scaleOut))).status).toBe(403);
    expect((await operator.request('/api/counters/cpu-busy', json('PUT', cpuBusy))).status).toBe(403);
    expect((await asToken(stub.anonymous, unitTokens.viewer).request('/api/triggers/scale-out/disable', { method: 'POST' })).status).toBe(403);
  });

  it('that do not exist are 404 to read, delete, enable or disable, and sync nothing', async () => {
    const { call, synced } = setup();
    for (const [path, init] of [['/api/triggers/nope', undefined], ['/api/triggers/nope', { method: 'DELETE' }], ['/api/triggers/nope/enable', { method: 'POST' }], ['/api/triggers/nope/disable', { method: 'POST' }]] as const) {
      const answer = await call(path, init);
      expect(answer.status, `${init?.method ?? 'GET'} ${path}`).toBe(404);
      expect(answer.body.error.code).toBe('unknown_trigger');
    }
    expect(synced).toEqual([]);
  });

  it('deleted sync their cluster', async () => {
    const { call, synced, triggers } = await withCounterAndTrigger();
    expect((await call('/api/triggers/scale-out', { method: 'DELETE' })).status).toBe(204);
    expect(triggers.size).toBe(0);
    expect(synced).toEqual(['web']);
  });
});
