// One fractal: record the job, render it on a fractal worker (the PNG goes to object storage there),
// record the result. The workflow ID is `fractal-<uuid>`, so a job exists once; every step is retried
// until it succeeds, so a killed worker, API instance or MySQL outage delays a fractal but never loses
// it, and the render is deterministic (the constant comes from the uuid), so a retry makes the same image.
import { ApplicationFailure, proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { FractalRecordActivities, FractalRenderActivities } from '../activities/fractals/records.ts';
import {
  FRACTAL_JOBS_TASK_QUEUE,
  FRACTALS_TASK_QUEUE,
  fractalInputSchema,
  fractalJobOf,
  fractalTimingDefaults,
  fractalWorkflowId,
  type FractalInput,
  type FractalResult,
} from './fractals.shared.ts';
import { workflowInput } from './validation.shared.ts';

/**
 * The render queue beside this workflow's own: `fractals<suffix>` for `fractal-jobs<suffix>` (tests and
 * benchmarks add a suffix); on any other queue, that queue itself (one worker serving both).
 */
function renderTaskQueue(): string {
  const own = workflowInfo().taskQueue;
  return own.startsWith(FRACTAL_JOBS_TASK_QUEUE) ? FRACTALS_TASK_QUEUE + own.slice(FRACTAL_JOBS_TASK_QUEUE.length) : own;
}

export async function fractal(rawInput: FractalInput): Promise<FractalResult> {
  const input = workflowInput(fractalInputSchema, rawInput);
  // The ID is the fractal's lock: a second job for the same uuid must meet this one.
  if (workflowInfo().workflowId !== fractalWorkflowId(input.uuid)) {
    throw ApplicationFailure.nonRetryable(`Invalid input: the workflow ID must be ${fractalWorkflowId(input.uuid)}, the fractal's own`, 'InvalidInput');
  }
  const timings = { ...fractalTimingDefaults, ...input.timings };
  const retry = { initialInterval: Math.min(100, timings.retryMaxIntervalMs), backoffCoefficient: 2, maximumInterval: timings.retryMaxIntervalMs };
  // MySQL writes are local activities on this worker: no extra round trip through the server per fractal.
  const records = proxyLocalActivities<FractalRecordActivities>({ startToCloseTimeout: '30 seconds', retry });
  const { renderFractal } = proxyActivities<FractalRenderActivities>({
    taskQueue: renderTaskQueue(),
    startToCloseTimeout: timings.renderTimeoutMs,
    heartbeatTimeout: timings.renderHeartbeatTimeoutMs,
    retry,
  });

  const job = fractalJobOf(input.uuid, input);
  if (!input.recorded) await records.recordFractalAccepted(job, input.batchId);
  const rendered = await renderFractal(job);
  const recorded = await records.recordFractalRendered(rendered, input.revision ?? 1);
  return { ...rendered, recorded };
}
