// DistributedScript: one script on every active node of a cluster (or the named ones, e.g. the
// nodes that failed last time), with per-node exit code, output and duration, and a failure policy.
import { ApplicationFailure, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { NodeActivities } from '../activities/nodes/index.ts';
import { FleetDomain, FleetStatus } from '../temporal/searchAttributes.ts';
import { distributedScriptInputSchema, scriptRunStatusQuery, scriptRunVerdict, type DistributedScriptInput, type ScriptRunStatus } from './nodes.shared.ts';
import { runScriptOnNodes } from './scriptFanOut.ts';
import { workflowInput } from './validation.shared.ts';

const { activeNodeTargets } = proxyActivities<NodeActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 10, maximumInterval: '10 seconds' },
});

export async function distributedScript(rawInput: DistributedScriptInput): Promise<ScriptRunStatus> {
  const input = workflowInput(distributedScriptInputSchema, rawInput);
  upsertSearchAttributes([{ key: FleetDomain, value: 'nodes' }, { key: FleetStatus, value: 'running' }]);
  const status: ScriptRunStatus = {
    cluster: input.cluster,
    runId: input.runId,
    parallelism: input.parallelism,
    failurePolicy: input.failurePolicy,
    toleratedFailureFraction: input.failurePolicy === 'tolerate' ? (input.toleratedFailureFraction ?? 0) : 0,
    state: 'running',
    nodes: [],
    startedAt: new Date().toISOString(),
  };
  setHandler(scriptRunStatusQuery, () => status);
  const targets = await activeNodeTargets(input.cluster, input.nodes);
  status.nodes = await runScriptOnNodes(targets, {
    cluster: input.cluster,
    script: input.script,
    parallelism: input.parallelism,
    failurePolicy: input.failurePolicy,
    nodeTimeoutMs: input.nodeTimeoutMs ?? 15 * 60_000,
    onProgress: (results) => (status.nodes = results),
  });
  status.state = scriptRunVerdict(status.nodes, input.failurePolicy, status.toleratedFailureFraction);
  status.endedAt = new Date().toISOString();
  upsertSearchAttributes([{ key: FleetStatus, value: status.state }]);
  if (status.state === 'failed') {
    const failed = status.nodes.filter((n) => n.outcome !== 'succeeded');
    throw ApplicationFailure.nonRetryable(
      `Script failed on ${failed.length} of ${status.nodes.length} node(s): ${failed.slice(0, 5).map((n) => `${n.node} ${n.outcome}${n.exitCode !== null ? ` (exit ${n.exitCode})` : ''}`).join(', ')}`,
      'ScriptRunFailed',
      status,
    );
  }
  return status;
}
