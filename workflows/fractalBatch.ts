// A batch of fractals (`faafo create --tasks N`): starts one fractal workflow per task, a slice at a
// time, and continues as new every few hundred, so no history grows with the batch. Each task's uuid
// and parameters are drawn from the batch ID (batchTask), so a batch started again meets its own
// fractals (their IDs are taken) instead of making new ones.
import { continueAsNew, ParentClosePolicy, proxyLocalActivities, startChild, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import type { FractalRecordActivities } from '../activities/fractals/records.ts';
import { FleetDomain } from '../temporal/searchAttributes.ts';
import { fractal } from './fractal.ts';
import {
  batchTask,
  fractalBatchDefaultsOfRun,
  fractalBatchInputSchema,
  fractalWorkflowId,
  type FractalBatchInput,
  type FractalBatchResult,
} from './fractals.shared.ts';
import { workflowInput } from './validation.shared.ts';

const records = proxyLocalActivities<FractalRecordActivities>({ startToCloseTimeout: '30 seconds', retry: { maximumInterval: '30 seconds' } });

export async function fractalBatch(rawInput: FractalBatchInput): Promise<FractalBatchResult> {
  const input = workflowInput(fractalBatchInputSchema, rawInput);
  const { batchId, spec } = input;
  const sliceSize = input.sliceSize ?? fractalBatchDefaultsOfRun.sliceSize;
  const tasksPerRun = input.tasksPerRun ?? fractalBatchDefaultsOfRun.tasksPerRun;
  const next = input.next ?? 0;
  let started = input.started ?? 0;
  if (next === 0) await records.recordFractalBatch(batchId, spec.tasks);

  const end = Math.min(spec.tasks, next + tasksPerRun);
  for (let from = next; from < end; from += sliceSize) {
    const indexes = Array.from({ length: Math.min(sliceSize, end - from) }, (_, i) => from + i);
    const outcomes = await Promise.all(
      indexes.map(async (index) => {
        const { uuid, params } = batchTask(batchId, spec, index);
        try {
          await startChild(fractal, {
            workflowId: fractalWorkflowId(uuid),
            taskQueue: workflowInfo().taskQueue,
            args: [{ uuid, ...params, batchId, ...(input.timings ? { timings: input.timings } : {}) }],
            // Each fractal lives on its own: the batch only starts them, and may continue as new meanwhile.
            parentClosePolicy: ParentClosePolicy.ABANDON,
            // A fractal made once (even finished) is not made again by a batch started again.
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            typedSearchAttributes: [{ key: FleetDomain, value: 'fractals' }],
          });
          return 1;
        } catch (error) {
          if (error instanceof WorkflowExecutionAlreadyStartedError) return 0;
          throw error;
        }
      }),
    );
    started += outcomes.reduce<number>((sum, n) => sum + n, 0);
  }
  if (end < spec.tasks) await continueAsNew<typeof fractalBatch>({ ...rawInput, next: end, started });
  return { batchId, tasks: spec.tasks, started };
}
