// distributedScript with stub per-node script activities: the three failure policies (fail-fast,
// continue, tolerate) and a re-run on the nodes that failed.
import { describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { NodeActivities } from '../../activities/nodes/index.ts';
import { distributedScript } from '../../workflows/distributedScript.ts';
import type { DistributedScriptInput, NodeOutcome, ScriptRunStatus } from '../../workflows/nodes.shared.ts';
import { scriptResult, sshTarget } from './support/nodes.ts';
import { useWorkflowTestEnvironment } from './support/workflowEnv.ts';

const { runWorkflow } = useWorkflowTestEnvironment();

const clusterNodes = ['web01', 'web02', 'web03', 'web04'];

/**
 * The cluster's active nodes and a script that exits 1 on `exitsNonZero` and cannot reach
 * `unreachable` (every attempt fails). Records which nodes the script was started on.
 */
function stubScriptActivities(failing: { exitsNonZero?: string[]; unreachable?: string[] } = {}) {
  const ranOn: string[] = [];
  const asked: (string[] | undefined)[] = [];
  const activities: Partial<NodeActivities> = {
    async activeNodeTargets(_cluster, only) {
      asked.push(only);
      return clusterNodes.filter((node) => !only || only.includes(node)).map(sshTarget);
    },
    async runScriptOnNode({ target }) {
      ranOn.push(target.node);
      if (failing.unreachable?.includes(target.node)) throw new Error(`ssh: connect to ${target.host}: Connection refused`);
      if (failing.exitsNonZero?.includes(target.node)) return scriptResult(target.node, { outcome: 'failed', exitCode: 1, stderr: 'boom' });
      return scriptResult(target.node);
    },
  };
  return { activities, ranOn, asked };
}

const scriptRun = (fields: Partial<DistributedScriptInput>): DistributedScriptInput => ({
  cluster: 'web', runId: 'run-1', script: 'uptime', parallelism: 1, failurePolicy: 'continue', ...fields,
});

const outcomes = (status: ScriptRunStatus): Record<string, NodeOutcome> => Object.fromEntries(status.nodes.map((n) => [n.node, n.outcome]));

async function failedRun(input: DistributedScriptInput, activities: Partial<NodeActivities>): Promise<{ cause: ApplicationFailure; status: ScriptRunStatus }> {
  const failure = await runWorkflow(distributedScript, { args: [input], activities }).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  const cause = (failure as WorkflowFailedError).cause as ApplicationFailure;
  expect(cause.type).toBe('ScriptRunFailed');
  return { cause, status: cause.details?.[0] as ScriptRunStatus };
}

describe('distributedScript (stub activities)', () => {
  it('fail-fast: no node starts after the first failure, and the rest are reported skipped', async () => {
    const stubs = stubScriptActivities({ exitsNonZero: ['web02'] });
    const { cause, status } = await failedRun(scriptRun({ failurePolicy: 'fail-fast' }), stubs.activities);
    expect(stubs.ranOn).toEqual(['web01', 'web02']);
    expect(outcomes(status)).toEqual({ web01: 'succeeded', web02: 'failed', web03: 'skipped', web04: 'skipped' });
    expect(status.state).toBe('failed');
    expect(cause.message).toBe('Script failed on 3 of 4 node(s): web02 failed (exit 1), web03 skipped, web04 skipped');
  });

  it('continue: every node runs, and one failure fails the run', async () => {
    const stubs = stubScriptActivities({ exitsNonZero: ['web02'], unreachable: ['web03'] });
    const { status } = await failedRun(scriptRun({ failurePolicy: 'continue', parallelism: 2 }), stubs.activities);
    expect([...new Set(stubs.ranOn)].sort()).toEqual(clusterNodes);
    // An unreachable node is tried three times (the activity's retry policy), a script that ran only once.
    expect(stubs.ranOn.filter((node) => node === 'web03')).toHaveLength(3);
    expect(stubs.ranOn.filter((node) => node === 'web02')).toHaveLength(1);
    expect(outcomes(status)).toEqual({ web01: 'succeeded', web02: 'failed', web03: 'unreachable', web04: 'succeeded' });
    expect(status.nodes.find((n) => n.node === 'web03')?.error).toContain('Connection refused');
  });

  it('tolerate: the run succeeds as partial while failures stay within the fraction, and fails beyond it', async () => {
    const within = stubScriptActivities({ exitsNonZero: ['web04'] });
    const partial = await runWorkflow(distributedScript, { args: [scriptRun({ failurePolicy: 'tolerate', toleratedFailureFraction: 0.25, parallelism: 4 })], activities: within.activities });
    expect(partial.state).toBe('partial');
    expect(outcomes(partial)).toEqual({ web01: 'succeeded', web02: 'succeeded', web03: 'succeeded', web04: 'failed' });

    const beyond = stubScriptActivities({ exitsNonZero: ['web03', 'web04'] });
    const { status } = await failedRun(scriptRun({ failurePolicy: 'tolerate', toleratedFailureFraction: 0.25, parallelism: 4 }), beyond.activities);
    expect(status.state).toBe('failed');
    expect(beyond.ranOn.sort()).toEqual(clusterNodes);
  });

  it('re-runs the script on the nodes that failed, and only on those', async () => {
    const first = stubScriptActivities({ exitsNonZero: ['web02', 'web04'] });
    const { status } = await failedRun(scriptRun({ runId: 'run-1' }), first.activities);
    const failedNodes = status.nodes.filter((n) => n.outcome !== 'succeeded').map((n) => n.node);
    expect(failedNodes).toEqual(['web02', 'web04']);

    const rerun = stubScriptActivities();
    const result = await runWorkflow(distributedScript, { args: [scriptRun({ runId: 'run-2', nodes: failedNodes })], activities: rerun.activities });
    expect(rerun.asked).toEqual([['web02', 'web04']]);
    expect(rerun.ranOn).toEqual(['web02', 'web04']);
    expect(result.state).toBe('succeeded');
    expect(outcomes(result)).toEqual({ web02: 'succeeded', web04: 'succeeded' });
  });
});
