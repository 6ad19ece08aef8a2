// The closed autoscaling loop's parts on the real stack (sshd, moto, MariaDB, memcached): the example
// counter and triggers seeded as a fresh stack seeds them (and left alone once edited), and real
// chains bounded by the cluster's min and max, acting on its newest node.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../server/app.ts';
import type { StoredCounter, StoredTrigger } from '../db/triggers.ts';
import { CPU_BUSY_SCRIPT, seedExampleLoop } from '../scripts/localFleet.ts';
import type { NodeRecord } from '../workflows/nodes.shared.ts';
import type { TriggerChainStatus } from '../workflows/triggers.shared.ts';
import { requestJson, useStack } from './support/fixture.ts';
import { createCluster, fastTimings } from './support/nodes.ts';

describe('the closed loop on the real stack', () => {
  const stack = useStack();
  const { env, suffix } = stack;
  let app: App;
  const tag = suffix.replace(/[^a-z0-9]/g, '').slice(-10);
  const counter = `cpu${tag}`;
  const nodesOf = async (cluster: string) => (await requestJson<{ nodes: NodeRecord[] }>(app, 'GET', `/api/clusters/${cluster}`)).body.nodes;
  const runChain = async (trigger: string) => {
    const run = await requestJson<{ workflowId: string; runId: string }>(app, 'POST', `/api/triggers/${trigger}/run`);
    expect(run.status, JSON.stringify(run.body)).toBe(202);
    return env.client.workflow.getHandle<() => Promise<TriggerChainStatus>>(run.body.workflowId, run.body.runId).result();
  };

  beforeAll(() => {
    app = stack.app;
  });

  it('seeds the example counter, both triggers and a node to sample, and leaves an edited trigger as edited', async () => {
    const cluster = await createCluster(app, { minNodes: 1, maxNodes: 3 });
    const options = { cluster, counter };
    const created = await seedExampleLoop(env.config, { suffix, options });
    expect(created).toEqual([expect.stringMatching(new RegExp(`^node ${cluster}`)), `counter ${counter}`, `trigger ${cluster}-scale-out`, `trigger ${cluster}-scale-in`]);

    // Present through the API, as seeded: the SSH counter and the two triggers over it.
    const seededCounter = await requestJson<{ counter: StoredCounter }>(app, 'GET', `/api/counters/${counter}`);
    expect(seededCounter.body.counter).toMatchObject({ kind: 'ssh', script: CPU_BUSY_SCRIPT });
    const out = await requestJson<{ trigger: StoredTrigger }>(app, 'GET', `/api/triggers/${cluster}-scale-out`);
    expect(out.body.trigger).toMatchObject({ cluster, counters: [counter], combine: 'avg', comparison: '>', threshold: 70, heldForMs: 30_000, cooldownMs: 60_000, intervalMs: 10_000 });
    expect(out.body.trigger.chain.map((a) => a.kind)).toEqual(['deploy-node', 'email']);
    const inward = await requestJson<{ trigger: StoredTrigger }>(app, 'GET', `/api/triggers/${cluster}-scale-in`);
    expect(inward.body.trigger).toMatchObject({ comparison: '<', threshold: 20, heldForMs: 60_000, chain: [{ kind: 'remove-node', target: 'lastnode' }] });
    expect(await nodesOf(cluster)).toEqual([expect.objectContaining({ state: 'active', sshHost: env.config.ssh.sshd.addresses[0] })]);
    // Its schedule ticks at the triggers' interval.
    const sampling = await requestJson<{ schedule: { intervalMs: number; paused: boolean } }>(app, 'GET', `/api/clusters/${cluster}/sampling`);
    expect(sampling.body.schedule).toMatchObject({ intervalMs: 10_000, paused: false });

    // The counter really reads the CPU: a whole percentage, over SSH on the registered node.
    const tried = await requestJson<{ samples: { value: number | null; error?: string }[] }>(app, 'POST', `/api/counters/${counter}/test`, { cluster });
    expect(tried.status, JSON.stringify(tried.body)).toBe(200);
    const value = tried.body.samples[0]?.value;
    expect(Number.isInteger(value) && value! >= 0 && value! <= 100, JSON.stringify(tried.body)).toBe(true);

    // An operator's edit survives the next start's seeding; nothing is created twice.
    const edited = await requestJson(app, 'PUT', `/api/triggers/${cluster}-scale-out`, { ...definition(out.body.trigger), threshold: 85 });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expect(await seedExampleLoop(env.config, { suffix, options })).toEqual([]);
    expect((await requestJson<{ trigger: StoredTrigger }>(app, 'GET', `/api/triggers/${cluster}-scale-out`)).body.trigger.threshold).toBe(85);
    expect(await nodesOf(cluster)).toHaveLength(1);

    for (const name of ['scale-out', 'scale-in']) await requestJson(app, 'DELETE', `/api/triggers/${cluster}-${name}`);
  }, 60_000);

  it('shows the example cluster’s node count and trigger states beside the CPU chart, in the refreshed panel', async () => {
    // The test stack's `web` may be gone (another file's requests may delete clusters): make it when absent.
    if ((await app.request('/api/clusters/web')).status === 404) await createCluster(app, { name: 'web', minNodes: 0, maxNodes: 5 });
    const web = (await nodesOf('web')).filter((n) => n.state === 'active').length;
    const panel = await app.request('/ui/partials/cpu-load/default', { headers: { accept: 'text/html' } });
    expect(panel.status).toBe(200);
    const html = await panel.text();
    expect(html).toContain('<figure class="cpu-chart">');
    expect(html).toMatch(new RegExp(`data-cluster="web" data-active-nodes="${web}"`));
  });

  describe('a chain bounded by min and max', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-lastnode-'));
    const ranOn = join(dir, 'ran-on');
    let cluster: string;
    let first: string;
    const trigger = `bounds${tag}`;
    const defineChain = async (chain: unknown[]) => {
      const put = await requestJson(app, 'PUT', `/api/triggers/${trigger}`, { cluster, counters: [counter], intervalMs: 60_000, heldForMs: 60_000, enabled: false, chain });
      expect(put.status, JSON.stringify(put.body)).toBeLessThan(300);
    };

    beforeAll(async () => {
      cluster = await createCluster(app, { minNodes: 1, maxNodes: 2 });
      const registered = await requestJson<{ node: NodeRecord }>(app, 'POST', `/api/clusters/${cluster}/nodes/register`, { hostname: env.config.ssh.sshd.addresses[0]!, port: env.config.ssh.sshd.port });
      expect(registered.status, JSON.stringify(registered.body)).toBe(201);
      first = registered.body.node.name;
      // The counter is the seeded one (the first test made it); define it again for a file run alone.
      await requestJson(app, 'PUT', `/api/counters/${counter}`, { kind: 'ssh', comparison: '>', threshold: 70, script: CPU_BUSY_SCRIPT });
    });
    afterAll(async () => {
      await requestJson(app, 'DELETE', `/api/triggers/${trigger}`);
      rmSync(dir, { recursive: true, force: true });
    });

    it('deploys below max and then skips at max with the reason; a lastnode script runs on the newest node', async () => {
      await defineChain([
        { kind: 'deploy-node', timings: fastTimings },
        { kind: 'local-script', target: 'lastnode', script: `echo "$FLEET_NODE" >> ${ranOn}` },
      ]);
      const grown = await runChain(trigger);
      expect(grown.actions[0]).toMatchObject({ kind: 'deploy-node', status: 'succeeded', detail: expect.stringMatching(/^deployed /) });
      const nodes = await nodesOf(cluster);
      expect(nodes.filter((n) => n.state === 'active')).toHaveLength(2);
      const newest = grown.actions[0]!.detail!.replace('deployed ', '');
      expect(newest).not.toBe(first);
      // lastnode is the newest node (PyScaler took the first).
      expect(readFileSync(ranOn, 'utf8').trim().split('\n')).toEqual([newest]);

      const atMax = await runChain(trigger);
      expect(atMax.state).toBe('succeeded');
      expect(atMax.actions[0]).toMatchObject({ kind: 'deploy-node', status: 'skipped', detail: 'at maxNodes: 2 of 2 node(s)' });
      expect(await nodesOf(cluster)).toHaveLength(2);
    }, 180_000);

    it('removes the newest node above min, and skips at min with the reason', async () => {
      const before = (await nodesOf(cluster)).map((n) => n.name).sort();
      const newest = before.find((name) => name !== first)!;
      await defineChain([{ kind: 'remove-node', target: 'lastnode', timings: fastTimings }]);
      const shrunk = await runChain(trigger);
      expect(shrunk.actions[0]).toMatchObject({ kind: 'remove-node', status: 'succeeded', detail: `removed ${newest}` });
      expect((await nodesOf(cluster)).map((n) => n.name)).toEqual([first]);

      const atMin = await runChain(trigger);
      expect(atMin.state).toBe('succeeded');
      expect(atMin.actions[0]).toMatchObject({ kind: 'remove-node', status: 'skipped', detail: 'at minNodes: 1 of 1 node(s)' });
      expect((await nodesOf(cluster)).map((n) => n.name)).toEqual([first]);
    }, 120_000);
  });
});

/** A stored trigger as PUT takes it back. */
function definition(trigger: StoredTrigger) {
  const { name: _name, createdAt: _created, updatedAt: _updated, ...body } = trigger;
  return body;
}
