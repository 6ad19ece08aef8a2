import { execFile } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { App } from '../server/app.ts';
import type { CpuLoadView } from '../services/cpuLoad.ts';
import type { ErrorBody } from '../api/errors.ts';
import { defaultLoadWorkerId, type SliceEvent } from '../activities/cpuLoad.ts';
import { hostEnv } from '../config.ts';
import { locateTemporalCli } from '../scripts/temporalCli.ts';
import { FleetDomain, FleetStatus } from '../temporal/searchAttributes.ts';
import { cpuLoad } from '../workflows/cpuLoad.ts';
import { healthCheck } from '../workflows/healthCheck.ts';
import { HEALTH_TASK_QUEUE } from '../workflows/healthCheck.shared.ts';
import {
  CPU_LOAD_CONTROL_TASK_QUEUE,
  CPU_LOAD_TASK_QUEUE,
  cpuLoadMemcachedKey,
  cpuLoadStatusQuery,
  cpuLoadWorkflowId,
  setCpuLoadSignal,
  switchCpuLoadUpdate,
  type CpuLoadInput,
  type CpuLoadStatus,
} from '../workflows/cpuLoad.shared.ts';
import { requestJson, useStack } from './support/fixture.ts';
import { serveForBrowser } from './support/browser.ts';
import { startWorkerProcess, uniqueSuffix, type WorkerProcess } from './support/stack.ts';

describe('CPU-load toggles (real Temporal and memcached; the product’s workers with 2 load slots, as the main worker runs them)', () => {
  const stack = useStack({
    workers: () => ({ loadSlots: 2, onSlice: (event) => slices.push(event) }),
    app: () => ({ cpuLoad: { controlTaskQueue: controlQueue, loadTaskQueue: idleLoadQueue, loadWorkers: 2, workflowSettings: { sliceMs: 300 } } }),
  });
  const { env, suffix } = stack;
  const controlQueue = CPU_LOAD_CONTROL_TASK_QUEUE + suffix;
  const loadQueue = CPU_LOAD_TASK_QUEUE + suffix;
  /** A load queue nobody polls: slices stay scheduled, so tests about the switch burn no CPU. */
  const idleLoadQueue = `no-load-worker${suffix}`;
  /** The slots' worker IDs: this process (the worker) and a slot number each. */
  const workerIds = [`${defaultLoadWorkerId()}/1`, `${defaultLoadWorkerId()}/2`];
  const slices: SliceEvent[] = [];
  const started: WorkflowHandle[] = [];
  let app: App;

  /** A target of this test run (unique, so parallel files and reruns never share a workflow). */
  const targetFor = (name: string) => `${name}${suffix}`;
  const slicesOf = (target: string) => slices.filter((e) => e.request.target === target);
  const memcachedValue = async (target: string) => (await env.clients.memcached.get(cpuLoadMemcachedKey(target))).value?.toString() ?? null;

  async function startTarget(target: string, input: Partial<CpuLoadInput> = {}) {
    const handle = await env.client.workflow.start(cpuLoad, {
      workflowId: cpuLoadWorkflowId(target),
      taskQueue: controlQueue,
      args: [{ target, loadTaskQueue: loadQueue, parallelism: 2, sliceMs: 300, ...input }],
    });
    started.push(handle);
    return handle;
  }
  const query = (handle: WorkflowHandle) => handle.query(cpuLoadStatusQuery);
  const waitForStatus = (handle: WorkflowHandle, check: (status: CpuLoadStatus) => void, timeout = 20_000) =>
    vi.waitFor(async () => {
      const status = await query(handle);
      check(status);
      return status;
    }, { timeout, interval: 100 });

  beforeAll(() => {
    app = stack.app;
  });
  afterEach(async () => {
    // The workflows run forever: end each test's, which also cancels any slice still burning.
    await Promise.all(started.splice(0).map((handle) => handle.terminate('test cleanup').catch(() => undefined)));
  });

  it('keeps the seed key CPULoad for the default target and a key per other target', () => {
    expect(cpuLoadMemcachedKey('default')).toBe('CPULoad');
    expect(cpuLoadMemcachedKey('web-2')).toBe('CPULoad:web-2');
    expect(cpuLoadWorkflowId('web-2')).toBe('cpu-load-web-2');
  });

  it('turned ON, runs a slice on every load slot at once, each in a thread reporting the CPU it measured', async () => {
    const target = targetFor('on');
    const handle = await startTarget(target);
    const before = Date.now();
    const status = await handle.executeUpdate(switchCpuLoadUpdate, { args: [{ state: 'ON' }] });
    expect(status).toMatchObject({ state: 'ON', parallelism: 2, lastChange: { by: 'update' } });
    expect(Date.parse(status.expiresAt!) - before).toBeGreaterThan(3_590_000); // the default TTL: 1 h

    const withSamples = await waitForStatus(handle, (s) => {
      expect(new Set(s.samples.map((sample) => sample.workerId))).toEqual(new Set(workerIds));
    });
    for (const sample of withSamples.samples) {
      expect(sample.pid).toBe(process.pid);
      expect(sample.wallMs).toBeGreaterThanOrEqual(295);
      // Busy slices: each thread used a share of a core, and never more than one, since it measured
      // itself alone. The share is small when other test files' processes crowd the two cores (10%
      // was seen in CI); a slice that slept would measure under 1%.
      expect(sample.cpuPercent).toBeGreaterThan(3);
      expect(sample.cpuPercent).toBeLessThanOrEqual(105);
      expect(sample.cpuMs).toBeGreaterThan(0);
    }
    // Both slots were busy at the same time: some of their slices overlap.
    const [a, b] = workerIds.map((id) => withSamples.samples.filter((sample) => sample.workerId === id).map((sample) => [Date.parse(sample.startedAt), Date.parse(sample.endedAt)]));
    expect(a!.some(([aStart, aEnd]) => b!.some(([bStart, bEnd]) => aStart! < bEnd! && bStart! < aEnd!))).toBe(true);

    const described = await handle.describe();
    expect(described.typedSearchAttributes.get(FleetDomain)).toBe('cpu-load');
    expect(described.typedSearchAttributes.get(FleetStatus)).toBe('on');
    await handle.executeUpdate(switchCpuLoadUpdate, { args: [{ state: 'OFF' }] });
  });

  it('turned OFF, cancels the running slices within one slice and starts no new one', async () => {
    const target = targetFor('off');
    const sliceMs = 8000; // long, so a slice that ends soon after the OFF was cancelled, not finished
    const handle = await startTarget(target, { sliceMs });
    await handle.executeUpdate(switchCpuLoadUpdate, { args: [{ state: 'ON' }] });
    await vi.waitFor(() => expect(new Set(slicesOf(target).filter((e) => e.type === 'start').map((e) => e.workerId)).size).toBe(2), {
      timeout: 15_000,
      interval: 50,
    });
    const running = slicesOf(target).filter((e) => e.type === 'start');
    const offAt = Date.now();
    const off = await handle.executeUpdate(switchCpuLoadUpdate, { args: [{ state: 'OFF' }] });
    const acknowledgedAt = Date.now();
    expect(off.state).toBe('OFF');
    expect(off.expiresAt).toBeNull();

    const ends = await vi.waitFor(
      () => {
        const ended = slicesOf(target).filter((e) => e.type === 'end');
        expect(ended).toHaveLength(running.length);
        return ended;
      },
      { timeout: sliceMs + 5000, interval: 20 },
    );
    for (const end of ends) {
      expect(end.outcome).toBe('cancelled'); // stopped by the OFF, not by the end of its slice
      expect(end.at - offAt).toBeLessThan(sliceMs / 2);
    }
    // Nothing new starts: not at the OFF, nor over the next slices' worth of time.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(slicesOf(target).filter((e) => e.type === 'start' && e.at > acknowledgedAt)).toEqual([]);
    expect(slicesOf(target).filter((e) => e.type === 'start')).toHaveLength(running.length);
    expect(await query(handle)).toMatchObject({ state: 'OFF', runningSlices: 0, slicesCompleted: 0 });
    expect((await handle.describe()).typedSearchAttributes.get(FleetStatus)).toBe('off');
  }, 40_000);

  it('keeps the worker responsive while every slot burns: its event loop stays free and a workflow completes promptly', async () => {
    const target = targetFor('busy');
    const handle = await startTarget(target, { sliceMs: 20_000 });
    await handle.executeUpdate(switchCpuLoadUpdate, { args: [{ state: 'ON' }] });
    await vi.waitFor(() => expect(slicesOf(target).filter((e) => e.type === 'start')).toHaveLength(2), { timeout: 15_000, interval: 50 });
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    try {
      // A health check (three probes, a MySQL record) and queries of the burning workflow, on this worker.
      for (let i = 0; i < 3; i++) {
        const began = Date.now();
        const report = await env.client.workflow.execute(healthCheck, { workflowId: `busy-${i}${suffix}`, taskQueue: HEALTH_TASK_QUEUE + suffix, args: [{}] });
        expect(report.healthy).toBe(true);
        expect((await query(handle)).runningSlices).toBe(2);
        expect(Date.now() - began).toBeLessThan(5000); // ~0.2 s on an idle machine; two burning cores shared with other files
      }
    } finally {
      delay.disable();
    }
    // Both slices still burning all the while, in threads: this thread's loop was never held up for long.
    expect(slicesOf(target).filter((e) => e.type === 'end')).toEqual([]);
    expect(delay.max / 1e6).toBeLessThan(1000);
    expect(delay.percentile(99) / 1e6).toBeLessThan(300);
    await handle.executeUpdate(switchCpuLoadUpdate, { args: [{ state: 'OFF' }] });
    await vi.waitFor(() => expect(slicesOf(target).filter((e) => e.type === 'end').map((e) => e.outcome)).toEqual(['cancelled', 'cancelled']), { timeout: 10_000, interval: 50 });
  }, 60_000);

  it('runs slices in a load worker of its own (`npm run load-worker`: workers/loadWorker.ts, CPU_LOAD_WORKERS slots)', async () => {
    const laneSuffix = uniqueSuffix();
    const loadWorker: WorkerProcess = startWorkerProcess({ FLEET_TASK_QUEUE_SUFFIX: laneSuffix, CPU_LOAD_WORKERS: '2' }, 'workers/loadWorker.ts');
    try {
      await loadWorker.ready;
      const target = targetFor('remote');
      const handle = await startTarget(target, { loadTaskQueue: CPU_LOAD_TASK_QUEUE + laneSuffix });
      await handle.executeUpdate(switchCpuLoadUpdate, { args: [{ state: 'ON' }] });
      const pid = loadWorker.child.pid!;
      const status = await waitForStatus(handle, (s) => expect(new Set(s.samples.map((sample) => sample.workerId)).size).toBe(2));
      expect(new Set(status.samples.map((sample) => sample.workerId))).toEqual(new Set([1, 2].map((slot) => `${pid}@${defaultLoadWorkerId().split('@')[1]}/${slot}`)));
      for (const sample of status.samples) {
        expect(sample.pid).toBe(pid);
        expect(sample.cpuPercent).toBeGreaterThan(12);
      }
      await handle.executeUpdate(switchCpuLoadUpdate, { args: [{ state: 'OFF' }] });
      expect(slicesOf(target)).toEqual([]); // none burnt in this process
    } finally {
      loadWorker.child.kill('SIGTERM');
      await loadWorker.exited;
    }
  }, 60_000);

  it('switches itself OFF when its TTL runs out, and the memcached key follows', async () => {
    const target = targetFor('ttl');
    const handle = await startTarget(target, { ttlMs: 1500, parallelism: 1 });
    const on = await handle.executeUpdate(switchCpuLoadUpdate, { args: [{ state: 'ON' }] });
    expect(await memcachedValue(target)).toBe('ON');
    expect(on.memcached).toMatchObject({ key: cpuLoadMemcachedKey(target), value: 'ON', expirySeconds: 2, ok: true });
    const onAt = Date.parse(on.since);
    expect(Date.parse(on.expiresAt!) - onAt).toBe(1500);

    const offStatus = await waitForStatus(handle, (s) => expect(s.state).toBe('OFF'), 15_000);
    expect(offStatus.lastChange.by).toBe('ttl');
    expect(Date.parse(offStatus.since) - onAt).toBeGreaterThanOrEqual(1500);
    expect(Date.parse(offStatus.since) - onAt).toBeLessThan(6000);
    await vi.waitFor(async () => expect(await memcachedValue(target)).toBe('OFF'), { timeout: 10_000, interval: 50 });
    // The load stopped with it.
    await vi.waitFor(() => expect(slicesOf(target).filter((e) => e.type === 'end')).toHaveLength(slicesOf(target).filter((e) => e.type === 'start').length), {
      timeout: 5000,
      interval: 50,
    });
  }, 40_000);

  it('mirrors every switch in memcached (the seed CPULoad key per target), with the TTL as expiry', async () => {
    const target = targetFor('mirror');
    const handle = await startTarget(target, { loadTaskQueue: idleLoadQueue, ttlMs: 120_000 });
    // A new workflow writes OFF first, as the seed's web app did with mc.add('CPULoad', 'OFF').
    await vi.waitFor(async () => expect(await memcachedValue(target)).toBe('OFF'), { timeout: 10_000, interval: 50 });
    const on = await handle.executeUpdate(switchCpuLoadUpdate, { args: [{ state: 'ON', ttlMs: 30_000 }] });
    expect(await memcachedValue(target)).toBe('ON');
    expect(on.memcached).toMatchObject({ value: 'ON', expirySeconds: 30, ok: true });
    expect(Date.parse(on.expiresAt!) - Date.parse(on.lastChange.at)).toBe(30_000);
    const off = await handle.executeUpdate(switchCpuLoadUpdate, { args: [{ state: 'OFF' }] });
    expect(await memcachedValue(target)).toBe('OFF');
    expect(off.memcached).toMatchObject({ value: 'OFF', expirySeconds: 120, ok: true });
  });

  it('switches by signal like by update (signal-with-start, as `temporal workflow signal-with-start` does)', async () => {
    const target = targetFor('signal');
    const handle = await env.client.workflow.signalWithStart(cpuLoad, {
      workflowId: cpuLoadWorkflowId(target),
      taskQueue: controlQueue,
      args: [{ target, loadTaskQueue: loadQueue, parallelism: 1, sliceMs: 300 }],
      signal: setCpuLoadSignal,
      signalArgs: [{ state: 'ON', ttlMs: 60_000 }],
    });
    started.push(handle);
    const on = await waitForStatus(handle, (s) => {
      expect(s.state).toBe('ON');
      expect(s.samples.length).toBeGreaterThan(0);
    });
    expect(on.lastChange.by).toBe('signal');
    expect(Date.parse(on.expiresAt!) - Date.parse(on.lastChange.at)).toBe(60_000);
    await vi.waitFor(async () => expect(await memcachedValue(target)).toBe('ON'), { timeout: 10_000, interval: 50 });

    // A bad signal cannot be refused: it is logged and ignored. The update's validator refuses it.
    await handle.signal(setCpuLoadSignal, { state: 'MAYBE' as never });
    const rejected = await handle.executeUpdate(switchCpuLoadUpdate, { args: [{ state: 'MAYBE' as never }] }).catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((rejected as WorkflowUpdateFailedError).cause)).toMatch(/state: must be "ON" or "OFF"/);
    expect((await query(handle)).state).toBe('ON');

    await handle.signal(setCpuLoadSignal, { state: 'OFF' });
    const off = await waitForStatus(handle, (s) => expect(s.state).toBe('OFF'));
    expect(off.lastChange.by).toBe('signal');
    await vi.waitFor(async () => expect(await memcachedValue(target)).toBe('OFF'), { timeout: 10_000, interval: 50 });
    await vi.waitFor(() => expect(slicesOf(target).filter((e) => e.type === 'end')).toHaveLength(slicesOf(target).filter((e) => e.type === 'start').length), {
      timeout: 5000,
      interval: 50,
    });
  });

  it('continues as new before its history grows long, carrying the state, the TTL and the samples', async () => {
    const target = targetFor('can');
    const historyThreshold = 60;
    const handle = await startTarget(target, { historyThreshold });
    const on = await handle.executeUpdate(switchCpuLoadUpdate, { args: [{ state: 'ON', ttlMs: 120_000 }] });
    const firstRun = (await handle.describe()).runId;
    const beforeHandOver = await waitForStatus(handle, (s) => expect(s.samples.length).toBeGreaterThanOrEqual(2));

    const after = await waitForStatus(handle, (s) => expect(s.continuedAsNew).toBeGreaterThanOrEqual(2), 30_000);
    expect((await handle.describe()).runId).not.toBe(firstRun);
    expect(after).toMatchObject({ state: 'ON', since: on.since, expiresAt: on.expiresAt });
    // The samples of the first run are still there, and more came after them.
    const key = (s: { workerId: string; startedAt: string }) => `${s.workerId}@${s.startedAt}`;
    const kept = new Set(after.samples.map(key));
    for (const sample of beforeHandOver.samples) expect(kept).toContain(key(sample));
    expect(after.slicesCompleted).toBeGreaterThan(beforeHandOver.slicesCompleted);

    // Each run's history stays near the threshold.
    const executions = await collectRuns(target);
    expect(executions.length).toBeGreaterThanOrEqual(3);
    for (const run of executions.filter((r) => r.status !== 'RUNNING')) expect(run.historyLength).toBeLessThan(historyThreshold + 30);

    // The switch still works on the new run, and memcached still mirrors it.
    expect(await memcachedValue(target)).toBe('ON');
    const off = await handle.executeUpdate(switchCpuLoadUpdate, { args: [{ state: 'OFF' }] });
    expect(off.state).toBe('OFF');
    expect(await memcachedValue(target)).toBe('OFF');
  }, 60_000);

  it('is switched by the README’s `temporal workflow` lines (start, signal, update, query, signal-with-start)', async () => {
    const target = targetFor('cli');
    const workflowId = cpuLoadWorkflowId(target);
    started.push(env.client.workflow.getHandle(workflowId));
    const cli = locateTemporalCli(env.config, hostEnv().PATH)!;
    // Asynchronously: this process runs the workers that must answer the update and the query.
    const temporal = async (...args: string[]) => (await promisify(execFile)(cli, [...args, '--address', env.config.temporal.address], { timeout: 30_000 })).stdout;
    // Results are encrypted: the README's reading lines go through the API's codec server, with a token.
    const api = await serveForBrowser(stack.anonymousApp.fetch);
    const codec = ['--codec-endpoint', `${api.url}/codec`, '--codec-auth', `Bearer ${stack.tokens.operator}`];
    const input = JSON.stringify({ parallelism: 1, sliceMs: 300, loadTaskQueue: loadQueue }); // the target comes from the workflow ID

    await temporal('workflow', 'start', '--type', 'cpuLoad', '--task-queue', controlQueue, '--workflow-id', workflowId, '--input', input);
    await temporal('workflow', 'signal', '--workflow-id', workflowId, '--name', 'setCpuLoad', '--input', '{"state": "ON"}');
    const handle = env.client.workflow.getHandle(workflowId);
    const on = await waitForStatus(handle, (s) => {
      expect(s).toMatchObject({ target, state: 'ON', lastChange: { by: 'signal' } });
      expect(s.samples.length).toBeGreaterThan(0);
    });
    expect(workerIds).toContain(on.samples[0]!.workerId);
    expect(JSON.parse(await temporal('workflow', 'query', '--workflow-id', workflowId, '--name', 'cpuLoadStatus', ...codec, '-o', 'json'))).toMatchObject({
      queryResult: [{ state: 'ON', target }],
    });
    const updated = await temporal('workflow', 'update', 'execute', '--workflow-id', workflowId, '--name', 'switchCpuLoad', '--input', '{"state": "OFF"}', ...codec, '-o', 'json');
    expect(updated).toMatch(/"state": "OFF"/);
    expect(await memcachedValue(target)).toBe('OFF');
    await temporal(
      'workflow', 'signal-with-start', '--workflow-id', workflowId, '--type', 'cpuLoad', '--task-queue', controlQueue, '--input', input,
      '--signal-name', 'setCpuLoad', '--signal-input', '{"state": "ON", "ttlMs": 600000}',
    );
    const again = await waitForStatus(handle, (s) => expect(s.state).toBe('ON'));
    expect(Date.parse(again.expiresAt!) - Date.parse(again.lastChange.at)).toBe(600_000);
    expect((await collectRuns(target)).length).toBe(1); // signal-with-start found the running workflow
    await handle.executeUpdate(switchCpuLoadUpdate, { args: [{ state: 'OFF' }] });
    api.server.close();
  }, 60_000);

  async function collectRuns(target: string) {
    const runs: { runId: string; status: string; historyLength: number }[] = [];
    for await (const info of env.client.workflow.list({ query: `WorkflowId = "${cpuLoadWorkflowId(target)}"` })) {
      runs.push({ runId: info.runId, status: info.status.name, historyLength: info.historyLength ?? 0 });
    }
    return runs;
  }

  describe('HTTP API', () => {
    const get = async (target: string) => (await requestJson<CpuLoadView>(app, 'GET', `/api/cpu-load/${target}`)).body;

    it('reports a target that was never switched as OFF, without starting anything', async () => {
      const target = targetFor('never');
      const response = await app.request(`/api/cpu-load/${target}`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ target, state: 'OFF', running: false, since: null, expiresAt: null, samples: [], parallelism: 2 });
      await expect(env.client.workflow.getHandle(cpuLoadWorkflowId(target)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    });

    it('PUT starts the target’s workflow and switches it ON; POST switches it OFF; GET follows', async () => {
      const target = targetFor('api');
      started.push(env.client.workflow.getHandle(cpuLoadWorkflowId(target)));
      const before = Date.now();
      const response = await requestJson<CpuLoadView>(app, 'PUT', `/api/cpu-load/${target}`, { state: 'ON', ttlSeconds: 90 });
      expect(response.status).toBe(200);
      const on = response.body;
      expect(on).toMatchObject({ target, state: 'ON', running: true, workflowId: cpuLoadWorkflowId(target), parallelism: 2, sliceMs: 300 });
      expect(on.webUiUrl).toMatch(new RegExp(`/workflows/${cpuLoadWorkflowId(target)}/[\\w-]+/history$`));
      expect(Date.parse(on.expiresAt!) - before).toBeGreaterThanOrEqual(89_000);
      expect(Date.parse(on.expiresAt!) - before).toBeLessThan(100_000);
      expect(await memcachedValue(target)).toBe('ON');
      expect(await get(target)).toMatchObject({ state: 'ON', expiresAt: on.expiresAt });

      // Again: the same workflow (USE_EXISTING), with a fresh TTL.
      const again = (await requestJson<CpuLoadView>(app, 'PUT', `/api/cpu-load/${target}`, { state: 'ON' })).body;
      expect(again.since).toBe(on.since);
      expect(Date.parse(again.expiresAt!) - before).toBeGreaterThan(3_500_000);
      expect((await collectRuns(target)).length).toBe(1);

      const off = await requestJson(app, 'POST', `/api/cpu-load/${target}`, { state: 'OFF' });
      expect(off.status).toBe(200);
      expect(off.body).toMatchObject({ state: 'OFF', expiresAt: null, lastChange: { by: 'update' } });
      expect(await memcachedValue(target)).toBe('OFF');
      expect((await get(target)).state).toBe('OFF');
    });

    it.each([
      ['an unknown state', 'bad-state', { state: 'MAYBE' }, 'state'],
      ['a negative TTL', 'bad-ttl', { state: 'ON', ttlSeconds: -1 }, 'ttlSeconds'],
      ['a fractional TTL', 'bad-ttl2', { state: 'ON', ttlSeconds: 1.5 }, 'ttlSeconds'],
      ['a TTL over the maximum (1 h)', 'long-ttl', { state: 'ON', ttlSeconds: 3601 }, 'ttlSeconds'],
      ['no state', 'no-state', { ttlSeconds: 60 }, 'state'],
      ['an unknown field', 'extra', { state: 'ON', desiredState: 'ON' }, 'desiredState'],
      ['an upper-case target', 'Bad-Target', { state: 'ON' }, 'target'],
      ['a target with an underscore', 'bad_target', { state: 'ON' }, 'target'],
      ['a target too long', 'x'.repeat(33), { state: 'ON' }, 'target'],
      ['a target ending in a hyphen', 'trailing-', { state: 'ON' }, 'target'],
    ])('answers 400 naming the field for %s, and starts nothing', async (_what, name, body, field) => {
      const target = field === 'target' ? name : targetFor(name);
      const response = await requestJson<ErrorBody>(app, 'PUT', `/api/cpu-load/${target}`, body);
      expect(response.status).toBe(400);
      const error = response.body.error;
      expect(error.code).toBe('validation_failed');
      expect(error.field).toBe(field);
      await expect(env.client.workflow.getHandle(cpuLoadWorkflowId(target)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    });

    it('answers 400 for a bad target on GET and for malformed JSON', async () => {
      const bad = await app.request('/api/cpu-load/Nope!');
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as ErrorBody).error.field).toBe('target');
      const malformed = await requestJson<ErrorBody>(app, 'PUT', `/api/cpu-load/${targetFor('json')}`, '{"state": ');
      expect(malformed.status).toBe(400);
      expect(malformed.body.error.code).toBe('invalid_json');
    });

    it('renders the CPU load page with the state, and refuses a bad target', async () => {
      const page = await app.request(`/cpu-load?target=${targetFor('page')}`);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('The current state of the load is <strong class="state off">OFF</strong>');
      expect(html).toContain(`hx-get="/ui/partials/cpu-load/${targetFor('page')}"`);
      expect(html).toContain('href="/cpu-load" class="active"');
      const bad = await app.request('/cpu-load?target=BAD');
      expect(bad.status).toBe(400);
    });

    it('sends the old /autoscaler address on to /cpu-load, target and all', async () => {
      const moved = await app.request(`/autoscaler?target=${targetFor('page')}`);
      expect(moved.status).toBe(301);
      expect(moved.headers.get('location')).toBe(`/cpu-load?target=${targetFor('page')}`);
    });
  });
});
