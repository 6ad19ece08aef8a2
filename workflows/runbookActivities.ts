// Activity stubs and shared steps of the node runbooks (deployNode, removeNode). Waits and timeouts
// come from the runbook's timings, so tests run the same code in milliseconds.
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import type { NodeActivities } from '../activities/nodes/index.ts';
import { failedOutcomes, type Cluster, type NodeTimings } from './nodes.shared.ts';
import type { Runbook } from './runbook.ts';
import { runScriptOnNodes } from './scriptFanOut.ts';

/** Refusals that retrying cannot fix: the model's codes and the activities' own. */
const finalErrors = ['UnknownCluster', 'UnknownProfile', 'UnknownNode', 'ClusterAtMax', 'ClusterAtMin', 'InUse', 'LaunchRefused', 'RegistrationRefused', 'TargetGroupNotFound', 'SshKeyMissing', 'SshHostKeyMismatch', 'BadAddress', 'AddressNotAllowed'];

export function runbookActivities(timings: NodeTimings) {
  const waiter = (timeoutMs: number) =>
    proxyActivities<NodeActivities>({
      startToCloseTimeout: timeoutMs + 60_000,
      heartbeatTimeout: '6 seconds',
      retry: { initialInterval: '1 second', maximumAttempts: 3, nonRetryableErrorTypes: finalErrors },
    });
  const scriptOptions: ActivityOptions = {
    startToCloseTimeout: timings.scriptMs + 30_000,
    heartbeatTimeout: '6 seconds',
    // A script that ran is not re-run (ScriptFailed is final); an unreachable node is tried again.
    retry: { initialInterval: '1 second', maximumAttempts: 3, nonRetryableErrorTypes: finalErrors },
  };
  return {
    /** Calls that answer at once: MySQL, RunInstances, TerminateInstances, (de)registration, email. */
    records: proxyActivities<NodeActivities>({
      // One API call or query each: a worker that died during one is replaced within 20 s.
      startToCloseTimeout: '20 seconds',
      retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds', maximumAttempts: 10, nonRetryableErrorTypes: finalErrors },
    }),
    /** Compensations: retried without limit (a final refusal aside), at most compensationRetryMaxMs apart. */
    undo: proxyActivities<NodeActivities>({
      startToCloseTimeout: timings.instanceTerminatedMs + 60_000,
      heartbeatTimeout: '6 seconds',
      retry: { initialInterval: Math.min(1000, timings.compensationRetryMaxMs), maximumInterval: timings.compensationRetryMaxMs, nonRetryableErrorTypes: finalErrors },
    }),
    waitRunning: waiter(timings.instanceRunningMs),
    waitStatusOk: waiter(timings.instanceStatusOkMs),
    waitTerminated: waiter(timings.instanceTerminatedMs),
    waitTarget: waiter(Math.max(timings.targetHealthyMs, timings.targetDrainedMs)),
    puppet: proxyActivities<NodeActivities>({ ...scriptOptions, startToCloseTimeout: timings.puppetMs + 30_000 }),
    script: proxyActivities<NodeActivities>(scriptOptions),
    scriptOptions,
  };
}

export type RunbookActivities = ReturnType<typeof runbookActivities>;

/**
 * The cluster learns of a node that joined (`activate`) or left (`remove`): the node's record
 * changes, then the cluster's update script runs on every active node. Returns a one-line summary.
 */
export async function clusterUpdate(acts: RunbookActivities, cluster: Cluster, change: 'activate' | 'remove', node: string, scriptMs: number): Promise<string> {
  if (change === 'activate') await acts.records.setNodeState(cluster.name, node, 'active');
  else await acts.records.deleteNode(cluster.name, node);
  if (!cluster.clusterUpdateScript) return change === 'activate' ? `${node} active` : `${node} removed`;
  const targets = await acts.records.activeNodeTargets(cluster.name);
  const results = await runScriptOnNodes(targets, { cluster: cluster.name, script: cluster.clusterUpdateScript, parallelism: 10, failurePolicy: 'continue', nodeTimeoutMs: scriptMs, change: { kind: change, node } });
  const failed = results.filter((r) => failedOutcomes.includes(r.outcome));
  if (failed.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `cluster update script failed on ${failed.map((r) => `${r.node} (${r.outcome}${r.exitCode !== null ? `, exit ${r.exitCode}` : ''})`).join(', ')}`,
      'ClusterUpdateFailed',
    );
  }
  return `update script ran on ${results.length} node(s)`;
}

/** The Email action at the end of a runbook: on success and on failure; mail trouble never undoes the work. */
export function notifier(acts: RunbookActivities, runbook: Runbook, to: string | null) {
  const send = async (subject: string, text: string) => {
    if (!to) {
      runbook.skip('notify', 'no address: set the cluster’s notify email');
      return;
    }
    try {
      await runbook.step('notify', () => acts.records.sendEmail({ to, subject, text }), () => `to ${to}`);
    } catch {
      // Recorded on the step; the runbook's outcome stands.
    }
  };
  return {
    succeeded: (subject: string, text: string) => send(`[fleet] ${subject}`, `${text}\n\nSteps:\n${runbook.stepLines()}\n`),
    failed: (subject: string) => {
      const failure = runbook.status.failure;
      const step = runbook.status.steps.find((s) => s.name === failure?.step);
      return send(
        `[fleet] ${subject} at step "${step?.label ?? 'unknown'}"`,
        `Failed step: ${step?.label ?? 'unknown'}\nReason: ${failure?.message ?? 'unknown'}\nOutcome: ${runbook.status.state}\n\nSteps:\n${runbook.stepLines()}\n`,
      );
    },
  };
}
