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
  fractalJobOf,
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
    const jobs = Array.from({ length: Math.min(sliceSize, end - from) }, (_, i) => {
      const { uuid, params } = batchTask(batchId, spec, from + i);
      return fractalJobOf(uuid, params);
    });
    // The slice's records in one statement, before its workflows start (each would otherwise record its own).
    const recordedNow = new Set(await records.recordFractalsAccepted(jobs, batchId));
    const outcomes = await Promise.all(
      jobs.map(async (job) => {
        const { uuid } = job;
        try {
          await startChild(fractal, {
            workflowId: fractalWorkflowId(uuid),
            taskQueue: workflowInfo().taskQueue,
            args: [{ ...job, batchId, recorded: true, ...(input.timings ? { timings: input.timings } : {}) }],
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
    // A fractal whose workflow had run before (a batch started again) and whose record was deleted
    // since got a record just now that nothing will render: forget it again.
    const orphans = jobs.filter((job, i) => outcomes[i] === 0 && recordedNow.has(job.uuid)).map((job) => job.uuid);
    if (orphans.length > 0) await records.forgetFractals(orphans);
  }
  if (end < spec.tasks) await continueAsNew<typeof fractalBatch>({ ...rawInput, next: end, started });
  return { batchId, tasks: spec.tasks, started };
}
