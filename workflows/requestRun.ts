// A request run: N HTTP GET calls to the receivers in heartbeating chunks, counted in MySQL.
// The workflow ID is the one-run-at-a-time lock; the trigger keys are released when the run
// ends (the original released them before the first call).
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { RequestRunActivities } from '../activities/requestRun.ts';
import { FleetDomain, FleetStatus } from '../temporal/searchAttributes.ts';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_RUN_TIMEOUT_MS,
  DEFAULT_SCOPE,
  emptyTally,
  latencySummary,
  mergeTally,
  requestRunInputSchema,
  requestRunLockTtlSeconds,
  requestRunProgressQuery,
  type RequestRunInput,
  type RequestRunProgress,
  type RequestRunSummary,
  type RunStatus,
} from './requestRun.shared.ts';
import { workflowInput } from './validation.shared.ts';

const bookkeeping = proxyActivities<RequestRunActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 5, initialInterval: '500 milliseconds', nonRetryableErrorTypes: ['DestinationNotAllowed', 'RunInProgress'] },
});

/** The input checked with its schema, defaults filled in. */
function settingsOf(rawInput: RequestRunInput): Required<RequestRunInput> {
  const input = workflowInput(requestRunInputSchema, rawInput);
  const concurrency = input.concurrency ?? DEFAULT_CONCURRENCY;
  return {
    calls: input.calls,
    scope: input.scope ?? DEFAULT_SCOPE,
    destination: input.destination,
    mode: input.mode ?? 'atomic',
    concurrency,
    // Big enough to keep every connection busy, small enough that a crash resends little and history stays short.
    chunkSize: input.chunkSize ?? Math.max(2000, concurrency * 50),
    callTimeoutMs: input.callTimeoutMs ?? 10_000,
    heartbeatTimeoutMs: input.heartbeatTimeoutMs ?? 10_000,
    runTimeoutMs: input.runTimeoutMs ?? DEFAULT_RUN_TIMEOUT_MS,
  };
}

export async function requestRun(rawInput: RequestRunInput): Promise<RequestRunSummary> {
  const input = settingsOf(rawInput);
  const runId = workflowInfo().firstExecutionRunId;
  const startedAt = new Date().toISOString();
  let status: RunStatus = 'running';
  let tally = emptyTally();
  const progress = (): RequestRunProgress => ({
    runId, scope: input.scope, status, calls: input.calls, mode: input.mode, concurrency: input.concurrency, destination: input.destination,
    startedAt, ok: tally.ok, failed: tally.failed, timeline: tally.timeline,
  });
  setHandler(requestRunProgressQuery, progress);
  upsertSearchAttributes([{ key: FleetDomain, value: 'request-run' }, { key: FleetStatus, value: status }]);

  const { sendRequestCalls } = proxyActivities<RequestRunActivities>({
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: input.heartbeatTimeoutMs,
    // Cancel waits until the calls in flight are aborted, so "cancelled" means stopped.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { maximumAttempts: 10, initialInterval: '1 second', nonRetryableErrorTypes: ['DestinationNotAllowed'] },
  });

  // Runs started before the deadline existed replay without its timer (and keep their old lock TTL).
  const bounded = patched('request-run-deadline');
  // The lock lasts as long as the run may: past its timeout nothing of the run is left to protect.
  const lockTtlSeconds = bounded
    ? requestRunLockTtlSeconds(input.runTimeoutMs)
    : Math.min(2_592_000, Math.ceil(((input.calls / input.concurrency) * input.callTimeoutMs) / 1000) + 3600);
  await bookkeeping.beginRequestRun({ runId, scope: input.scope, calls: input.calls, mode: input.mode, concurrency: input.concurrency, destination: input.destination, startedAt, lockTtlSeconds });
  const timestamp = Math.floor(Date.parse(startedAt) / 1000);
  const deadline = Date.parse(startedAt) + input.runTimeoutMs;
  let failure: unknown;
  try {
    // At the deadline this scope is cancelled: the calls in flight stop, as for a cancel.
    const send = async () => {
      for (let fromSeq = 0; fromSeq < input.calls; fromSeq += input.chunkSize) {
        const toSeq = Math.min(input.calls, fromSeq + input.chunkSize);
        const chunk = await sendRequestCalls({
          runId, destination: input.destination, mode: input.mode, timestamp, fromSeq, toSeq,
          concurrency: input.concurrency, callTimeoutMs: input.callTimeoutMs,
        });
        tally = mergeTally(tally, chunk);
      }
    };
    await (bounded ? CancellationScope.withTimeout(Math.max(1, deadline - Date.now()), send) : send());
    status = 'completed';
  } catch (error) {
    const cancelled = isCancellation(error) && CancellationScope.current().consideredCancelled;
    status = cancelled ? 'cancelled' : 'failed';
    failure = cancelled || !isCancellation(error)
      ? error
      : ApplicationFailure.nonRetryable(`Request run timed out after ${input.runTimeoutMs} ms (runTimeoutMs) with ${tally.ok + tally.failed} of ${input.calls} calls done`, 'RunTimedOut');
  }

  // Record the outcome and release the trigger keys even when cancelled.
  const latencyMs = latencySummary(tally.histogram);
  const endedAt = new Date().toISOString();
  const { counted } = await CancellationScope.nonCancellable(() =>
    bookkeeping.finishRequestRun({ runId, scope: input.scope, status, ok: tally.ok, failed: tally.failed, endedAt, latencyMs, timeline: tally.timeline }),
  );
  upsertSearchAttributes([{ key: FleetStatus, value: status }]);
  if (failure) throw failure;
  return { ...progress(), endedAt, counted, lostUpdates: Math.max(0, tally.ok - counted), latencyMs };
}
