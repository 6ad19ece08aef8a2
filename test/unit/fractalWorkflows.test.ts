// The fractal and fractalBatch workflows with stub activities on the time-skipping test server: a job
// is recorded, rendered and its result recorded under the job's revision; failed renders are retried
// until one succeeds; the constant comes from the uuid; the workflow ID must be the uuid's; a batch
// starts each task once, in slices, continuing as new, and a batch started again makes nothing new.
import { describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { fractal } from '../../workflows/fractal.ts';
import { fractalBatch } from '../../workflows/fractalBatch.ts';
import {
  batchTask,
  fractalBatchSpecSchema,
  fractalJobOf,
  fractalWorkflowId,
  juliaConstantFor,
  type FractalJob,
  type RenderedFractal,
} from '../../workflows/fractals.shared.ts';
import { expectLogLines, useWorkflowTestEnvironment } from './support/workflowEnv.ts';

const t = useWorkflowTestEnvironment();
expectLogLines(/render failed on purpose/);

const uuid = '0f8fad5b-d9cb-469f-a165-70867728950e';
const params = { width: 32, height: 24, iterations: 64, xa: -2, xb: 2, ya: -1.5, yb: 1.5 };
const fast = { renderHeartbeatTimeoutMs: 1000, renderTimeoutMs: 5000, retryMaxIntervalMs: 50 };

/** Stubs that keep every call: accepted jobs, renders, recorded results, batches. */
function stubFractalActivities(options: { failRenders?: number } = {}) {
  const calls = {
    accepted: [] as [FractalJob, string | undefined][],
    slices: [] as [FractalJob[], string][],
    forgotten: [] as string[][],
    renders: [] as FractalJob[],
    rendered: [] as [RenderedFractal, number][],
    batches: [] as [string, number][],
  };
  /** What recordFractalsAccepted answers as newly recorded (default: every job, as for a new batch). */
  let newlyRecorded: (jobs: FractalJob[]) => string[] = (jobs) => jobs.map((job) => job.uuid);
  let failures = options.failRenders ?? 0;
  const activities = {
    async recordFractalAccepted(job: FractalJob, batchId: string | undefined) {
      calls.accepted.push([job, batchId]);
    },
    async renderFractal(job: FractalJob): Promise<RenderedFractal> {
      calls.renders.push(job);
      if (failures-- > 0) throw ApplicationFailure.retryable('render failed on purpose');
      return { uuid: job.uuid, checksum: 'c'.repeat(64), size: 100, duration: 0.01, generatedBy: 'stub@test' };
    },
    async recordFractalRendered(rendered: RenderedFractal, revision: number) {
      calls.rendered.push([rendered, revision]);
      return true;
    },
    async recordFractalBatch(batchId: string, tasks: number) {
      calls.batches.push([batchId, tasks]);
    },
    async recordFractalsAccepted(jobs: FractalJob[], batchId: string) {
      calls.slices.push([jobs, batchId]);
      return newlyRecorded(jobs);
    },
    async forgetFractals(uuids: string[]) {
      calls.forgotten.push(uuids);
    },
  };
  return { activities, calls, answerNewlyRecorded: (answer: typeof newlyRecorded) => void (newlyRecorded = answer) };
}

describe('fractal (stub activities)', () => {
  it('records the job, renders it with the constant chosen from the uuid, and records the result under its revision', async () => {
    const { activities, calls } = stubFractalActivities();
    const result = await t.runWorkflow(fractal, { workflowId: fractalWorkflowId(uuid), args: [{ uuid, ...params, revision: 3, timings: fast }], activities });
    const constant = juliaConstantFor(uuid, params);
    expect(calls.accepted).toEqual([[{ uuid, ...params, ...constant }, undefined]]);
    expect(calls.renders).toEqual([{ uuid, ...params, ...constant }]);
    expect(calls.rendered).toEqual([[{ uuid, checksum: 'c'.repeat(64), size: 100, duration: 0.01, generatedBy: 'stub@test' }, 3]]);
    expect(result).toMatchObject({ uuid, recorded: true });
  });

  it('retries a failing render until it succeeds, and records the result once', async () => {
    const { activities, calls } = stubFractalActivities({ failRenders: 3 });
    await t.runWorkflow(fractal, { workflowId: fractalWorkflowId(uuid), args: [{ uuid, ...params, cx: 0.1, cy: 0.2, timings: fast }], activities });
    expect(calls.renders).toHaveLength(4);
    expect(calls.renders[0]).toMatchObject({ cx: 0.1, cy: 0.2 });
    expect(calls.rendered).toHaveLength(1);
  });

  it('refuses to run under a workflow ID that is not its uuid’s', async () => {
    const { activities, calls } = stubFractalActivities();
    const failure = await t.runWorkflow(fractal, { workflowId: 'fractal-elsewhere', args: [{ uuid, ...params }], activities }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(String((failure as WorkflowFailedError).cause?.message)).toContain(`the workflow ID must be ${fractalWorkflowId(uuid)}`);
    expect(calls.renders).toEqual([]);
  });

  it('refuses invalid parameters before doing anything', async () => {
    const { activities, calls } = stubFractalActivities();
    const failure = await t.runWorkflow(fractal, { workflowId: fractalWorkflowId(uuid), args: [{ uuid, ...params, xb: -3 }], activities }).catch((error: unknown) => error);
    expect(String((failure as WorkflowFailedError).cause?.message)).toBe('Invalid input: xb: must be greater than xa (-2)');
    expect(calls.accepted).toEqual([]);
  });
});

/**
 * Waits for workflows by polling their status. Not `handle.result()`: the time-skipping server skips
 * time while a result is awaited, and with nothing else scheduled it jumped past the abandoned
 * children's run timeout on a loaded machine ("Workflow execution timed out").
 */
async function untilCompleted(workflowIds: string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const statuses = await Promise.all(workflowIds.map(async (id) => (await t.env.client.workflow.getHandle(id).describe()).status.name));
    if (statuses.every((status) => status === 'COMPLETED')) return;
    const failed = statuses.find((status) => status !== 'RUNNING' && status !== 'COMPLETED');
    if (failed) throw new Error(`a fractal workflow ended ${failed}: ${statuses.join(', ')}`);
    if (Date.now() > deadline) throw new Error(`fractal workflows still not completed after ${timeoutMs} ms: ${statuses.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('fractalBatch (stub activities)', () => {
  it('records each slice at once, then starts every task once, continuing as new; a batch started again starts none', async () => {
    const batchId = '6a1c0f8e-2b7d-4c3a-9e5f-1d2c3b4a5f6e';
    const spec = fractalBatchSpecSchema.parse({ tasks: 7, width: 16, height: 16, iterations: 32 });
    const { activities, calls, answerNewlyRecorded } = stubFractalActivities();
    const uuids = Array.from({ length: 7 }, (_, i) => batchTask(batchId, spec, i).uuid);
    for (const id of uuids) t.stubsFor(fractalWorkflowId(id), activities);
    const batchWorkflowId = `fractal-batch-${batchId}`;
    const result = await t.runWorkflow(fractalBatch, { workflowId: batchWorkflowId, args: [{ batchId, spec, sliceSize: 3, tasksPerRun: 4, timings: fast }], activities });
    expect(result).toEqual({ batchId, tasks: 7, started: 7 });
    expect(calls.batches).toEqual([[batchId, 7]]);
    // Slices of 3 within runs of 4: 3 + 1, then 3; each job with the constant chosen from its uuid.
    expect(calls.slices.map(([jobs, batch]) => [jobs.length, batch])).toEqual([[3, batchId], [1, batchId], [3, batchId]]);
    expect(calls.slices.flatMap(([jobs]) => jobs)).toEqual(uuids.map((id, i) => fractalJobOf(id, batchTask(batchId, spec, i).params)));
    // The children were abandoned, not awaited: wait for each to finish. They were recorded by their slice, not one by one.
    await untilCompleted(uuids.map(fractalWorkflowId));
    expect(calls.accepted).toEqual([]);
    expect(calls.renders.map((job) => job.uuid).sort()).toEqual([...uuids].sort());
    expect(calls.forgotten).toEqual([]);

    // Started again after two of its fractals were deleted: the slice records those two anew, no
    // workflow renders them (their IDs are taken), so their records are forgotten again.
    answerNewlyRecorded(() => [uuids[1]!, uuids[5]!]);
    const again = await t.runWorkflow(fractalBatch, { workflowId: `${batchWorkflowId}-again`, args: [{ batchId, spec, sliceSize: 5, timings: fast }], activities });
    expect(again).toEqual({ batchId, tasks: 7, started: 0 });
    expect(calls.renders).toHaveLength(7);
    expect(calls.forgotten).toEqual([[uuids[1]], [uuids[5]]]);
  });
});
