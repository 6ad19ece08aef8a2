// Counter and trigger definitions in the real MariaDB (db/triggers.ts): decimals read back exactly as
// given, the foreign keys refuse an unknown cluster or counter and a counter in use, and a trigger's
// counter links follow its definition. No workers: nothing here runs a workflow.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createFleetModel, FleetModelError } from '../db/nodes.ts';
import { createTriggerModel, TriggerModelError, type TriggerModel } from '../db/triggers.ts';
import { counterSchema, triggerSchema, type Counter, type Trigger } from '../workflows/triggers.shared.ts';
import { requestJson, useStack } from './support/fixture.ts';
import { createCluster } from './support/nodes.ts';

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const sshCounter = (name: string, threshold = 70): Counter => ({ name, ...counterSchema.parse({ kind: 'ssh', comparison: '>', threshold, script: 'echo 1' }) });
const trigger = (name: string, cluster: string, counters: string[], fields: Record<string, unknown> = {}): Trigger => ({
  name,
  ...triggerSchema.parse({ cluster, counters, intervalMs: 1000, heldForMs: 1000, chain: [{ kind: 'deploy-node' }], ...fields }),
});

/** What a refused call threw, for its code and names. */
async function refusal(work: Promise<unknown>): Promise<TriggerModelError> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TriggerModelError);
  return error as TriggerModelError;
}

describe('counter and trigger definitions in MySQL', () => {
  const stack = useStack({ workers: false });
  let model: TriggerModel;
  let cluster: string;
  let other: string;

  beforeAll(async () => {
    model = createTriggerModel(stack.env.clients.mysql);
    cluster = await createCluster(stack.app);
    other = await createCluster(stack.app);
  });

  it('reads decimal thresholds back exactly as given, the trigger’s clear threshold too', async () => {
    const thresholds = [0.1, 70.25, 1e-7, 123456789.123456, -0.5, 0.30000000000000004, 2 ** 53 + 2];
    for (const threshold of thresholds) {
      const name = unique('dec');
      await model.putCounter(sshCounter(name, threshold));
      expect((await model.getCounter(name))?.threshold).toBe(threshold);
    }
    const counter = unique('dec');
    await model.putCounter(sshCounter(counter, 0.7));
    const name = unique('dec');
    await model.putTrigger(trigger(name, cluster, [counter], { clearThreshold: 0.30000000000000004 }));
    expect((await model.getTrigger(name))?.clearThreshold).toBe(0.30000000000000004);
  });

  it('creates, then replaces a counter, saying which, and keeps every field of its kind', async () => {
    const name = unique('http');
    const http: Counter = { name, ...counterSchema.parse({ kind: 'http', comparison: '<=', threshold: 3.5, url: 'http://{host}:9100/metrics', format: 'prometheus', metric: 'node_load1', labels: { job: 'node' } }) };
    expect(await model.putCounter(http)).toEqual({ created: true });
    const first = await model.getCounter(name);
    expect(first).toMatchObject(http);
    expect(await model.putCounter(http)).toEqual({ created: false });
    expect(await model.putCounter({ ...http, threshold: 4 })).toEqual({ created: false });
    const second = await model.getCounter(name);
    expect(second).toMatchObject({ ...http, threshold: 4 });
    expect(second!.createdAt).toBe(first!.createdAt);
    expect((await model.listCounters()).map((c) => c.name)).toContain(name);
  });

  it('lists the named counters that exist, once each, for the tick', async () => {
    const [a, b] = [unique('a'), unique('b')];
    await model.putCounter(sshCounter(a));
    await model.putCounter(sshCounter(b));
    expect((await model.listCountersByName([b, a, b, unique('missing')])).map((c) => c.name)).toEqual([a, b].sort());
    expect(await model.listCountersByName([])).toEqual([]);
  });

  it('refuses a trigger on an unknown cluster or naming unknown counters, and stores nothing', async () => {
    const counter = unique('c');
    await model.putCounter(sshCounter(counter));
    const name = unique('t');
    expect((await refusal(model.putTrigger(trigger(name, unique('nowhere'), [counter])))).code).toBe('UnknownCluster');
    const [m1, m2] = [unique('missing'), unique('missing')];
    const unknown = await refusal(model.putTrigger(trigger(name, cluster, [m1, counter, m2])));
    expect(unknown.code).toBe('UnknownCounter');
    expect(unknown.names).toEqual([m1, m2]);
    expect(await model.getTrigger(name)).toBeUndefined();
  });

  it('keeps a counter a trigger reads (InUse naming it) until the trigger stops reading it', async () => {
    const [kept, replacement] = [unique('c'), unique('c')];
    await model.putCounter(sshCounter(kept));
    await model.putCounter(sshCounter(replacement));
    const name = unique('t');
    await model.putTrigger(trigger(name, cluster, [kept]));
    const inUse = await refusal(model.deleteCounter(kept));
    expect(inUse.code).toBe('InUse');
    expect(inUse.names).toEqual([name]);
    expect(await model.triggersUsingCounter(kept)).toEqual([name]);
    // Replacing the trigger's counters replaces its links.
    await model.putTrigger(trigger(name, cluster, [replacement]));
    expect(await model.triggersUsingCounter(kept)).toEqual([]);
    expect(await model.deleteCounter(kept)).toBe(true);
    expect(await model.deleteCounter(kept)).toBe(false);
    // Deleting the trigger takes its links along.
    expect((await model.deleteTrigger(name))?.counters).toEqual([replacement]);
    expect(await model.deleteTrigger(name)).toBeUndefined();
    expect(await model.deleteCounter(replacement)).toBe(true);
  });

  it('lists a cluster’s triggers, enables and disables one, and says where a moved trigger was', async () => {
    // A cluster of this test's own: the others leave triggers on theirs.
    const cluster = await createCluster(stack.app);
    const counter = unique('c');
    await model.putCounter(sshCounter(counter));
    const [t1, t2] = [unique('t'), unique('t')];
    expect(await model.putTrigger(trigger(t1, cluster, [counter]))).toEqual({ created: true, previousCluster: undefined });
    await model.putTrigger(trigger(t2, cluster, [counter], { enabled: false }));
    expect((await model.listTriggersOfCluster(cluster)).map((t) => [t.name, t.enabled])).toEqual([[t1, true], [t2, false]].sort());
    expect(await model.setTriggerEnabled(t2, true)).toMatchObject({ name: t2, enabled: true });
    expect(await model.setTriggerEnabled(t1, false)).toMatchObject({ name: t1, enabled: false });
    expect(await model.setTriggerEnabled(unique('none'), true)).toBeUndefined();
    expect(await model.putTrigger(trigger(t1, other, [counter]))).toEqual({ created: false, previousCluster: cluster });
    expect((await model.listTriggersOfCluster(cluster)).map((t) => t.name)).toEqual([t2]);
    expect(await model.getTrigger(t1)).toMatchObject({ cluster: other, chain: [{ kind: 'deploy-node', target: 'none', onFailure: 'stop' }] });
  });

  it('keeps a cluster that has triggers from being deleted', async () => {
    const doomed = await createCluster(stack.app);
    const counter = unique('c');
    await model.putCounter(sshCounter(counter));
    const name = unique('t');
    await model.putTrigger(trigger(name, doomed, [counter]));
    const fleet = createFleetModel(stack.env.clients.mysql);
    const error = await fleet.deleteCluster(doomed).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(FleetModelError);
    expect((error as FleetModelError).code).toBe('InUse');
    await model.deleteTrigger(name);
    await fleet.deleteCluster(doomed);
    expect(await model.clusterExists(doomed)).toBe(false);
  });

  it('serves the definitions through the API as stored', async () => {
    const counter = unique('api');
    const put = await requestJson(stack.app, 'PUT', `/api/counters/${counter}`, { kind: 'ssh', comparison: '>', threshold: 70.1, script: 'echo 71' });
    expect(put.status, JSON.stringify(put.body)).toBe(201);
    const name = unique('api');
    const created = await requestJson(stack.app, 'PUT', `/api/triggers/${name}`, { cluster, counters: [counter], intervalMs: 5000, heldForMs: 10_000, clearThreshold: 65.3 });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await requestJson(stack.app, 'GET', `/api/triggers/${name}`)).body).toMatchObject({ trigger: { name, cluster, counters: [counter], clearThreshold: 65.3, enabled: true } });
    expect((await requestJson(stack.app, 'DELETE', `/api/counters/${counter}`)).status).toBe(409);
    expect((await requestJson(stack.app, 'POST', `/api/triggers/${name}/disable`)).body).toMatchObject({ trigger: { enabled: false } });
    expect((await requestJson(stack.app, 'DELETE', `/api/triggers/${name}`)).status).toBe(204);
    expect((await requestJson(stack.app, 'DELETE', `/api/counters/${counter}`)).status).toBe(204);
  });
});
