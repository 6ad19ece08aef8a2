// Dry runs, on the worker (which holds the SSH keys and the collectors): a counter tried on nodes
// before it is saved, and a trigger evaluated on fresh samples without changing its state.
import { proxyActivities } from '@temporalio/workflow';
import type { TickActivities, TriggerPreview } from '../activities/triggers/tick.ts';
import { triggerPreviewInputSchema, type Sample, type TriggerPreviewInput } from './triggers.shared.ts';
import { workflowInput } from './validation.shared.ts';

const { sampleCounters, previewTrigger } = proxyActivities<TickActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 2 },
});

export async function triggerPreview(rawInput: TriggerPreviewInput): Promise<{ samples: Sample[] } | TriggerPreview> {
  const input = workflowInput(triggerPreviewInputSchema, rawInput);
  if (input.kind === 'counter') return { samples: await sampleCounters({ cluster: input.cluster, counters: [{ name: input.name, ...input.counter }], nodes: input.nodes }) };
  return previewTrigger({ trigger: { name: input.name, ...input.trigger } });
}
