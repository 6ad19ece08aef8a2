// requestRun with stub activities: a cancelled run stops its calls, still records how it ended
// (cancelled, with what the finished chunks counted) and releases its lock, then ends cancelled.
import { describe, expect, it } from 'vitest';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import type { FinishRunInput, RequestRunActivities, SendCallsInput } from '../../activities/requestRun.ts';
import { requestRun } from '../../workflows/requestRun.ts';
import { emptyTally, type CallTally } from '../../workflows/requestRun.shared.ts';
import { heartbeatUntilCancelled, signalled, useWorkflowTestEnvironment } from './support/workflowEnv.ts';

const { runWorkflow, withWorkflow } = useWorkflowTestEnvironment();

const input = { calls: 3000, chunkSize: 1000, concurrency: 4, destination: 'http://127.0.0.1:3000/receiver', heartbeatTimeoutMs: 2000 };

const tallyOf = (ok: number, failed = 0): CallTally => ({ ...emptyTally(), ok, failed });

/** Bookkeeping stubs, and a sender whose chunks each answer `ok` calls, or block until cancelled from chunk `blockAt` on. */
function stubRequestRun(blockAt = Infinity) {
  const chunks: SendCallsInput[] = [];
  const finished: FinishRunInput[] = [];
  const sending = signalled();
  const activities: Partial<RequestRunActivities> = {
    async beginRequestRun() {},
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
  return { activities, chunks, finished, sending: sending.promise };
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
