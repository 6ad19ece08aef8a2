// Vocabulary of the CPU-load domain (the seed's "CPU Load Worker", made durable), shared by the
// workflow, its activities, the load workers, the API, the UI and tests.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import * as z from 'zod/mini';
import { wholeNumber } from './validation.shared.ts';

/** Task queue of the cpuLoad workflows and their memcached activities (the main worker). */
export const CPU_LOAD_CONTROL_TASK_QUEUE = 'cpu-load-control';
/** Task queue of the burn activity; the main worker's load slots poll it, one slice per slot at a time. */
export const CPU_LOAD_TASK_QUEUE = 'cpu-load';

export const cpuLoadStates = ['ON', 'OFF'] as const;
export type CpuLoadState = (typeof cpuLoadStates)[number];

/** The target the seed had (its only one): it keeps the seed's exact memcached key. */
export const DEFAULT_CPU_LOAD_TARGET = 'default';
/** A target's name: lowercase letters, digits and inner hyphens, at most 32 characters (it is in the workflow ID). */
export const cpuLoadTargetSchema = z
  .string()
  .check(z.regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, 'use 1 to 32 lowercase letters, digits and inner hyphens, for example "default" or "web-2"'));

export const cpuLoadDefaults = {
  /** The load switches itself off after an hour, as the seed's memcached key expired after 3600 s. */
  ttlMs: 60 * 60 * 1000,
  /** The seed busy-looped 10 s between looks at memcached. */
  sliceMs: 10_000,
  parallelism: 1,
  /** Continue-as-new once the history is this long (the server also suggests it at 4 Ki events). */
  historyThreshold: 2000,
  /** Samples kept (and carried across continue-as-new) for the chart. */
  maxSamples: 120,
  /** Longest ON a switch may ask for (CPU_LOAD_MAX_TTL_MINUTES): one request keeps cores busy at most this long. */
  maxTtlMs: 60 * 60 * 1000,
  /** An OFF workflow that received no switch for this long completes; the next switch starts it again. */
  idleMs: 60 * 60 * 1000,
} as const;

/** Largest maximum TTL that may be configured: memcached reads expiries over 30 days as timestamps. */
export const MAX_CPU_LOAD_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** Below this, a run could continue as new before doing anything (its first events alone are ~12). */
export const MIN_HISTORY_THRESHOLD = 40;

const stateSchema = z.enum(cpuLoadStates, { error: 'must be "ON" or "OFF"' });

/** A switch, by signal or update. `ttlMs` overrides the workflow's TTL for this ON, up to the workflow's maximum. */
export const cpuLoadSwitchSchemaFor = (maxTtlMs: number) => z.strictObject({ state: stateSchema, ttlMs: z.optional(wholeNumber(1, maxTtlMs)) });
export const cpuLoadSwitchSchema = cpuLoadSwitchSchemaFor(MAX_CPU_LOAD_TTL_MS);
export type CpuLoadSwitch = z.infer<typeof cpuLoadSwitchSchema>;

/**
 * A switch as the API and the UI take it: the TTL of this ON in seconds (default: the workflow's, 1 h),
 * at most the configured maximum (the service checks it with cpuLoadSwitchBodySchemaFor).
 */
export const cpuLoadSwitchBodySchemaFor = (maxTtlMs: number) =>
  z.strictObject({ state: stateSchema, ttlSeconds: z.optional(wholeNumber(1, Math.floor(maxTtlMs / 1000))) });
export const cpuLoadSwitchBodySchema = cpuLoadSwitchBodySchemaFor(MAX_CPU_LOAD_TTL_MS);
export type CpuLoadSwitchBody = z.infer<typeof cpuLoadSwitchBodySchema>;

/** One workflow per target: the workflow ID is derived from the target name. */
export function cpuLoadWorkflowId(target: string): string {
  return `cpu-load-${target}`;
}

/** The target a workflow ID names, when it follows cpuLoadWorkflowId (for starts from the CLI). */
export function cpuLoadTargetOf(workflowId: string): string | undefined {
  const target = workflowId.startsWith('cpu-load-') ? workflowId.slice('cpu-load-'.length) : '';
  return z.safeParse(cpuLoadTargetSchema, target).success ? target : undefined;
}

/** The memcached key mirroring a target's state: the seed's `CPULoad` for the default target. */
export function cpuLoadMemcachedKey(target: string): string {
  return target === DEFAULT_CPU_LOAD_TARGET ? 'CPULoad' : `CPULoad:${target}`;
}

/** One slice of burnt CPU, as measured by the load worker that ran it. */
export interface CpuSample {
  /** The load slot (`pid@host/slot`: the worker's identity and the slot's number). */
  workerId: string;
  pid: number;
  startedAt: string;
  endedAt: string;
  wallMs: number;
  /** User + system CPU time of the slice's thread. */
  cpuMs: number;
  /** cpuMs over wallMs, in percent of one core. */
  cpuPercent: number;
}

/** What the burn activity is asked to do. */
export interface BurnRequest {
  target: string;
  sliceMs: number;
  /** Which of the workflow's parallel lanes scheduled it (0-based). */
  lane: number;
}

export type CpuLoadChangeSource = 'start' | 'signal' | 'update' | 'ttl';

export interface MemcachedMirror {
  key: string;
  value: CpuLoadState;
  expirySeconds: number;
  at: string;
  ok: boolean;
  error?: string;
}

/** State that survives continue-as-new. */
export interface CpuLoadCarriedState {
  state: CpuLoadState;
  since: string;
  /** When an ON switches itself off; the next run waits only for what remains. */
  expiresAt: string | null;
  lastChange: { by: CpuLoadChangeSource; at: string };
  samples: CpuSample[];
  slicesCompleted: number;
  continuedAsNew: number;
  memcached: MemcachedMirror | null;
}

/** A cpuLoad workflow's input, checked at start (also what `temporal workflow start --input` passes). */
export const cpuLoadInputSchema = z.strictObject({
  /** Defaults to the target named by the workflow ID (cpu-load-<target>), else `default`. */
  target: z.optional(cpuLoadTargetSchema),
  /** How long an ON lasts before the load switches itself off (default 1 h, at most maxTtlMs). */
  ttlMs: z.optional(wholeNumber(1, MAX_CPU_LOAD_TTL_MS)),
  /** Longest TTL a switch may ask for; a longer one is refused (default 1 h). */
  maxTtlMs: z.optional(wholeNumber(1, MAX_CPU_LOAD_TTL_MS)),
  /** An OFF workflow with no switch for this long completes (default 1 h). */
  idleMs: z.optional(wholeNumber(1)),
  /** Length of one burn activity (default 10 s). */
  sliceMs: z.optional(wholeNumber(1)),
  /** Slices run at once: the number of load workers, so each one is busy (default 1). */
  parallelism: z.optional(wholeNumber(1)),
  /** Where the load workers poll (default `cpu-load`; tests add a suffix). */
  loadTaskQueue: z.optional(z.string().check(z.minLength(1), z.maxLength(1000))),
  /** History length that triggers continue-as-new (default 2000 events). */
  historyThreshold: z.optional(wholeNumber(MIN_HISTORY_THRESHOLD)),
  /** Samples kept for the chart (default 120). */
  maxSamples: z.optional(wholeNumber(1)),
  /** Set by continue-as-new only: the previous run's state, which this workflow wrote itself. */
  carried: z.optional(z.custom<CpuLoadCarriedState>((value) => typeof value === 'object' && value !== null, 'must be the state a previous run carried over')),
});
export type CpuLoadInput = z.infer<typeof cpuLoadInputSchema>;

export interface CpuLoadStatus {
  target: string;
  state: CpuLoadState;
  since: string;
  /** When the load switches itself off; null while OFF. */
  expiresAt: string | null;
  lastChange: { by: CpuLoadChangeSource; at: string };
  ttlMs: number;
  /** Longest TTL a switch may ask for. */
  maxTtlMs: number;
  sliceMs: number;
  parallelism: number;
  loadTaskQueue: string;
  runningSlices: number;
  slicesCompleted: number;
  /** The last slice failure (a load worker that died, …), cleared by the next sample. */
  lastSliceError: string | null;
  continuedAsNew: number;
  /** The last write of the memcached key. */
  memcached: MemcachedMirror | null;
  /** Most recent samples, oldest first, from every load worker. */
  samples: CpuSample[];
}

/** Switch ON/OFF without waiting (for `temporal workflow signal`); an invalid switch is logged and ignored. */
export const setCpuLoadSignal = defineSignal<[CpuLoadSwitch]>('setCpuLoad');
/** Switch ON/OFF and get the new status back once memcached mirrors it; invalid switches are rejected. */
export const switchCpuLoadUpdate = defineUpdate<CpuLoadStatus, [CpuLoadSwitch]>('switchCpuLoad');
export const cpuLoadStatusQuery = defineQuery<CpuLoadStatus>('cpuLoadStatus');

/** Samples grouped per load worker, in order of first appearance (for charts). */
export function samplesByWorker(samples: readonly CpuSample[]): Map<string, CpuSample[]> {
  const byWorker = new Map<string, CpuSample[]>();
  for (const sample of samples) {
    const list = byWorker.get(sample.workerId);
    if (list) list.push(sample);
    else byWorker.set(sample.workerId, [sample]);
  }
  return byWorker;
}
