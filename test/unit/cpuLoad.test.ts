// cpuLoad with stub activities on the time-skipping test server: an ON switches itself off when
// its TTL runs out, and a long history continues as new with the switch, its TTL and samples carried.
// An ON is bounded (a TTL over the maximum is refused), and a workflow left OFF ends once idle; the
// service's next switch starts a new run.
//
// The test server holds its clock while any activity is scheduled or running, so an hour can only
// be skipped while no slice is out: the TTL test's slices fail at once (no load worker can burn),
// and it is the lane's pause after each failure (5 s) that time skips through.
//
// The burn itself (burnCpu, in a mock activity context): a thread per slice, its CPU measured, ended
// at once by a cancellation, a slot ID per slice running at once.
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, inject, it, vi } from 'vitest';
import { activityInfo } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { createCpuBurnActivities, type BurnHeartbeat, type CpuBurnActivities, type CpuLoadActivities, type SliceEvent } from '../../activities/cpuLoad.ts';
import { createCpuLoadService } from '../../services/cpuLoad.ts';
import { cpuLoad } from '../../workflows/cpuLoad.ts';
import {
  cpuLoadStatusQuery,
  cpuLoadWorkflowId,
  setCpuLoadSignal,
  switchCpuLoadUpdate,
  type CpuLoadState,
  type CpuLoadStatus,
  type CpuSample,
} from '../../workflows/cpuLoad.shared.ts';
import { expectLogLines, heartbeatUntilCancelled, signalled, useWorkflowTestEnvironment } from './support/workflowEnv.ts';

const t = useWorkflowTestEnvironment();
expectLogLines(/^A CPU-load slice failed/);

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The memcached mirror as a stub: every write, in order. */
function stubMirror() {
  const writes: { key: string; value: CpuLoadState; expirySeconds: number }[] = [];
  const activities: Partial<CpuLoadActivities> = {
    async mirrorCpuLoadKey(request) {
      writes.push(request);
    },
  };
  return { activities, writes };
}

const sample = (n: number): CpuSample => ({
  workerId: 'stub@test', pid: 1, startedAt: new Date(n * 1000).toISOString(), endedAt: new Date(n * 1000 + 500).toISOString(), wallMs: 500, cpuMs: 490, cpuPercent: 98,
});

const waitForStatus = (query: () => Promise<CpuLoadStatus>, check: (status: CpuLoadStatus) => void): Promise<CpuLoadStatus> =>
  vi.waitFor(async () => {
    const status = await query();
    check(status);
    return status;
  }, { timeout: 5000, interval: 50 });

describe('cpuLoad (stub activities)', () => {
  it('switches an ON off by itself when its TTL runs out, even while no slice can burn', async () => {
    const mirror = stubMirror();
    let failedSlices = 0;
    const burn: Partial<CpuBurnActivities> = {
      async burnCpu() {
        failedSlices++;
        throw ApplicationFailure.nonRetryable('no load worker could burn the slice', 'StubFailure');
      },
    };
    const input = { target: 'ttl', ttlMs: MINUTE, sliceMs: 5000, loadTaskQueue: t.taskQueue };
    await t.withWorkflow(cpuLoad, { args: [input], activities: { ...mirror.activities, ...burn } }, async (handle) => {
      const query = () => handle.query(cpuLoadStatusQuery);
      await waitForStatus(query, (s) => expect(s.memcached?.value).toBe('OFF')); // a new target starts OFF
      await handle.signal(setCpuLoadSignal, { state: 'ON' });
      const on = await waitForStatus(query, (s) => expect(s).toMatchObject({ state: 'ON', memcached: { value: 'ON' } }));
      expect(Date.parse(on.expiresAt!) - Date.parse(on.lastChange.at)).toBe(MINUTE);

      await t.env.sleep(MINUTE - 10_000);
      const before = await query();
      expect(before.state).toBe('ON');
      expect(before.lastSliceError).toContain('no load worker could burn the slice');

      await t.env.sleep(20_000);
      const off = await waitForStatus(query, (s) => expect(s.state).toBe('OFF'));
      expect(off).toMatchObject({ lastChange: { by: 'ttl' }, expiresAt: null, runningSlices: 0, memcached: { value: 'OFF' }, continuedAsNew: 0 });
      const onFor = Date.parse(off.lastChange.at) - Date.parse(on.lastChange.at);
      expect(onFor).toBeGreaterThanOrEqual(MINUTE);
      expect(onFor).toBeLessThan(MINUTE + 5000);
      await handle.terminate();
    });
    // One slice every 5 s of the minute, and none after OFF.
    expect(failedSlices).toBeGreaterThanOrEqual(11);
    expect(failedSlices).toBeLessThanOrEqual(13);
    expect(mirror.writes).toEqual([
      { key: 'CPULoad:ttl', value: 'OFF', expirySeconds: 60 },
      { key: 'CPULoad:ttl', value: 'ON', expirySeconds: 60 },
      { key: 'CPULoad:ttl', value: 'OFF', expirySeconds: 60 },
    ]);
  });

  it('continues as new once its history reaches the threshold, carrying the switch, its TTL and the samples', async () => {
    const mirror = stubMirror();
    const nextRun = signalled<string>();
    const sliceCancelled = signalled();
    let firstRun = '';
    let slices = 0;
    const burn: Partial<CpuBurnActivities> = {
      // Quick slices in the first run, so its history grows; in the next run, one slice that burns until OFF.
      async burnCpu() {
        const runId = activityInfo().workflowExecution?.runId;
        if (runId === firstRun) return sample(++slices);
        nextRun.resolve(runId!);
        try {
          return await heartbeatUntilCancelled();
        } finally {
          sliceCancelled.resolve();
        }
      },
    };
    const input = { target: 'can', ttlMs: HOUR, loadTaskQueue: t.taskQueue, historyThreshold: 40 };
    await t.withWorkflow(cpuLoad, { args: [input], activities: { ...mirror.activities, ...burn } }, async (handle) => {
      firstRun = handle.firstExecutionRunId;
      await waitForStatus(() => handle.query(cpuLoadStatusQuery), (s) => expect(s.memcached?.value).toBe('OFF'));
      await handle.signal(setCpuLoadSignal, { state: 'ON' });
      const secondRun = await nextRun.promise;
      expect(secondRun).not.toBe(firstRun);

      const first = await t.env.client.workflow.getHandle(handle.workflowId, firstRun).describe();
      expect(first.status.name).toBe('CONTINUED_AS_NEW');
      expect(first.historyLength).toBeGreaterThanOrEqual(40);

      // The next run is still ON since the same signal, with the same expiry, and has the first run's samples.
      const after = await t.env.client.workflow.getHandle(handle.workflowId, secondRun).query(cpuLoadStatusQuery);
      expect(after).toMatchObject({ state: 'ON', continuedAsNew: 1, lastChange: { by: 'signal' }, slicesCompleted: slices });
      expect(after.since).toBe(after.lastChange.at);
      expect(Date.parse(after.expiresAt!) - Date.parse(after.lastChange.at)).toBe(HOUR);
      expect(slices).toBeGreaterThan(0);
      expect(after.samples).toEqual(Array.from({ length: slices }, (_, i) => sample(i + 1)));

      // The switch still works in the next run: OFF cancels its slice.
      await handle.signal(setCpuLoadSignal, { state: 'OFF' });
      await sliceCancelled.promise;
      await waitForStatus(() => handle.query(cpuLoadStatusQuery), (s) => expect(s).toMatchObject({ state: 'OFF', runningSlices: 0, memcached: { value: 'OFF' } }));
      // Terminated while the cancelled slice is still pending, the test server would keep its clock
      // locked for the tests after this one.
      await vi.waitFor(async () => expect((await handle.describe()).raw.pendingActivities ?? []).toHaveLength(0), { timeout: 5000, interval: 50 });
      await handle.terminate();
    });
    // The next run mirrors the switch once more, with the expiry that is left of the hour.
    expect(mirror.writes.map((w) => w.value)).toEqual(['OFF', 'ON', 'ON', 'OFF']);
    expect(mirror.writes[2]!.expirySeconds).toBeLessThanOrEqual(3600);
  });
});

describe('cpuLoad bounds (stub activities)', () => {
  const serviceOn = (idleMs: number) =>
    createCpuLoadService({
      temporal: t.env.client,
      controlTaskQueue: t.taskQueue,
      loadTaskQueue: t.taskQueue,
      loadWorkers: 1,
      links: { execution: (workflowId, runId) => `ui/${workflowId}/${runId}`, list: () => 'ui' },
      maxTtlMs: HOUR,
      workflowSettings: { idleMs },
    });

  it('replays a history recorded before the bounds unchanged (OFF for 2 h, a switch while OFF, an ON of 2 h, then OFF for 2 h, without ending)', async () => {
    // Recorded with the workflow as it was before patched('cpu-load-bounds'), on this test server.
    const recorded = readFileSync(new URL('fixtures/cpuLoad-before-bounds.history.pb', import.meta.url));
    const history = proto.temporal.api.history.v1.History.decode(recorded);
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('unitEnv').workflowBundlePath } }, history, 'cpu-load-old');
  });

  it('refuses a switch whose TTL is over the maximum, and bounds the default TTL by it', async () => {
    const mirror = stubMirror();
    const input = { target: 'max-ttl', ttlMs: 2 * HOUR, maxTtlMs: HOUR, loadTaskQueue: t.taskQueue };
    await t.withWorkflow(cpuLoad, { args: [input], activities: mirror.activities }, async (handle) => {
      const refused = await handle.executeUpdate(switchCpuLoadUpdate, { args: [{ state: 'ON', ttlMs: HOUR + 1 }] }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(String((refused as Error).cause)).toContain('ttlMs: must be a whole number from 1 to 3600000');
      // A signal over the maximum is ignored: the load stays OFF.
      await handle.signal(setCpuLoadSignal, { state: 'ON', ttlMs: HOUR + 1 });
      // (No ON is accepted here: a slice left out by the termination would hold the test server's clock.)
      expect(await handle.query(cpuLoadStatusQuery)).toMatchObject({ state: 'OFF', maxTtlMs: HOUR, ttlMs: HOUR, lastChange: { by: 'start' } });
      await handle.terminate();
    });
    // The API and the UI refuse it through the service, with a 400 naming the field and the maximum, before starting anything.
    const refused = await serviceOn(HOUR).switch('max-ttl-api', { state: 'ON', ttlSeconds: 3601 }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 400, message: 'ttlSeconds: must be a whole number from 1 to 3600', details: { field: 'ttlSeconds' } });
    const never = await t.env.client.workflow.getHandle(cpuLoadWorkflowId('max-ttl-api')).describe().catch((error: unknown) => error);
    expect(never).toMatchObject({ name: 'WorkflowNotFoundError' });
  });

  it('ends a workflow left OFF with no switch for the idle period, and not before', async () => {
    const mirror = stubMirror();
    const input = { target: 'idle', idleMs: MINUTE, loadTaskQueue: t.taskQueue };
    await t.withWorkflow(cpuLoad, { args: [input], activities: mirror.activities }, async (handle) => {
      await waitForStatus(() => handle.query(cpuLoadStatusQuery), (s) => expect(s.memcached?.value).toBe('OFF'));
      await t.env.sleep(MINUTE / 2);
      await handle.signal(setCpuLoadSignal, { state: 'OFF' }); // a switch restarts the idle period
      await waitForStatus(() => handle.query(cpuLoadStatusQuery), (s) => expect(s.lastChange.by).toBe('signal'));
      await t.env.sleep((3 * MINUTE) / 4);
      expect((await handle.describe()).status.name).toBe('RUNNING');

      await t.env.sleep(MINUTE / 2);
      await vi.waitFor(async () => expect((await handle.describe()).status.name).toBe('COMPLETED'), { timeout: 5000, interval: 50 });
      expect(await handle.result()).toMatchObject({ target: 'idle', state: 'OFF', lastChange: { by: 'signal' }, runningSlices: 0 });
    });
    expect(mirror.writes.map((w) => w.value)).toEqual(['OFF', 'OFF']);
  });

  it('reads an ended target as OFF, and a switch after the end starts a new run that works', async () => {
    const target = 'again';
    const mirror = stubMirror();
    const sliceStarted = signalled<string>();
    const sliceCancelled = signalled();
    const burn: Partial<CpuBurnActivities> = {
      async burnCpu() {
        sliceStarted.resolve(activityInfo().workflowExecution!.runId);
        try {
          return await heartbeatUntilCancelled();
        } finally {
          sliceCancelled.resolve();
        }
      },
    };
    const service = serviceOn(MINUTE);
    const input = { target, idleMs: MINUTE, loadTaskQueue: t.taskQueue };
    const run = { args: [input] as [typeof input], activities: { ...mirror.activities, ...burn }, workflowId: cpuLoadWorkflowId(target) };
    await t.withWorkflow(cpuLoad, run, async (handle) => {
      await waitForStatus(() => handle.query(cpuLoadStatusQuery), (s) => expect(s.memcached?.value).toBe('OFF'));
      await t.env.sleep(2 * MINUTE);
      await vi.waitFor(async () => expect((await handle.describe()).status.name).toBe('COMPLETED'), { timeout: 5000, interval: 50 });
      expect(await service.read(target)).toMatchObject({ state: 'OFF', running: false });

      const on = await service.switch(target, { state: 'ON', ttlSeconds: 600 });
      expect(on).toMatchObject({ state: 'ON', running: true, lastChange: { by: 'update' }, memcached: { value: 'ON' } });
      const secondRun = await sliceStarted.promise;
      expect(secondRun).not.toBe(handle.firstExecutionRunId);
      expect(on.webUiUrl).toBe(`ui/${handle.workflowId}/${secondRun}`);
      expect(await service.read(target)).toMatchObject({ state: 'ON', running: true });

      const off = await service.switch(target, { state: 'OFF' });
      expect(off).toMatchObject({ state: 'OFF', running: true });
      await sliceCancelled.promise;
      await t.env.client.workflow.getHandle(handle.workflowId).terminate();
    });
    expect(mirror.writes.map((w) => w.value)).toEqual(['OFF', 'OFF', 'ON', 'OFF']);
  });
});

describe('burnCpu (the load slots: a thread per slice)', () => {
  /** The CPU time this process has used, in ms (every thread of it). */
  const processCpuMs = () => {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1000;
  };
  /** This thread's own CPU time, in ms (utime + stime, in USER_HZ = 100 ticks a second). */
  const thisThreadCpuMs = () => {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  };
  const burner = (events: SliceEvent[] = []) => createCpuBurnActivities({ workerId: 'lw@test', onSlice: (event) => events.push(event) });
  /** One slice of `sliceMs` run by `activities` in `env`, as a load slot's worker would. */
  const burn = (activities: CpuBurnActivities, sliceMs: number, env = new MockActivityEnvironment()): Promise<CpuSample> =>
    env.run(activities.burnCpu, { target: 'unit', sliceMs, lane: 0 });

  it('burns a slice in a thread of its own and reports that thread’s measured CPU, while this event loop stays free', async () => {
    const events: SliceEvent[] = [];
    const activities = burner(events);
    const env = new MockActivityEnvironment();
    const beats: BurnHeartbeat[] = [];
    env.on('heartbeat', (details: BurnHeartbeat) => beats.push(details));
    const delay = monitorEventLoopDelay({ resolution: 10 });
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 50);
    const mainCpuBefore = thisThreadCpuMs();
    delay.enable();
    const sample = await burn(activities, 1500, env);
    delay.disable();
    clearInterval(ticker);
    const mainCpuMs = thisThreadCpuMs() - mainCpuBefore;

    expect(sample).toMatchObject({ workerId: 'lw@test/1', pid: process.pid });
    expect(sample.wallMs).toBeGreaterThanOrEqual(1500);
    // The thread's own CPU, measured: busy (it shares two cores with the rest of the machine) and at most one core.
    expect(sample.cpuPercent).toBeGreaterThan(20);
    expect(sample.cpuPercent).toBeLessThanOrEqual(105);
    expect(sample.cpuMs).toBeLessThanOrEqual(sample.wallMs * 1.05);
    expect(events.at(-1)).toMatchObject({ type: 'end', outcome: 'completed', progress: { measure: 'thread', done: true } });
    // The burn was not on this thread: it used a small part of what the slice burnt, and its timers kept firing.
    expect(mainCpuMs).toBeLessThan(sample.cpuMs / 2);
    expect(ticks).toBeGreaterThanOrEqual(10); // 30 due; a loop blocked for the slice would see 1
    expect(delay.max / 1e6).toBeLessThan(500);
    // Heartbeats all along, each with the slot's ID and the CPU measured so far.
    expect(beats.length).toBeGreaterThanOrEqual(5);
    for (const beat of beats) expect(beat).toMatchObject({ workerId: 'lw@test/1', cpuPercent: expect.any(Number) });
    expect(beats.at(-1)!.cpuMs).toBeGreaterThan(0);
  });

  it('ends the thread at once when the slice is cancelled (OFF), and the process stops burning', async () => {
    const events: SliceEvent[] = [];
    const env = new MockActivityEnvironment();
    const firstBeat = new Promise<BurnHeartbeat>((resolve) => env.once('heartbeat', resolve));
    const running = burn(burner(events), 60_000, env);
    running.catch(() => undefined);
    expect((await firstBeat).workerId).toBe('lw@test/1');
    // Burning: the process uses a real share of a core.
    let cpu = processCpuMs();
    await new Promise((resolve) => setTimeout(resolve, 600));
    const burningMs = processCpuMs() - cpu;

    const cancelledAt = Date.now();
    env.cancel();
    await expect(running).rejects.toBeInstanceOf(CancelledFailure);
    expect(Date.now() - cancelledAt).toBeLessThan(2000);
    expect(events.at(-1)).toMatchObject({ type: 'end', outcome: 'cancelled' });
    // The thread is gone: over the next 600 ms the process is all but idle.
    cpu = processCpuMs();
    await new Promise((resolve) => setTimeout(resolve, 600));
    const afterMs = processCpuMs() - cpu;
    expect(burningMs).toBeGreaterThan(120);
    expect(afterMs).toBeLessThan(burningMs / 2);
  });

  it('gives each slice running at once a slot of its own, and a freed slot to the next slice', async () => {
    const activities = burner();
    const [a, b] = await Promise.all([burn(activities, 400), burn(activities, 600)]);
    expect([a.workerId, b.workerId].sort()).toEqual(['lw@test/1', 'lw@test/2']);
    expect(Date.parse(a.startedAt)).toBeLessThan(Date.parse(b.endedAt)); // they ran side by side
    expect((await burn(activities, 200)).workerId).toBe('lw@test/1');
  });
});
