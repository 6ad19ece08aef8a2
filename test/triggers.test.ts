// Triggers end to end on the real stack: the cluster's Temporal Schedule ticks every second, an SSH
// counter is sampled on a node (this machine's sshd), the trigger goes pending and fires once its
// condition has held, its chain mails through the SMTP sink, PyScaler's memcached keys follow the
// breach, the firing is in the trigger's history; by hand, a chain runs now (and not twice at once),
// a dry run explains itself, and pausing the cluster's sampling pauses its schedule.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../server/app.ts';
import type { ErrorBody } from '../api/errors.ts';
import type { TriggerStatus } from '../services/triggerRuns.ts';
import type { TriggerPreview } from '../activities/triggers/tick.ts';
import type { TriggerScheduleView } from '../services/triggerSchedules.ts';
import type { NodeRecord } from '../workflows/nodes.shared.ts';
import type { Sample, TriggerChainStatus } from '../workflows/triggers.shared.ts';
import { requestJson, useStack } from './support/fixture.ts';
import { createCluster, mailTo } from './support/nodes.ts';

describe('triggers on the real stack', () => {
  const stack = useStack();
  const { env } = stack;
  let app: App;
  let cluster: string;
  let node: string;
  // The counter reads a number from this file, which the test writes (the node is this machine).
  const dir = mkdtempSync(join(tmpdir(), 'fleet-counter-'));
  const valueFile = join(dir, 'value');
  const setValue = (value: string) => writeFileSync(valueFile, value);
  const counter = `load${stack.suffix.replace(/[^a-z0-9]/g, '').slice(-10)}`;
  const trigger = `${counter}-high`;
  const status = async () => (await requestJson<TriggerStatus>(app, 'GET', `/api/triggers/${trigger}/status`)).body;

  beforeAll(async () => {
    app = stack.app;
    cluster = await createCluster(app, { maxNodes: 3 });
    const registered = await requestJson<{ node: NodeRecord }>(app, 'POST', `/api/clusters/${cluster}/nodes/register`, { hostname: env.config.ssh.sshd.addresses[0]!, port: env.config.ssh.sshd.port });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    node = registered.body.node.name;
    setValue('10');
    expect((await requestJson(app, 'PUT', `/api/counters/${counter}`, { kind: 'ssh', comparison: '>', threshold: 50, script: `cat ${valueFile}` })).status).toBe(201);
  });
  afterAll(async () => {
    await requestJson(app, 'DELETE', `/api/triggers/${trigger}`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('goes pending when the counter breaches, fires once it has held, runs its chain, and clears', async () => {
    const created = await requestJson(app, 'PUT', `/api/triggers/${trigger}`, {
      cluster,
      counters: [counter],
      combine: 'avg',
      intervalMs: 1000,
      // Long enough that a 1 s tick delayed by a loaded machine still shows the pending episode.
      heldForMs: 8000,
      cooldownMs: 1000,
      chain: [{ kind: 'email', address: `${cluster}@fleet.test`, title: '{trigger} fired', content: '{value} on {node} ({cause})' }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const sampling = await requestJson<{ schedule: TriggerScheduleView }>(app, 'GET', `/api/clusters/${cluster}/sampling`);
    expect(sampling.body.schedule).toMatchObject({ paused: false, intervalMs: 1000 });

    // Below the threshold: sampled, inactive, and PyScaler's breach count is 0.
    await vi.waitFor(async () => expect((await status()).state).toMatchObject({ state: 'inactive', values: { [counter]: 10 } }), { timeout: 20_000, interval: 250 });
    expect(await env.clients.memcached.get(`ssh_sshcounter.${node}.${counter}`).then((r) => r.value?.toString())).toBe('0');

    setValue('80');
    const pending = await vi.waitFor(async () => {
      const s = await status();
      expect(s.state.state).toBe('pending');
      return s;
    }, { timeout: 15_000, interval: 100 });
    const fired = await vi.waitFor(async () => {
      const s = await status();
      expect(s.firings.length).toBe(1);
      return s;
    }, { timeout: 20_000, interval: 100 });
    // Fired once the breach had held for heldFor (wall-clock time from the first breaching evaluation).
    expect(Date.parse(fired.firings[0]!.firedAt) - Date.parse(pending.state.since!)).toBeGreaterThanOrEqual(8000);
    expect(Number((await env.clients.memcached.get(`ssh_sshcounter.${node}.${counter}`)).value?.toString())).toBeGreaterThanOrEqual(2);

    // The chain mailed the firing's context, and the firing is recorded with a link to the chain run.
    await vi.waitFor(async () => expect(await mailTo(env.config, `${cluster}@fleet.test`)).toEqual([expect.objectContaining({ subject: `${trigger} fired`, text: expect.stringMatching(/^80 on n\/a \(schedule\)/) })]), { timeout: 15_000, interval: 200 });
    await vi.waitFor(async () => expect((await status()).firings[0]).toMatchObject({ cause: 'schedule', outcome: 'succeeded', webUiUrl: expect.stringContaining(encodeURIComponent(`trigger-chain:${cluster}:${trigger}`)) }), { timeout: 10_000, interval: 200 });

    // Still breaching: it stays firing and fires no more (one firing per episode).
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect((await status()).firings).toHaveLength(1);
    expect((await status()).state.state).toBe('firing');

    // Cleared: cooldown, then inactive.
    setValue('20');
    await vi.waitFor(async () => expect(['cooldown', 'inactive']).toContain((await status()).state.state), { timeout: 10_000, interval: 100 });
    await vi.waitFor(async () => expect((await status()).state.state).toBe('inactive'), { timeout: 10_000, interval: 100 });
    const samples = await requestJson<{ series: Record<string, Sample[]> }>(app, 'GET', `/api/triggers/${trigger}/samples?hours=1`);
    expect(samples.body.series[counter]!.map((s) => s.value)).toEqual(expect.arrayContaining([10, 80, 20]));
  });

  it('runs the chain by hand, once at a time (409 while it runs), explains a dry run, and pauses the cluster’s sampling', async () => {
    // A chain that takes a moment: a script on the newest node.
    const redefined = await requestJson(app, 'PUT', `/api/triggers/${trigger}`, {
      cluster,
      counters: [counter],
      intervalMs: 1000,
      heldForMs: 2000,
      chain: [{ kind: 'local-script', target: 'lastnode', script: 'sleep 2; echo slept' }],
    });
    expect(redefined.status, JSON.stringify(redefined.body)).toBe(200);
    const run = await requestJson<{ workflowId: string; runId: string }>(app, 'POST', `/api/triggers/${trigger}/run`);
    expect(run.status, JSON.stringify(run.body)).toBe(202);
    const again = await requestJson<ErrorBody>(app, 'POST', `/api/triggers/${trigger}/run`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('chain_running');
    const result = await env.client.workflow.getHandle(run.body.workflowId, run.body.runId).result();
    expect(result).toMatchObject({ state: 'succeeded', context: { cause: 'manual' }, actions: [{ kind: 'local-script', status: 'succeeded', detail: 'succeeded on 1 node(s)' }] });
    await vi.waitFor(async () => expect((await status()).firings[0]).toMatchObject({ cause: 'manual', outcome: 'succeeded' }), { timeout: 5000, interval: 100 });

    setValue('99');
    const preview = await requestJson<TriggerPreview>(app, 'POST', `/api/triggers/${trigger}/preview`);
    expect(preview.status, JSON.stringify(preview.body)).toBe(200);
    expect(preview.body.samples).toEqual([expect.objectContaining({ counter, node, value: 99 })]);
    expect(preview.body.evaluation).toMatchObject({ condition: 'breach', verdicts: [{ counter, condition: 'breach', value: 99 }] });

    const paused = await requestJson<{ schedule: TriggerScheduleView }>(app, 'POST', `/api/clusters/${cluster}/sampling/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body.schedule).toMatchObject({ paused: true, note: expect.stringMatching(/^paused by token:/) });
    const viewer = await stack.anonymousApp.request(`/api/clusters/${cluster}/sampling/resume`, { method: 'POST', headers: { authorization: `Bearer ${stack.tokens.viewer}` } });
    expect(viewer.status).toBe(403);
    expect((await requestJson(app, 'POST', '/api/clusters/nocluster/sampling/resume')).status).toBe(404);
  });

  it('stays pending through failed samples, and a trigger firing more often than its breaker allows disables itself, pauses its schedule and mails', async () => {
    const other = await createCluster(app, { maxNodes: 2 });
    const registered = await requestJson<{ node: NodeRecord }>(app, 'POST', `/api/clusters/${other}/nodes/register`, { hostname: env.config.ssh.sshd.addresses[0]!, port: env.config.ssh.sshd.port });
    expect(registered.status).toBe(201);
    const file = join(dir, 'flappy');
    const set = (value: string) => writeFileSync(file, value);
    set('10');
    const flappyCounter = `${counter}x`;
    const flappy = `${counter}-flappy`;
    expect((await requestJson(app, 'PUT', `/api/counters/${flappyCounter}`, { kind: 'ssh', comparison: '>', threshold: 50, script: `cat ${file}` })).status).toBe(201);
    const define = (heldForMs: number) =>
      requestJson(app, 'PUT', `/api/triggers/${flappy}`, { cluster: other, counters: [flappyCounter], intervalMs: 1000, heldForMs, cooldownMs: 0, circuitBreaker: { maxFirings: 2, windowMs: 120_000 }, chain: [] });
    const flappyStatus = async () => (await requestJson<TriggerStatus>(app, 'GET', `/api/triggers/${flappy}/status`)).body;
    const waitFor = <T>(check: () => Promise<T>) => vi.waitFor(check, { timeout: 15_000, interval: 100 });
    try {
      // Pending lasts 6 s: long enough to be seen between two status reads on a busy machine.
      expect((await define(6000)).status).toBe(201);
      await waitFor(async () => expect((await flappyStatus()).state.values).toEqual({ [flappyCounter]: 10 }));

      // Pending; then the script prints no number: those samples fail, and pending keeps its start.
      set('80');
      const pending = await waitFor(async () => {
        const s = await flappyStatus();
        expect(s.state.state).toBe('pending');
        return s.state;
      });
      set('not a number');
      await waitFor(async () => expect((await flappyStatus()).state.values).toEqual({ [flappyCounter]: null }));
      expect((await flappyStatus()).state).toMatchObject({ state: 'pending', since: pending.since });
      set('80');
      const fired = await waitFor(async () => {
        const s = await flappyStatus();
        expect(s.firings).toHaveLength(1);
        return s;
      });
      expect(Date.parse(fired.firings[0]!.firedAt) - Date.parse(pending.since!)).toBeGreaterThanOrEqual(6000);

      // Firing at each breach now: the second firing in the window is allowed, the third trips the breaker.
      expect((await define(0)).status).toBe(200);
      set('10');
      await waitFor(async () => expect((await flappyStatus()).state.state).toBe('inactive'));
      set('80');
      await waitFor(async () => expect((await flappyStatus()).firings).toHaveLength(2));
      set('10');
      await waitFor(async () => expect((await flappyStatus()).state.state).toBe('inactive'));
      set('80');
      await waitFor(async () => expect((await flappyStatus()).trigger.enabled).toBe(false));
      const after = await flappyStatus();
      expect(after.firings).toHaveLength(2);
      expect(after.schedule).toMatchObject({ paused: true });
      await waitFor(async () => expect(await mailTo(env.config, `${other}@fleet.test`)).toEqual([expect.objectContaining({ text: expect.stringContaining(`Trigger ${flappy} fired more often than its circuit breaker allows`) })]));
    } finally {
      await requestJson(app, 'DELETE', `/api/triggers/${flappy}`);
    }
  });

  it('runs a chain on the real workers: a failed script stops it, or with continue goes on to switch the CPU load and mail', async () => {
    const chained = `${counter}-chain`;
    const loadTarget = `t${stack.suffix.replace(/[^a-z0-9]/g, '').slice(-10)}`;
    const mailbox = `${cluster}-chain@fleet.test`;
    const define = (onFailure: 'stop' | 'continue') =>
      requestJson(app, 'PUT', `/api/triggers/${chained}`, {
        cluster,
        counters: [counter],
        intervalMs: 60_000,
        heldForMs: 60_000,
        chain: [
          { kind: 'local-script', target: 'lastnode', onFailure, script: 'echo broken >&2; exit 3' },
          { kind: 'cpu-load', loadTarget, state: 'ON', ttlSeconds: 60 },
          { kind: 'email', address: mailbox, title: '{trigger} after the script', content: 'on {cluster}' },
        ],
      });
    const runChain = async () => {
      const run = await requestJson<{ workflowId: string; runId: string }>(app, 'POST', `/api/triggers/${chained}/run`);
      expect(run.status, JSON.stringify(run.body)).toBe(202);
      return env.client.workflow.getHandle(run.body.workflowId, run.body.runId);
    };
    try {
      expect((await define('stop')).status).toBe(201);
      const stopped = await (await runChain()).result().catch((error: unknown) => error as Error);
      expect(stopped).toMatchObject({ cause: { type: 'ChainFailed', message: expect.stringContaining('local-script failed') } });
      expect((await requestJson<{ state: string }>(app, 'GET', `/api/cpu-load/${loadTarget}`)).body.state).toBe('OFF');
      expect(await mailTo(env.config, mailbox)).toEqual([]);

      expect((await define('continue')).status).toBe(200);
      const went = (await (await runChain()).result()) as TriggerChainStatus;
      expect(went.state).toBe('succeeded');
      expect(went.actions.map((a) => a.status)).toEqual(['failed', 'succeeded', 'succeeded']);
      expect((await requestJson<{ state: string }>(app, 'GET', `/api/cpu-load/${loadTarget}`)).body.state).toBe('ON');
      await vi.waitFor(async () => expect(await mailTo(env.config, mailbox)).toEqual([expect.objectContaining({ subject: `${chained} after the script`, text: expect.stringContaining(`on ${cluster}`) })]), { timeout: 10_000, interval: 200 });
      const firings = (await requestJson<TriggerStatus>(app, 'GET', `/api/triggers/${chained}/status`)).body.firings;
      expect(firings.map((f) => f.outcome)).toEqual(['succeeded', 'failed']);
    } finally {
      await requestJson(app, 'POST', `/api/cpu-load/${loadTarget}`, { state: 'OFF' });
      await requestJson(app, 'DELETE', `/api/triggers/${chained}`);
    }
  });
});
