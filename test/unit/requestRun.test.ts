// requestRun with stub activities: a cancelled run stops its calls, still records how it ended
// (cancelled, with what the finished chunks counted) and releases its lock, then ends cancelled.
import { describe, expect, it } from 'vitest';
import { ApplicationFailure, CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import type { BeginRunInput, FinishRunInput, RequestRunActivities, SendCallsInput } from '../../activities/requestRun.ts';
import { requestRun } from '../../workflows/requestRun.ts';
import { DEFAULT_RUN_TIMEOUT_MS, emptyTally, type CallTally } from '../../workflows/requestRun.shared.ts';
import { heartbeatUntilCancelled, signalled, useWorkflowTestEnvironment } from './support/workflowEnv.ts';

const { runWorkflow, withWorkflow } = useWorkflowTestEnvironment();

const input = { calls: 3000, chunkSize: 1000, concurrency: 4, destination: 'http://127.0.0.1:3000/receiver', heartbeatTimeoutMs: 2000 };

const tallyOf = (ok: number, failed = 0): CallTally => ({ ...emptyTally(), ok, failed });

/** Bookkeeping stubs, and a sender whose chunks each answer `ok` calls, or block until cancelled from chunk `blockAt` on. */
function stubRequestRun(blockAt = Infinity) {
  const begun: BeginRunInput[] = [];
  const chunks: SendCallsInput[] = [];
  const finished: FinishRunInput[] = [];
  const sending = signalled();
  const activities: Partial<RequestRunActivities> = {
    async beginRequestRun(run) {
      begun.push(run);
    },
    async sendRequestCalls(chunk) {
      chunks.push(chunk);
      if (chunks.length < blockAt) return tallyOf(chunk.toSeq - chunk.fromSeq);
      sending.resolve();
      return heartbeatUntilCancelled();
    },
    async finishRequestRun(run) {
      finished.push(run);
      return { counted: run.ok };
    },
  };
  return { activities, begun, chunks, finished, sending: sending.promise };
}

describe('requestRun (stub activities)', () => {
  it('sends the calls chunk by chunk and records the completed run', async () => {
    const stubs = stubRequestRun();
    const summary = await runWorkflow(requestRun, { args: [input], activities: stubs.activities });
    expect(stubs.chunks.map((c) => [c.fromSeq, c.toSeq])).toEqual([[0, 1000], [1000, 2000], [2000, 3000]]);
    expect(summary).toMatchObject({ status: 'completed', ok: 3000, failed: 0, counted: 3000, lostUpdates: 0 });
    expect(stubs.finished).toEqual([expect.objectContaining({ status: 'completed', ok: 3000 })]);
  });

  it('ends cancelled when cancelled, after recording the run as cancelled with the calls of the chunks that finished', async () => {
    const stubs = stubRequestRun(2);
    const failure = await withWorkflow(requestRun, { args: [input], activities: stubs.activities }, async (handle) => {
      await stubs.sending;
      await handle.cancel();
      return handle.result().catch((error: unknown) => error);
    });

    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(stubs.chunks.map((c) => c.fromSeq)).toEqual([0, 1000]);
    expect(stubs.finished).toHaveLength(1);
    expect(stubs.finished[0]).toMatchObject({ status: 'cancelled', ok: 1000, failed: 0 });
  });
});

describe('requestRun: its own timeout bounds the run and its memcached lock', () => {
  // The worst case of the old expiry: 100,000 calls one at a time, each timing out after 10 s (11 days).
  const slowest = { ...input, calls: 100_000, chunkSize: 100_000, concurrency: 1, callTimeoutMs: 10_000 };

  it('takes the lock for the run timeout, however many calls the run makes', async () => {
    const defaulted = stubRequestRun();
    await runWorkflow(requestRun, { args: [slowest], activities: defaulted.activities });
    expect(defaulted.begun.map((b) => b.lockTtlSeconds)).toEqual([DEFAULT_RUN_TIMEOUT_MS / 1000]);

    const stubs = stubRequestRun();
    await runWorkflow(requestRun, { args: [{ ...slowest, runTimeoutMs: 90_000 }], activities: stubs.activities });
    expect(stubs.begun.map((b) => b.lockTtlSeconds)).toEqual([90]);
  });

  it('stops a run still sending at its timeout, records it failed and fails, as its lock expires', async () => {
    const stubs = stubRequestRun(1);
    const runTimeoutMs = 3000;
    const outcome = await withWorkflow(requestRun, { args: [{ ...slowest, runTimeoutMs }], activities: stubs.activities }, async (handle) => {
      const result = handle.result().catch((error: unknown) => error);
      const startedAt = (await handle.describe()).startTime.getTime();
      const closed = await result;
      return { closed, afterMs: (await handle.describe()).closeTime!.getTime() - startedAt };
    });

    expect(outcome.closed).toBeInstanceOf(WorkflowFailedError);
    expect((outcome.closed as WorkflowFailedError).cause).toBeInstanceOf(ApplicationFailure);
    expect((outcome.closed as WorkflowFailedError).cause).toMatchObject({ type: 'RunTimedOut' });
    expect(stubs.finished).toEqual([expect.objectContaining({ status: 'failed' })]);
    // It ended at its timeout (server time), which is when its lock expires.
    expect(outcome.afterMs).toBeGreaterThanOrEqual(runTimeoutMs);
    expect(outcome.afterMs).toBeLessThan(runTimeoutMs + 2000);
    expect(stubs.begun[0]!.lockTtlSeconds * 1000).toBe(runTimeoutMs);
  });
});
