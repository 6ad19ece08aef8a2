// Activities of a request run: take the run (memcached trigger keys, MySQL row), send a chunk of
// HTTP calls with bounded concurrency, and record the outcome. Built from injected clients.
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { ApplicationFailure, CancelledFailure, Context, activityInfo, heartbeat } from '@temporalio/activity';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type memjs from 'memjs';
import {
  DEFAULT_SCOPE,
  callUrl,
  emptyTally,
  isAllowedDestination,
  latencyBucket,
  type CallTally,
  type CountingMode,
  type LatencySummary,
  type RunStatus,
  type TimelineBucket,
} from '../workflows/requestRun.shared.ts';

/** The seed's memcached trigger keys, kept in step for compatibility with its tools (other scopes prefix them). */
export function triggerKeys(scope: string) {
  const prefix = scope === DEFAULT_SCOPE ? '' : `${scope}:`;
  return {
    workInProgress: `${prefix}workInProgress`,
    amountOfCalls: `${prefix}amountOfCalls`,
    destinationURL: `${prefix}destinationURL`,
    /** Ours: which run holds workInProgress, so a retried activity recognises its own lock. */
    owner: `${prefix}workInProgressRunId`,
  };
}

export interface RequestRunClients {
  mysql: Pool;
  memcached: memjs.Client;
  allowedDestinations: readonly string[];
}

export interface BeginRunInput {
  runId: string;
  scope: string;
  calls: number;
  mode: CountingMode;
  concurrency: number;
  destination: string;
  startedAt: string;
  /** Safety expiry of the memcached lock, in seconds, in case a run is terminated without cleanup. */
  lockTtlSeconds: number;
}

export interface SendCallsInput {
  runId: string;
  destination: string;
  mode: CountingMode;
  timestamp: number;
  fromSeq: number;
  toSeq: number;
  concurrency: number;
  callTimeoutMs: number;
}

/** What a chunk heartbeats: every call below `nextSeq` is done and tallied. */
interface ChunkCheckpoint {
  nextSeq: number;
  tally: CallTally;
}

export interface FinishRunInput {
  runId: string;
  scope: string;
  status: RunStatus;
  ok: number;
  failed: number;
  endedAt: string;
  latencyMs: LatencySummary | null;
  timeline: TimelineBucket[];
}

const HEARTBEAT_EVERY_MS = 200;

export function createRequestRunActivities(clients: RequestRunClients) {
  const { mysql, memcached } = clients;

  async function takeTriggerLock(input: BeginRunInput): Promise<void> {
    const expires = input.lockTtlSeconds;
    const keys = triggerKeys(input.scope);
    // add, not get-then-set: two takers cannot both win.
    const taken = await memcached.add(keys.workInProgress, 'True', { expires });
    if (!taken) {
      const owner = (await memcached.get(keys.owner)).value?.toString();
      if (owner && owner !== input.runId) {
        throw ApplicationFailure.nonRetryable(`memcached says run ${owner} is in progress (workInProgress is set)`, 'RunInProgress');
      }
    }
    await memcached.set(keys.owner, input.runId, { expires });
    await memcached.set(keys.amountOfCalls, String(input.calls), { expires });
    await memcached.set(keys.destinationURL, input.destination, { expires });
  }

  return {
    async beginRequestRun(input: BeginRunInput): Promise<void> {
      if (!isAllowedDestination(input.destination, clients.allowedDestinations)) {
        throw ApplicationFailure.nonRetryable(
          `Destination ${input.destination} is not allowed; allowed: ${clients.allowedDestinations.join(', ')}`,
          'DestinationNotAllowed',
        );
      }
      await takeTriggerLock(input);
      const started = new Date(input.startedAt);
      await mysql.query(
        `INSERT IGNORE INTO request_recorder
           (\`timestamp\`, current_request_count, max_possible_count, run_id, scope, mode, status, concurrency, destination_url, started_at)
         VALUES (?, 0, ?, ?, ?, ?, 'running', ?, ?, ?)`,
        [Math.floor(started.getTime() / 1000), input.calls, input.runId, input.scope, input.mode, input.concurrency, input.destination, started],
      );
    },

    async sendRequestCalls(input: SendCallsInput): Promise<CallTally> {
      if (!isAllowedDestination(input.destination, clients.allowedDestinations)) {
        throw ApplicationFailure.nonRetryable(`Destination ${input.destination} is not allowed`, 'DestinationNotAllowed');
      }
      const resumed = activityInfo().heartbeatDetails as ChunkCheckpoint | undefined;
      return sendCalls(input, resumed ?? { nextSeq: input.fromSeq, tally: emptyTally() });
    },

    async finishRequestRun(input: FinishRunInput): Promise<{ counted: number }> {
      await mysql.query(
        `UPDATE request_recorder SET status = ?, sent_calls = ?, failed_calls = ?, ended_at = ?,
           latency_p50_ms = ?, latency_p90_ms = ?, latency_p99_ms = ?, latency_max_ms = ?, timeline = ?
         WHERE run_id = ?`,
        [
          input.status, input.ok + input.failed, input.failed, new Date(input.endedAt),
          input.latencyMs?.p50 ?? null, input.latencyMs?.p90 ?? null, input.latencyMs?.p99 ?? null, input.latencyMs?.max ?? null,
          JSON.stringify(input.timeline), input.runId,
        ],
      );
      // Release the trigger keys only if this run holds them.
      const keys = triggerKeys(input.scope);
      const owner = (await memcached.get(keys.owner)).value?.toString();
      if (owner === input.runId) {
        await Promise.all(Object.values(keys).map((key) => memcached.delete(key)));
      }
      const [rows] = await mysql.query<RowDataPacket[]>('SELECT current_request_count FROM request_recorder WHERE run_id = ?', [input.runId]);
      return { counted: Number(rows[0]?.current_request_count ?? 0) };
    },
  };
}

export type RequestRunActivities = ReturnType<typeof createRequestRunActivities>;

/** Resends of an exactly-once call that got no answer: 100 ms, doubling, at most 2 s apart. */
const RESEND_FIRST_DELAY_MS = 100;
const RESEND_MAX_DELAY_MS = 2000;

/**
 * Sends calls [checkpoint.nextSeq, toSeq) with at most `concurrency` in flight, heartbeating a
 * checkpoint: calls finish out of order, so the checkpoint is the lowest unfinished call and the
 * tally covers exactly the calls below it. A retry resends at most the calls in flight at the crash.
 */
async function sendCalls(input: SendCallsInput, checkpoint: ChunkCheckpoint): Promise<CallTally> {
  const context = Context.current();
  const signal = context.cancellationSignal;
  const size = input.toSeq - input.fromSeq;
  const outcome = new Int8Array(size); // 0 pending, 1 ok, 2 failed
  const latency = new Float64Array(size);
  const finishedAt = new Float64Array(size);
  let next = checkpoint.nextSeq;
  let watermark = checkpoint.nextSeq;
  const tally = checkpoint.tally;
  const timeline = new Map(tally.timeline.map((b) => [b.second, b]));

  const advanceWatermark = () => {
    while (watermark < input.toSeq && outcome[watermark - input.fromSeq] !== 0) {
      const i = watermark - input.fromSeq;
      const second = Math.floor(finishedAt[i]! / 1000);
      const bucket = timeline.get(second) ?? { second, ok: 0, failed: 0 };
      timeline.set(second, bucket);
      if (outcome[i] === 1) {
        tally.ok++;
        bucket.ok++;
        tally.histogram[latencyBucket(latency[i]!)]!++;
      } else {
        tally.failed++;
        bucket.failed++;
      }
      watermark++;
    }
  };
  const checkpointNow = (): ChunkCheckpoint => ({
    nextSeq: watermark,
    tally: { ...tally, timeline: [...timeline.values()].sort((a, b) => a.second - b.second) },
  });

  const agent = new Agent({ connections: input.concurrency, keepAliveTimeout: 10_000, pipelining: 1 });
  const ticker = setInterval(() => heartbeat(checkpointNow()), HEARTBEAT_EVERY_MS);
  /** One attempt: answered 2xx, failed for good (another answer), or failed for now (no answer, 429, 5xx). */
  const attempt = async (seq: number): Promise<'ok' | 'failed' | 'transient'> => {
    try {
      const response = await request(callUrl(input.destination, { timestamp: input.timestamp, runId: input.runId, seq, mode: input.mode }), {
        dispatcher: agent,
        signal,
        headersTimeout: input.callTimeoutMs,
        bodyTimeout: input.callTimeoutMs,
      });
      await response.body.dump();
      if (response.statusCode >= 200 && response.statusCode < 300) return 'ok';
      return response.statusCode === 429 || response.statusCode >= 500 ? 'transient' : 'failed';
    } catch {
      return 'transient'; // refused, timed out, aborted
    }
  };
  // An exactly-once call is sent again until the receiver answers: its (run, seq) receipt makes a
  // resend safe, and a receiver restarting (or its MySQL) must not cost calls. The other modes count
  // a failed call as failed, as a load generator does: a resend could count twice.
  const resend = input.mode === 'exactly-once';
  const callOne = async (seq: number) => {
    const started = performance.now();
    let result = await attempt(seq);
    for (let retry = 0; resend && result === 'transient' && !signal.aborted; retry++) {
      await sleep(Math.min(RESEND_MAX_DELAY_MS, RESEND_FIRST_DELAY_MS * 2 ** retry), undefined, { signal }).catch(() => undefined);
      if (!signal.aborted) result = await attempt(seq);
    }
    if (signal.aborted) return; // unfinished: a cancelled call is neither ok nor failed
    const i = seq - input.fromSeq;
    latency[i] = performance.now() - started;
    finishedAt[i] = Date.now();
    outcome[i] = result === 'ok' ? 1 : 2;
    advanceWatermark();
  };
  const lane = async () => {
    while (!signal.aborted && next < input.toSeq) await callOne(next++);
  };
  try {
    await Promise.all(Array.from({ length: Math.min(input.concurrency, input.toSeq - next) }, lane));
    if (signal.aborted) throw new CancelledFailure('Request run cancelled; calls in flight were aborted');
    return checkpointNow().tally;
  } finally {
    clearInterval(ticker);
    heartbeat(checkpointNow());
    void agent.destroy();
  }
}
