// One long-running workflow per target holds the CPU-load switch. While ON it keeps `parallelism`
// burn slices running on the load workers' task queue; OFF (by signal, update or TTL) cancels
// them. The switch is mirrored in memcached under the seed's `CPULoad` key, and the workflow
// continues as new, carrying its state, before its history grows long. An ON lasts at most
// `maxTtlMs`; a workflow left OFF with no switch for `idleMs` completes (the next switch starts it again).
import {
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
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
  MAX_CPU_LOAD_TTL_MS,
  cpuLoadDefaults,
  cpuLoadInputSchema,
  cpuLoadMemcachedKey,
  cpuLoadStatusQuery,
  cpuLoadSwitchSchemaFor,
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
    maxTtlMs: input.maxTtlMs ?? cpuLoadDefaults.maxTtlMs,
    idleMs: input.idleMs ?? cpuLoadDefaults.idleMs,
  };
}

/** Returns its final status once it has been OFF, with no switch, for `idleMs`. */
export async function cpuLoad(input: CpuLoadInput = {}): Promise<CpuLoadStatus> {
  const settings = settingsOf(input);
  // Runs started before the bounds keep their unbounded TTLs and never end, as their histories recorded.
  const bounded = patched('cpu-load-bounds');
  const maxTtlMs = bounded ? settings.maxTtlMs : MAX_CPU_LOAD_TTL_MS;
  const switchSchema = cpuLoadSwitchSchemaFor(maxTtlMs);
  if (bounded) settings.ttlMs = Math.min(settings.ttlMs, maxTtlMs);
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
    maxTtlMs,
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
    const problem = problemOf(switchSchema, request);
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
        const problem = problemOf(switchSchema, request);
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

  /** Waits while OFF for a switch (or continue-as-new); false when none came within the idle period. */
  const awaitSwitch = async () => {
    const woken = () => mirrored !== generation || continueAsNewDue();
    if (bounded) return (await condition(woken, settings.idleMs)) || woken();
    await condition(woken);
    return true;
  };

  for (;;) {
    let idle = false;
    for (;;) {
      if (mirrored !== generation) await mirror();
      else if (continueAsNewDue()) break;
      else if (state === 'ON') await runLoad();
      else if (!(await awaitSwitch())) {
        idle = true;
        break;
      }
    }

    // Let running handlers (an update waits for its memcached mirror) finish, then start afresh or end.
    const seen = generation;
    while (!(allHandlersFinished() && mirrored === generation)) {
      if (mirrored !== generation) await mirror();
      else await condition(() => allHandlersFinished() || mirrored !== generation);
    }
    if (!idle) break;
    // A switch that came while ending is not dropped: the workflow goes on with it.
    if (generation === seen && state === 'OFF') return status();
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
