// Vocabulary of request runs (pcf-demo's request worker): N parallel HTTP GET calls to the
// receivers, counted in MySQL. Shared by the workflow, its activities, the API, UI and tests.
import { defineQuery } from '@temporalio/workflow';
import * as z from 'zod/mini';
import { idSchema, wholeNumber } from './validation.shared.ts';

export const REQUEST_RUN_TASK_QUEUE = 'request-runs';

/**
 * One run at a time, as in the seed: the workflow ID is the lock. Runs of different scopes are
 * independent (each scope has its own lock and memcached trigger keys); the default scope uses
 * the workflow ID `request-run` and the seed's own key names.
 */
export const DEFAULT_SCOPE = 'default';
export const REQUEST_RUN_WORKFLOW_ID = 'request-run';

export function requestRunWorkflowId(scope: string = DEFAULT_SCOPE): string {
  return scope === DEFAULT_SCOPE ? REQUEST_RUN_WORKFLOW_ID : `${REQUEST_RUN_WORKFLOW_ID}-${scope}`;
}

/** Whether `id` can name a request run: runs are named by their workflow's first run ID, a UUID Temporal made. */
export function isRequestRunId(id: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
}

/** A request run's ID as a request names it. */
export const requestRunIdSchema = idSchema('a request run', isRequestRunId);

export const MAX_CALLS = 100_000;
export const MAX_CONCURRENCY = 256;
/** The original request worker's thread pool size. */
export const DEFAULT_CONCURRENCY = 12;

/**
 * How the receiver counts a call:
 * - atomic: one `UPDATE … SET n = n + 1` (what the original really did; never loses an update);
 * - racy: SELECT, then UPDATE with the value read, so concurrent calls overwrite each other
 *   (the race the seed's docs describe, which its atomic SQL could not produce);
 * - exactly-once: each call carries (run, seq) and is recorded once, so retries never double-count.
 */
export const countingModes = ['atomic', 'racy', 'exactly-once'] as const;
export type CountingMode = (typeof countingModes)[number];

const callsSchema = wholeNumber(1, MAX_CALLS);
const concurrencySchema = wholeNumber(1, MAX_CONCURRENCY);
const modeSchema = z.enum(countingModes, { error: `must be one of ${countingModes.join(', ')}` });
const HOUR_MS = 3_600_000;

/** A run's own time limit unless its input sets one: at it, the calls stop and the run fails. */
export const DEFAULT_RUN_TIMEOUT_MS = HOUR_MS;
/** Longest run timeout: memcached reads expiries over 30 days as absolute times, and a day is plenty. */
export const MAX_RUN_TIMEOUT_MS = 24 * HOUR_MS;

/**
 * Expiry of a run's memcached trigger keys, in seconds: the run's own timeout, so a run that could
 * not release them (its finish failed, its worker was gone) holds them no longer than it could run.
 */
export function requestRunLockTtlSeconds(runTimeoutMs: number): number {
  return Math.max(1, Math.ceil(runTimeoutMs / 1000));
}

/** A requestRun workflow's input, checked at start (also what `temporal workflow start --input` passes). */
export const requestRunInputSchema = z.strictObject({
  calls: callsSchema,
  /** Lock scope (default "default"); see requestRunWorkflowId. */
  scope: z.optional(z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'must be 1 to 40 lowercase letters, digits or dashes'))),
  /** The receiver URL (the activities check it against the destination allowlist). */
  destination: z.string().check(z.regex(/^https?:\/\//, 'must be an http(s) URL')),
  mode: z.optional(modeSchema),
  concurrency: z.optional(concurrencySchema),
  /** Calls per activity: each chunk heartbeats and resumes from its last heartbeat after a crash. */
  chunkSize: z.optional(wholeNumber(1, MAX_CALLS)),
  /** Time limit for one call, in ms. */
  callTimeoutMs: z.optional(wholeNumber(1, HOUR_MS)),
  /** How soon a dead worker is noticed (activity heartbeat timeout), in ms. */
  heartbeatTimeoutMs: z.optional(wholeNumber(1, HOUR_MS)),
  /** The run's time limit from its start, in ms (default 1 hour); also its memcached lock's expiry. */
  runTimeoutMs: z.optional(wholeNumber(1000, MAX_RUN_TIMEOUT_MS)),
});
export type RequestRunInput = z.infer<typeof requestRunInputSchema>;

/** A run as the API and the UI start it: the destination defaults to, and must be on, the allowlist. */
export function requestRunRequestSchema(allowedDestinations: readonly string[]) {
  return z.strictObject({
    calls: callsSchema,
    concurrency: z._default(concurrencySchema, DEFAULT_CONCURRENCY),
    mode: z._default(modeSchema, 'atomic'),
    destination: z._default(z.string(), allowedDestinations[0] ?? '').check(
      z.refine((url) => URL.canParse(url), 'must be a URL'),
      z.refine((url) => isAllowedDestination(url, allowedDestinations), `is not allowed; allowed: ${allowedDestinations.join(', ')}`),
    ),
  });
}
export type RequestRunRequest = z.infer<ReturnType<typeof requestRunRequestSchema>>;

const receiverNumber = z.pipe(z.string().check(z.regex(/^\d{1,10}$/, 'must be a whole number')), z.transform(Number));

/**
 * The receiver's query: the seed's bare `timestamp`, or a call as callUrl writes it (run, seq, mode).
 * Not strict: a destination may carry query parameters of its own. Built once: the receiver is hot.
 */
export const receiverQuerySchema = z
  .object({
    timestamp: z.optional(receiverNumber),
    seq: z.optional(receiverNumber),
    run: z.optional(z.string().check(z.minLength(1, 'must be a run id of 1 to 64 characters'), z.maxLength(64, 'must be a run id of 1 to 64 characters'))),
    mode: z._default(modeSchema, 'atomic'),
  })
  .check(
    z.superRefine((query, ctx) => {
      if (query.run === undefined && query.timestamp === undefined) {
        ctx.issues.push({ code: 'custom', input: query, path: ['timestamp'], message: 'give the run (run=…) or, like the seed, its timestamp' });
      }
      if (query.mode === 'exactly-once' && (query.run === undefined || query.seq === undefined)) {
        ctx.issues.push({ code: 'custom', input: query, path: ['seq'], message: 'exactly-once calls need run and seq' });
      }
    }),
  );

export type RunStatus = 'running' | 'completed' | 'cancelled' | 'failed';

/** Calls that finished in one second of wall time (epoch second). */
export interface TimelineBucket {
  second: number;
  ok: number;
  failed: number;
}

/** Sender-side progress of a chunk or a whole run. */
export interface CallTally {
  ok: number;
  failed: number;
  /** Log-scale latency histogram (see latencyBucket). */
  histogram: number[];
  timeline: TimelineBucket[];
}

export interface RequestRunProgress {
  runId: string;
  scope: string;
  status: RunStatus;
  calls: number;
  mode: CountingMode;
  concurrency: number;
  destination: string;
  startedAt: string;
  /** Calls answered 2xx / not (timeouts, errors, non-2xx), in finished chunks. */
  ok: number;
  failed: number;
  timeline: TimelineBucket[];
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface RequestRunSummary extends RequestRunProgress {
  endedAt: string;
  /** current_request_count at the end: what the receivers counted. */
  counted: number;
  /** Calls answered ok that the count does not show (the racy mode's lost updates). */
  lostUpdates: number;
  latencyMs: LatencySummary | null;
}

export const requestRunProgressQuery = defineQuery<RequestRunProgress>('progress');

// Latency histogram: bucket i holds latencies in [base^i, base^(i+1)) tenths of a millisecond.
const HISTOGRAM_BASE = 1.25;
export const HISTOGRAM_SIZE = 64;

export function latencyBucket(ms: number): number {
  const tenths = Math.max(1, ms * 10);
  return Math.min(HISTOGRAM_SIZE - 1, Math.floor(Math.log(tenths) / Math.log(HISTOGRAM_BASE)));
}

export function emptyTally(): CallTally {
  return { ok: 0, failed: 0, histogram: new Array<number>(HISTOGRAM_SIZE).fill(0), timeline: [] };
}

/** Adds `part` into `total` (the workflow merges chunk results with this). */
export function mergeTally(total: CallTally, part: CallTally): CallTally {
  const timeline = new Map(total.timeline.map((b) => [b.second, { ...b }]));
  for (const bucket of part.timeline) {
    const existing = timeline.get(bucket.second);
    if (existing) {
      existing.ok += bucket.ok;
      existing.failed += bucket.failed;
    } else timeline.set(bucket.second, { ...bucket });
  }
  return {
    ok: total.ok + part.ok,
    failed: total.failed + part.failed,
    histogram: total.histogram.map((n, i) => n + (part.histogram[i] ?? 0)),
    timeline: [...timeline.values()].sort((a, b) => a.second - b.second),
  };
}

export function latencySummary(histogram: number[]): LatencySummary | null {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const upper = (i: number) => Math.round((HISTOGRAM_BASE ** (i + 1) / 10) * 100) / 100;
  const percentile = (p: number) => {
    let seen = 0;
    for (let i = 0; i < histogram.length; i++) {
      seen += histogram[i]!;
      if (seen >= total * p) return upper(i);
    }
    return upper(histogram.length - 1);
  };
  let last = 0;
  histogram.forEach((n, i) => (n > 0 ? (last = i) : undefined));
  return { p50: percentile(0.5), p90: percentile(0.9), p99: percentile(0.99), max: upper(last) };
}

/** The call a receiver gets: seed-compatible `timestamp`, plus run, sequence number and mode. */
export function callUrl(destination: string, call: { timestamp: number; runId: string; seq: number; mode: CountingMode }): string {
  const separator = destination.includes('?') ? '&' : '?';
  return `${destination}${separator}timestamp=${call.timestamp}&run=${encodeURIComponent(call.runId)}&seq=${call.seq}&mode=${call.mode}`;
}

/** True when `destination` starts with one of the allowed URL prefixes (compared as parsed URLs). */
export function isAllowedDestination(destination: string, allowed: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(destination);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  return allowed.some((prefix) => {
    const allowedUrl = new URL(prefix);
    return url.origin === allowedUrl.origin && url.pathname === allowedUrl.pathname;
  });
}
