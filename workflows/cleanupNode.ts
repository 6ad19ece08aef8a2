// Cleanup of a node a deployment left behind (its row stuck in `launching` or `configuring`, e.g. after
// an outage outlasted an older saga's compensations): terminates the deployment's instances (found by
// their tag too), waits until they are gone, then deletes the node row. Every call is retried until it
// succeeds, at most timings.compensationRetryMaxMs apart. Started by POST .../nodes/<node>/cleanup.
import { upsertSearchAttributes } from '@temporalio/workflow';
import * as z from 'zod/mini';
import { FleetDomain } from '../temporal/searchAttributes.ts';
import { clusterNameSchema, defaultNodeTimings, deploymentIdSchema, nodeNameSchema, timingsSchema } from './nodes.shared.ts';
import { runbookActivities } from './runbookActivities.ts';
import { workflowInput } from './validation.shared.ts';

export const cleanupNodeWorkflowId = (cluster: string, node: string) => `node-cleanup:${cluster}:${node}`;

export const cleanupNodeInputSchema = z.strictObject({
  cluster: clusterNameSchema,
  node: nodeNameSchema,
  deploymentId: deploymentIdSchema,
  region: z.string().check(z.minLength(1), z.maxLength(32)),
  instanceId: z.nullable(z.string().check(z.maxLength(64))),
  timings: z.optional(timingsSchema),
});
export type CleanupNodeInput = z.input<typeof cleanupNodeInputSchema>;

export async function cleanupNode(rawInput: CleanupNodeInput): Promise<{ cluster: string; node: string; terminated: string[] }> {
  const input = workflowInput(cleanupNodeInputSchema, rawInput);
  upsertSearchAttributes([{ key: FleetDomain, value: 'nodes' }]);
  const timings = { ...defaultNodeTimings, ...input.timings };
  const { undo } = runbookActivities(timings);
  const terminated = await undo.terminateDeploymentInstances({ region: input.region, deploymentId: input.deploymentId, instanceId: input.instanceId });
  for (const instanceId of terminated) await undo.waitInstanceTerminated({ region: input.region, instanceId, timeoutMs: timings.instanceTerminatedMs, pollMs: timings.pollMs });
  await undo.deleteNode(input.cluster, input.node);
  return { cluster: input.cluster, node: input.node, terminated };
}
