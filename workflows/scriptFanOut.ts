// DistributedScript's core: a script on many nodes with bounded parallelism and a failure policy.
// Used by the distributedScript workflow and by the runbooks' "cluster update" step.
import { ActivityCancellationType, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { NodeActivities } from '../activities/nodes/index.ts';
import { failedOutcomes, type FailurePolicy, type NodeScriptResult, type SshTarget } from './nodes.shared.ts';
import { failureMessage } from './runbook.ts';

export interface FanOutOptions {
  cluster: string;
  script: string;
  parallelism: number;
  failurePolicy: FailurePolicy;
  nodeTimeoutMs: number;
  /** A cluster update's cause, given to the script as FLEET_CHANGE and FLEET_CHANGED_NODE. */
  change?: { kind: 'activate' | 'remove'; node: string };
  /** Called with the results array whenever a node starts or ends (for status queries). */
  onProgress?: (results: NodeScriptResult[]) => void;
}

const pendingResult = (node: string): NodeScriptResult => ({ node, outcome: 'pending', exitCode: null, stdout: '', stderr: '', truncated: false, durationMs: null });

export async function runScriptOnNodes(targets: SshTarget[], options: FanOutOptions, results = targets.map((t) => pendingResult(t.node))): Promise<NodeScriptResult[]> {
  const { runScriptOnNode } = proxyActivities<NodeActivities>({
    startToCloseTimeout: options.nodeTimeoutMs + 30_000,
    heartbeatTimeout: '6 seconds',
    // A cancelled run waits until each node's script is stopped there (the activity kills it).
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    // An unreachable node gets three tries; a script that ran is never re-run (its exit is the result).
    retry: { initialInterval: '500 milliseconds', maximumAttempts: 3, nonRetryableErrorTypes: ['SshKeyMissing', 'SshHostKeyMismatch'] },
  });
  let next = 0;
  let stop = false;
  let cancelled: unknown;
  const lane = async () => {
    while (!stop && next < targets.length) {
      const index = next++;
      const target = targets[index]!;
      results[index] = { ...pendingResult(target.node), outcome: 'running' };
      options.onProgress?.(results);
      try {
        results[index] = await runScriptOnNode({ target, context: { cluster: options.cluster, node: target.node, ...(options.change && { change: options.change }) }, script: options.script, timeoutMs: options.nodeTimeoutMs });
      } catch (error) {
        if (isCancellation(error)) {
          cancelled ??= error;
          stop = true;
          results[index] = { ...pendingResult(target.node), outcome: 'failed', error: 'cancelled: the script was stopped on the node' };
          continue;
        }
        results[index] = { ...pendingResult(target.node), outcome: 'unreachable', error: failureMessage(error) };
      }
      // Fail fast: no node starts after the first failure; those already running finish.
      if (options.failurePolicy === 'fail-fast' && failedOutcomes.includes(results[index].outcome)) stop = true;
      options.onProgress?.(results);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.parallelism, targets.length)) }, lane));
  for (const [index, result] of results.entries()) {
    if (result.outcome === 'pending') results[index] = { ...result, outcome: 'skipped', error: 'not started: an earlier node failed (fail-fast)' };
  }
  options.onProgress?.(results);
  if (cancelled !== undefined) throw cancelled;
  return results;
}
