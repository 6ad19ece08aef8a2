// The node runbooks with stub activities. deployNode is a saga: a failure at each step undoes what
// was done, newest first, and the mail names the step; a cancellation undoes too and ends the
// workflow cancelled. removeNode puts the node back (registered with the load balancer again,
// active again) when it fails before the instance is terminated; after that it only moves forward.
import { describe, expect, it } from 'vitest';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { deployNode } from '../../workflows/deployNode.ts';
import { deploySteps, removeSteps, type RunbookStatus } from '../../workflows/nodes.shared.ts';
import { removeNode } from '../../workflows/removeNode.ts';
import { cluster, ec2Profile, nodeRecord, sshProfile, stubNodeActivities } from './support/nodes.ts';
import { heartbeatUntilCancelled, signalled, useWorkflowTestEnvironment } from './support/workflowEnv.ts';

const { runWorkflow, withWorkflow } = useWorkflowTestEnvironment();

type StepName = (typeof deploySteps)[number]['name'];

const deployment = { cluster: 'web', deploymentId: 'dep-1', notify: 'oncall@fleet.test' };

/** The call each step is made to fail at: the step's own work. */
const failingCall: Record<StepName, string> = {
  reserve: 'reserveNode',
  launch: 'launchInstance',
  'wait-running': 'waitInstanceRunning',
  'wait-status-ok': 'waitInstanceStatusOk',
  'ssh-ready': 'waitSshLogin',
  'os-configuration': 'applyPuppetManifest',
  tomcat: 'runNodeScript(configure-tomcat)',
  'app-deploy': 'runNodeScript(deploy-app)',
  'lb-register': 'registerTarget(i-0abc)',
  'lb-healthy': 'waitTargetHealthy',
  'cluster-update': 'runScriptOnNode(web01)',
  notify: 'sendEmail',
};

// What undoing looks like, newest first.
const release = ['releaseReservation(dep-1)'];
const terminate = ['terminateDeploymentInstances(i-0abc)', 'waitInstanceTerminated(i-0abc)', ...release];
const deregister = ['deregisterTarget(i-0abc)', ...terminate];
const expectedUndo: Record<Exclude<StepName, 'notify'>, string[]> = {
  reserve: [],
  // The launch's answer never came: its instance is found by the deployment's tag and terminated.
  launch: ['terminateDeploymentInstances(no id)', 'waitInstanceTerminated(i-found-by-tag)', ...release],
  'wait-running': terminate,
  'wait-status-ok': terminate,
  'ssh-ready': terminate,
  'os-configuration': terminate,
  tomcat: terminate,
  'app-deploy': terminate,
  'lb-register': deregister,
  'lb-healthy': deregister,
  'cluster-update': ['setNodeState(web01, configuring)', ...deregister],
};

/** The reason the failure names: the failing call's error, or the fan-out's summary of the update script. */
const reason = (step: StepName) => (step === 'cluster-update' ? 'cluster update script failed on web01 (unreachable)' : `${failingCall[step]} broke`);

const undoCalls = (calls: string[]) => calls.filter((c) => /^(releaseReservation|terminateDeploymentInstances|deregisterTarget)/.test(c));

describe('deployNode (stub activities)', () => {
  it('runs every step and mails the success when nothing fails', async () => {
    const stubs = stubNodeActivities();
    const result = await runWorkflow(deployNode, { args: [deployment], activities: stubs.activities });
    expect(result).toEqual({ cluster: 'web', node: 'web01', instanceId: 'i-0abc' });
    for (const call of Object.values(failingCall)) expect(stubs.calls).toContain(call);
    expect(undoCalls(stubs.calls)).toEqual([]);
    expect(stubs.emails).toEqual([expect.objectContaining({ to: 'oncall@fleet.test', subject: '[fleet] web01 deployed to cluster web' })]);
  });

  it.each(deploySteps.filter((step) => step.name !== 'notify'))('a failure at $name undoes what was done, newest first, and the mail names the step', async ({ name, label }) => {
    const stubs = stubNodeActivities({ failAt: failingCall[name] });
    const failure = await runWorkflow(deployNode, { args: [deployment], activities: stubs.activities }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('DeploymentFailed');
    expect(cause!.message).toBe(`Deployment failed at "${label}": ${reason(name)}`);
    const status = (cause as ApplicationFailure).details?.[0] as RunbookStatus;
    expect(status.failure?.step).toBe(name);
    expect(status.state).toBe(name === 'reserve' ? 'failed' : 'rolled-back');

    expect(stubs.callsAfter(failingCall[name])).toEqual(expectedUndo[name]);
    expect(stubs.emails).toHaveLength(1);
    expect(stubs.emails[0]).toMatchObject({ to: 'oncall@fleet.test', subject: expect.stringContaining(`failed at step "${label}"`) });
    expect(stubs.emails[0]!.text).toContain(`Failed step: ${label}\nReason: ${reason(name)}`);
  });

  it('keeps a finished deployment when the mail fails', async () => {
    const stubs = stubNodeActivities({ failAt: 'sendEmail' });
    const result = await runWorkflow(deployNode, { args: [deployment], activities: stubs.activities });
    expect(result).toEqual({ cluster: 'web', node: 'web01', instanceId: 'i-0abc' });
    expect(stubs.callsAfter('sendEmail')).toEqual([]);
    expect(undoCalls(stubs.calls)).toEqual([]);
  });

  it('undoes what was done when cancelled mid-run, mails that it was cancelled and ends cancelled', async () => {
    const waiting = signalled();
    const stubs = stubNodeActivities({
      overrides: {
        async waitInstanceStatusOk() {
          stubs.calls.push('waitInstanceStatusOk');
          waiting.resolve();
          await heartbeatUntilCancelled();
        },
      },
    });
    const failure = await withWorkflow(deployNode, { args: [deployment], activities: stubs.activities }, async (handle) => {
      await waiting.promise;
      await handle.cancel();
      return handle.result().catch((error: unknown) => error);
    });

    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(stubs.callsAfter('waitInstanceStatusOk')).toEqual(terminate);
    expect(stubs.emails.map((e) => e.subject)).toEqual(['[fleet] Deployment of web01 to web was cancelled at step "Wait until instance status checks pass"']);
  });
});

const removal = { cluster: 'web', node: 'web01' };
const labelOf = (step: string) => removeSteps.find((s) => s.name === step)!.label;

async function removalFailure(failAt: string) {
  const stubs = stubNodeActivities({ failAt });
  const failure = await runWorkflow(removeNode, { args: [removal], activities: stubs.activities }).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  const cause = (failure as WorkflowFailedError).cause as ApplicationFailure;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause.type).toBe('RemovalFailed');
  return { stubs, cause, status: cause.details?.[0] as RunbookStatus };
}

describe('removeNode (stub activities)', () => {
  it('deregisters, drains, terminates, forgets the node and mails the cluster', async () => {
    const stubs = stubNodeActivities();
    const result = await runWorkflow(removeNode, { args: [removal], activities: stubs.activities });
    expect(result).toEqual({ cluster: 'web', node: 'web01', instanceId: 'i-0abc' });
    expect(stubs.calls).toEqual([
      'beginRemoval', 'deregisterTarget(i-0abc)', 'waitTargetDrained', 'terminateDeploymentInstances(i-0abc)', 'waitInstanceTerminated(i-0abc)',
      'deleteNode(web01)', 'activeNodeTargets', 'runScriptOnNode(web01)', 'sendEmail',
    ]);
    expect(stubs.emails).toEqual([expect.objectContaining({ to: 'web-team@fleet.test', subject: '[fleet] web01 removed from cluster web' })]);
  });

  it('removes a registered node (no instance) without touching EC2 or the load balancer: its row goes, the cluster is updated', async () => {
    const stubs = stubNodeActivities();
    stubs.activities.beginRemoval = async (request) => {
      stubs.calls.push('beginRemoval');
      const node = nodeRecord({ name: request.node, deploymentId: 'registered-1', state: 'removing', instanceId: null, sshHost: 'build-box.fleet.test', sshPort: 22 });
      return { node, cluster, ec2Profile, sshProfile };
    };
    const result = await runWorkflow(removeNode, { args: [removal], activities: stubs.activities });
    expect(result).toEqual({ cluster: 'web', node: 'web01', instanceId: null });
    expect(stubs.calls).toEqual(['beginRemoval', 'deleteNode(web01)', 'activeNodeTargets', 'runScriptOnNode(web01)', 'sendEmail']);
  });

  it.each([
    { step: 'lb-drained', failAt: 'waitTargetDrained' },
    { step: 'terminate', failAt: 'terminateDeploymentInstances(i-0abc)' },
  ])('puts the node back when $step fails after deregistration: registered again, then active again', async ({ step, failAt }) => {
    const { stubs, cause, status } = await removalFailure(failAt);
    expect(cause.message).toBe(`Removal failed at "${labelOf(step)}": ${failAt} broke`);
    expect(stubs.callsAfter(failAt)).toEqual(['registerTarget(i-0abc)', 'setNodeState(web01, active)']);
    expect(status.state).toBe('rolled-back');
    expect(status.steps.find((s) => s.name === 'lb-deregister')?.status).toBe('compensated');
    expect(stubs.emails.map((e) => e.subject)).toEqual([`[fleet] Removal of web01 from web failed at step "${labelOf(step)}"`]);
  });

  it.each([
    { step: 'wait-terminated', failAt: 'waitInstanceTerminated(i-0abc)' },
    { step: 'cluster-update', failAt: 'deleteNode(web01)' },
  ])('only moves forward once the instance is terminated: a failure at $step puts nothing back', async ({ step, failAt }) => {
    const { stubs, cause, status } = await removalFailure(failAt);
    expect(cause.message).toBe(`Removal failed at "${labelOf(step)}": ${failAt} broke`);
    expect(stubs.callsAfter(failAt)).toEqual([]);
    expect(stubs.calls).not.toContain('registerTarget(i-0abc)');
    expect(status.state).toBe('failed');
    expect(stubs.emails.map((e) => e.subject)).toEqual([`[fleet] Removal of web01 from web failed at step "${labelOf(step)}"`]);
  });
});
