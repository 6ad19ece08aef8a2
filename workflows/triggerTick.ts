// One tick of a cluster's triggers, started by the cluster's Temporal Schedule (one workflow per tick,
// so history stays bounded however long a trigger lives). The activity collects, records and
// evaluates; this workflow starts the chains that fired (single flight: a trigger whose chain still
// runs does not start another) and mails what needs a human: a tripped breaker, an unreachable node.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, proxyActivities, startChild, workflowInfo } from '@temporalio/workflow';
import type { ChainActivities } from '../activities/triggers/chain.ts';
import type { TickActivities } from '../activities/triggers/tick.ts';
import { triggerChain } from './triggerChain.ts';
import { scheduledTickTime, triggerTickInputSchema, type TriggerTickInput, type TriggerTickSummary } from './triggers.shared.ts';
import { workflowInput } from './validation.shared.ts';

const { evaluateTriggerTick } = proxyActivities<TickActivities>({
  // Collection has its own timeouts per node; a tick that cannot finish in a minute is retried.
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 5 },
});
const { closeTriggerFiring, notifyTriggerEvents } = proxyActivities<ChainActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds', maximumAttempts: 10 },
});

/** Chains started at once: a tick that fires many triggers starts them in slices. */
const START_SLICE = 20;

export async function triggerTick(rawInput: TriggerTickInput): Promise<TriggerTickSummary> {
  const { cluster } = workflowInput(triggerTickInputSchema, rawInput);
  const info = workflowInfo();
  // The tick's time is its scheduled time (as Prometheus evaluates rules at aligned timestamps): heldFor
  // compares whole intervals, not start times jittered by collection.
  const scheduledAt = scheduledTickTime(info.workflowId, cluster);
  const outcome = await evaluateTriggerTick({ cluster, tickId: info.runId, ...(scheduledAt ? { scheduledAt } : {}) });

  const started: string[] = [];
  const suppressed: string[] = [];
  for (let i = 0; i < outcome.fire.length; i += START_SLICE) {
    await Promise.all(
      outcome.fire.slice(i, i + START_SLICE).map(async (start) => {
        try {
          await startChild(triggerChain, {
            workflowId: start.workflowId,
            taskQueue: info.taskQueue,
            args: [{ cluster, trigger: start.trigger, firingId: start.firingId }],
            // The chain outlives this tick.
            parentClosePolicy: ParentClosePolicy.ABANDON,
            workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          });
          started.push(start.trigger);
        } catch (error) {
          if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
          suppressed.push(start.trigger);
          await closeTriggerFiring({ firingId: start.firingId, outcome: 'suppressed', detail: 'its chain was still running (one chain per trigger at a time)' });
        }
      }),
    );
  }
  if (outcome.tripped.length || outcome.unreachable.length) await notifyTriggerEvents({ cluster, tripped: outcome.tripped, unreachable: outcome.unreachable });
  return { cluster, evaluated: outcome.evaluated, samples: outcome.samples, failedSamples: outcome.failedSamples, started, suppressed, tripped: outcome.tripped };
}
