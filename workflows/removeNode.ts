// Node removal (PyScaler's ec2nodeRemove, which never deregistered): deregister → wait drained →
// terminate → wait terminated → cluster update → email. Until the instance is terminated a failure
// puts the node back (registered and active); after that, removal only moves forward.
import { CancellationScope, isCancellation, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { FleetDomain } from '../temporal/searchAttributes.ts';
import { defaultNodeTimings, removeNodeInputSchema, removeSteps, runbookStatusQuery, type RemoveNodeInput, type RunbookResult } from './nodes.shared.ts';
import { Runbook } from './runbook.ts';
import { workflowInput } from './validation.shared.ts';
import { clusterUpdate, notifier, runbookActivities } from './runbookActivities.ts';

export async function removeNode(rawInput: RemoveNodeInput): Promise<RunbookResult> {
  const input = workflowInput(removeNodeInputSchema, rawInput);
  upsertSearchAttributes([{ key: FleetDomain, value: 'nodes' }]);
  const timings = { ...defaultNodeTimings, ...input.timings };
  const runbook = new Runbook('remove', input.cluster, removeSteps);
  runbook.status.node = input.node;
  setHandler(runbookStatusQuery, () => runbook.status);
  const acts = runbookActivities(timings);
  let notify = input.notify ?? null;

  try {
    const { node, cluster, ec2Profile } = await runbook.step('check', () => acts.records.beginRemoval({ cluster: input.cluster, node: input.node }), (r) => `${r.node.instanceId ?? 'no instance'}`);
    notify ??= cluster.notifyEmail;
    runbook.status.instanceId = node.instanceId;
    runbook.compensate('check', () => acts.undo.setNodeState(cluster.name, node.name, 'active'));
    if (node.instanceId) {
      const lbTarget = { region: ec2Profile.region, targetGroup: ec2Profile.targetGroup, instanceId: node.instanceId, port: ec2Profile.targetPort };
      runbook.compensate('lb-deregister', () => acts.undo.registerTarget(lbTarget));
      await runbook.step('lb-deregister', () => acts.records.deregisterTarget(lbTarget));
      await runbook.step('lb-drained', () => acts.waitTarget.waitTargetDrained({ ...lbTarget, timeoutMs: timings.targetDrainedMs, pollMs: timings.pollMs }));
      const terminated = await runbook.step('terminate', () =>
        acts.records.terminateDeploymentInstances({ region: ec2Profile.region, deploymentId: node.deploymentId, instanceId: node.instanceId }),
        (ids) => ids.join(', '),
      );
      for (const instanceId of terminated) {
        await runbook.step('wait-terminated', () => acts.waitTerminated.waitInstanceTerminated({ region: ec2Profile.region, instanceId, timeoutMs: timings.instanceTerminatedMs, pollMs: timings.pollMs }));
      }
      if (terminated.length === 0) runbook.skip('wait-terminated', 'no instance was running');
    } else {
      for (const step of ['lb-deregister', 'lb-drained', 'terminate', 'wait-terminated']) runbook.skip(step, 'the node never got an instance');
    }
    await runbook.step('cluster-update', () => clusterUpdate(acts, cluster, 'remove', node.name, timings.scriptMs), (r) => r);
    runbook.setState('succeeded');
  } catch (error) {
    await CancellationScope.nonCancellable(async () => {
      const undoable = !runbook.status.steps.some((s) => s.name === 'terminate' && s.status === 'done');
      if (undoable && runbook.status.steps.some((s) => s.status === 'done')) await runbook.rollBack();
      else runbook.setState('failed');
      await notifier(acts, runbook, notify).failed(`Removal of ${input.node} from ${input.cluster} ${isCancellation(error) ? 'was cancelled' : 'failed'}`);
    });
    if (isCancellation(error)) throw error;
    throw runbook.failure('Removal');
  }
  await notifier(acts, runbook, notify).succeeded(`${input.node} removed from cluster ${input.cluster}`, `Instance ${runbook.status.instanceId ?? '(none)'} is terminated and the node is gone from the cluster.`);
  return { cluster: input.cluster, node: input.node, instanceId: runbook.status.instanceId };
}
