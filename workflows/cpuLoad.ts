// One long-running workflow per target holds the CPU-load switch. While ON it keeps `parallelism`
// burn slices running on the load workers' task queue; OFF (by signal, update or TTL) cancels
// them. The switch is mirrored in memcached under the seed's `CPULoad` key, and the workflow
// continues as new, carrying its state, before its history grows long.
import {
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CpuBurnActivities, CpuLoadActivities } from '../activities/cpuLoad.ts';
import { FleetDomain, FleetStatus } from '../temporal/searchAttributes.ts';
import {
  CPU_LOAD_TASK_QUEUE,
  DEFAULT_CPU_LOAD_TARGET,
  cpuLoadDefaults,
  cpuLoadInputSchema,
  cpuLoadMemcachedKey,
  cpuLoadStatusQuery,
  cpuLoadSwitchSchema,
  cpuLoadTargetOf,
  setCpuLoadSignal,
  switchCpuLoadUpdate,
  type CpuLoadChangeSource,
  type CpuLoadInput,
  type CpuLoadStatus,
  type CpuLoadSwitch,
  type CpuSample,
  type MemcachedMirror,
} from './cpuLoad.shared.ts';
import { problemOf, workflowInput } from './validation.shared.ts';

const { mirrorCpuLoadKey } = proxyActivities<CpuLoadActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3, initialInterval: '200 milliseconds' },
});

function settingsOf(rawInput: CpuLoadInput) {
  const input = workflowInput(cpuLoadInputSchema, rawInput);
  return {
    target: input.target ?? cpuLoadTargetOf(workflowInfo().workflowId) ?? DEFAULT_CPU_LOAD_TARGET,
    ttlMs: input.ttlMs ?? cpuLoadDefaults.ttlMs,
    sliceMs: input.sliceMs ?? cpuLoadDefaults.sliceMs,
    parallelism: input.parallelism ?? cpuLoadDefaults.parallelism,
    loadTaskQueue: input.loadTaskQueue ?? CPU_LOAD_TASK_QUEUE,
    historyThreshold: input.historyThreshold ?? cpuLoadDefaults.historyThreshold,
    maxSamples: input.maxSamples ?? cpuLoadDefaults.maxSamples,
  };
}

export async function cpuLoad(input: CpuLoadInput = {}): Promise<never> {
  const settings = settingsOf(input);
  const { burnCpu } = proxyActivities<CpuBurnActivities>({
    taskQueue: settings.loadTaskQueue,
    // No schedule-to-start limit: a slice waits for a load worker to come (back) up.
    startToCloseTimeout: settings.sliceMs + 60_000,
    // Detects a load worker that died mid-slice; the lane then schedules the next slice.
    heartbeatTimeout: '10 seconds',
    retry: { maximumAttempts: 1 },
  });

  const carried = input.carried;
  const now = () => new Date().toISOString();
  let state = carried?.state ?? 'OFF';
  let since = carried?.since ?? now();
  let expiresAt = carried?.expiresAt ? Date.parse(carried.expiresAt) : undefined;
  let lastChange = carried?.lastChange ?? { by: 'start' as CpuLoadChangeSource, at: now() };
  const samples: CpuSample[] = [...(carried?.samples ?? [])].slice(-settings.maxSamples);
  let slicesCompleted = carried?.slicesCompleted ?? 0;
  let memcached: MemcachedMirror | null = carried?.memcached ?? null;
  let lastSliceError: string | null = null;
  let runningSlices = 0;
  // Every change bumps the generation; the main loop mirrors each one to memcached. A new run
  // mirrors once too, so the key's expiry follows the TTL that remains.
  let generation = 1;
  let mirrored = 0;

  const status = (): CpuLoadStatus => ({
    target: settings.target,
    state,
    since,
    expiresAt: expiresAt === undefined ? null : new Date(expiresAt).toISOString(),
    lastChange,
    ttlMs: settings.ttlMs,
    sliceMs: settings.sliceMs,
    parallelism: settings.parallelism,
    loadTaskQueue: settings.loadTaskQueue,
    runningSlices,
    slicesCompleted,
    lastSliceError,
    continuedAsNew: carried?.continuedAsNew ?? 0,
    memcached,
    samples: [...samples],
  });

  const apply = (request: CpuLoadSwitch, by: CpuLoadChangeSource) => {
    const at = Date.now();
    if (state !== request.state) since = new Date(at).toISOString();
    state = request.state;
    // ON again while ON restarts the TTL, as the seed's `mc.set(..., time=3600)` did.
    expiresAt = state === 'ON' ? at + (request.ttlMs ?? settings.ttlMs) : undefined;
    lastChange = { by, at: new Date(at).toISOString() };
    generation++;
  };

  // An ON whose TTL ran out while the previous run was handing over ends right away.
  if (state === 'ON' && expiresAt !== undefined && expiresAt <= Date.now()) apply({ state: 'OFF' }, 'ttl');

  setHandler(cpuLoadStatusQuery, status);
  setHandler(setCpuLoadSignal, (request) => {
    const problem = problemOf(cpuLoadSwitchSchema, request);
    if (problem) log.warn('Ignored an invalid setCpuLoad signal', { problem });
    else apply(request, 'signal');
  });
  setHandler(
    switchCpuLoadUpdate,
    async (request) => {
      apply(request, 'update');
      const changed = generation;
      await condition(() => mirrored >= changed); // answer once memcached shows the switch
      return status();
    },
    {
      validator: (request) => {
        const problem = problemOf(cpuLoadSwitchSchema, request);
        if (problem) throw new Error(problem);
      },
    },
  );

  const continueAsNewDue = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= settings.historyThreshold;

  let searchStatus: string | undefined;
  const mirror = async () => {
    const target = generation;
    const value = state;
    const ttlLeftMs = value === 'ON' ? expiresAt! - Date.now() : settings.ttlMs;
    const expirySeconds = Math.max(1, Math.ceil(ttlLeftMs / 1000));
    if (searchStatus !== value) {
      upsertSearchAttributes([{ key: FleetDomain, value: 'cpu-load' }, { key: FleetStatus, value: value.toLowerCase() }]);
      searchStatus = value;
    }
    const key = cpuLoadMemcachedKey(settings.target);
    try {
      await mirrorCpuLoadKey({ key, value, expirySeconds });
      memcached = { key, value, expirySeconds, at: now(), ok: true };
    } catch (error) {
      // The switch lives in this workflow; memcached is a mirror, so its outage is reported, not fatal.
      log.warn('Could not mirror the CPU-load switch in memcached', { key, error: String(error) });
      memcached = { key, value, expirySeconds, at: now(), ok: false, error: String((error as Error).cause ?? error) };
    }
    mirrored = target;
  };

  const record = (sample: CpuSample) => {
    samples.push(sample);
    if (samples.length > settings.maxSamples) samples.splice(0, samples.length - settings.maxSamples);
    slicesCompleted++;
    lastSliceError = null;
  };

  /** Keeps `parallelism` slices running while the load is ON; returns once it is OFF or continue-as-new is due. */
  const runLoad = async () => {
    const slices = new CancellationScope();
    const lane = (index: number) =>
      slices.run(async () => {
        try {
          while (state === 'ON' && !continueAsNewDue()) {
            runningSlices++;
            try {
              record(await burnCpu({ target: settings.target, sliceMs: settings.sliceMs, lane: index }));
            } catch (error) {
              if (isCancellation(error)) throw error;
              lastSliceError = String((error as Error).cause ?? error);
              log.warn('A CPU-load slice failed; the next one starts shortly', { error: String(error) });
              await sleep(Math.min(settings.sliceMs, 5000)); // a persistent failure must not spin
            } finally {
              runningSlices--;
            }
          }
        } catch (error) {
          if (!isCancellation(error)) throw error;
        }
      });
    const lanes = Array.from({ length: settings.parallelism }, (_, index) => lane(index));

    while (state === 'ON' && !continueAsNewDue()) {
      if (mirrored !== generation) {
        await mirror();
        continue;
      }
      const generationSeen = generation;
      const changed = await condition(() => generation !== generationSeen || continueAsNewDue(), Math.max(1, expiresAt! - Date.now()));
      if (!changed) apply({ state: 'OFF' }, 'ttl');
    }
    slices.cancel(); // OFF now: the load workers see the cancellation at their next heartbeat
    await Promise.all(lanes);
  };

  for (;;) {
    if (mirrored !== generation) await mirror();
    else if (continueAsNewDue()) break;
    else if (state === 'ON') await runLoad();
    else await condition(() => mirrored !== generation || continueAsNewDue());
  }

  // Let running handlers (an update waits for its memcached mirror) finish, then start afresh.
  while (!(allHandlersFinished() && mirrored === generation)) {
    if (mirrored !== generation) await mirror();
    else await condition(() => allHandlersFinished() || mirrored !== generation);
  }
  return continueAsNew<typeof cpuLoad>({
    ...input,
    target: settings.target,
    carried: {
      state,
      since,
      expiresAt: expiresAt === undefined ? null : new Date(expiresAt).toISOString(),
      lastChange,
      samples,
      slicesCompleted,
      continuedAsNew: (carried?.continuedAsNew ?? 0) + 1,
      memcached,
    },
  });
}
