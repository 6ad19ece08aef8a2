// New-node deployment (PyScaler's DeployEc2Node, OSConfiguration, LocalScript and Email) as a saga:
// launch → running → status ok → SSH login → Puppet → Tomcat → application → load balancer (after
// configuration, unlike the original) → healthy → cluster update → email. A failure undoes what was
// done, newest first (deregister, terminate, forget the node), and the email names the step.
import { CancellationScope, isCancellation, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { NodeActivities } from '../activities/nodes/index.ts';
import { FleetDomain } from '../temporal/searchAttributes.ts';
import {
  clientTokenFor,
  defaultNodeTimings,
  deployNodeInputSchema,
  deploySteps,
  runbookStatusQuery,
  type DeployNodeInput,
  type RunbookResult,
  type SshTarget,
} from './nodes.shared.ts';
import { Runbook } from './runbook.ts';
import { workflowInput } from './validation.shared.ts';
import { clusterUpdate, notifier, runbookActivities } from './runbookActivities.ts';

export async function deployNode(rawInput: DeployNodeInput): Promise<RunbookResult> {
  const input = workflowInput(deployNodeInputSchema, rawInput);
  upsertSearchAttributes([{ key: FleetDomain, value: 'nodes' }]);
  const timings = { ...defaultNodeTimings, ...input.timings };
  const runbook = new Runbook('deploy', input.cluster, deploySteps);
  setHandler(runbookStatusQuery, () => runbook.status);
  const acts = runbookActivities(timings);
  const { waitSshLogin } = proxyActivities<NodeActivities>({
    // The activity keeps trying logins until sshReadyMs; a retry only replaces a worker that died.
    startToCloseTimeout: timings.sshReadyMs + 30_000,
    heartbeatTimeout: '6 seconds',
    retry: { maximumAttempts: 3 },
  });
  let notify = input.notify ?? null;
  let node = '';

  try {
    const reservation = await runbook.step('reserve', () =>
      acts.records.reserveNode({ deploymentId: input.deploymentId, cluster: input.cluster, ec2Profile: input.ec2Profile, sshProfile: input.sshProfile }),
      (r) => `${r.node.name}, ${r.ec2Profile.name} / ${r.sshProfile.name}`,
    );
    const { cluster, ec2Profile, sshProfile } = reservation;
    node = reservation.node.name;
    runbook.status.node = node;
    notify ??= cluster.notifyEmail;
    runbook.compensate('reserve', () => acts.undo.releaseReservation(input.deploymentId));

    // Registered before the launch: a launch whose answer was lost is still found (by its tag) and terminated.
    let instanceId: string | null = null;
    runbook.compensate('launch', async () => {
      const terminated = await acts.undo.terminateDeploymentInstances({ region: ec2Profile.region, deploymentId: input.deploymentId, instanceId });
      for (const id of terminated) await acts.undo.waitInstanceTerminated({ region: ec2Profile.region, instanceId: id, timeoutMs: timings.instanceTerminatedMs, pollMs: timings.pollMs });
    });
    const launched = await runbook.step('launch', () =>
      acts.records.launchInstance({ deploymentId: input.deploymentId, clientToken: clientTokenFor(input.deploymentId), cluster: cluster.name, node, profile: ec2Profile }),
      (r) => `${r.instanceId}${r.reused ? ' (found from an earlier attempt)' : ''}`,
    );
    instanceId = launched.instanceId;
    runbook.status.instanceId = instanceId;
    const wait = { region: ec2Profile.region, instanceId, pollMs: timings.pollMs };

    const running = await runbook.step(
      'wait-running',
      async () => {
        const addresses = await acts.waitRunning.waitInstanceRunning({ ...wait, timeoutMs: timings.instanceRunningMs, sshPort: sshProfile.port });
        await acts.records.recordInstance(input.deploymentId, { instanceId: addresses.instanceId, sshHost: addresses.sshHost, sshPort: addresses.sshPort, privateIp: addresses.privateIp });
        return addresses;
      },
      (r) => `SSH at ${r.sshHost}:${r.sshPort}`,
    );
    await runbook.step('wait-status-ok', () => acts.waitStatusOk.waitInstanceStatusOk({ ...wait, timeoutMs: timings.instanceStatusOkMs }));

    const target: SshTarget = { node, host: running.sshHost, port: running.sshPort, user: sshProfile.user, keyRef: sshProfile.keyRef };
    const context = { cluster: cluster.name, node, instanceId };
    await runbook.step(
      'ssh-ready',
      async () => {
        const login = await waitSshLogin({ target, timeoutMs: timings.sshReadyMs, pollMs: Math.min(timings.pollMs, 1000) });
        // From here on, every login to this node must present the same host key.
        target.hostKeySha256 = login.hostKeySha256;
        await acts.records.recordHostKey(input.deploymentId, login.hostKeySha256);
        await acts.records.setNodeState(cluster.name, node, 'configuring');
        return login;
      },
      (r) => `login in ${r.loginMs} ms after ${r.attempts} attempt(s)`,
    );

    if (cluster.puppetManifest) {
      await runbook.step('os-configuration', () => acts.puppet.applyPuppetManifest({ target, context, manifest: cluster.puppetManifest!, timeoutMs: timings.puppetMs }), (r) => (r.changed ? 'changes applied' : 'already configured'));
    } else runbook.skip('os-configuration', 'the cluster has no manifest');
    for (const [step, script, summary] of [
      ['tomcat', cluster.tomcatScript, 'Tomcat configuration'],
      ['app-deploy', cluster.deployScript, 'Application deployment'],
    ] as const) {
      if (!script) {
        runbook.skip(step, 'the cluster has no script for it');
        continue;
      }
      await runbook.step(step, () => acts.script.runNodeScript.executeWithOptions({ ...acts.scriptOptions, summary }, [{ target, context, script, timeoutMs: timings.scriptMs }]), (r) => `${r.durationMs} ms`);
    }

    const lbTarget = { region: ec2Profile.region, targetGroup: ec2Profile.targetGroup, instanceId, port: ec2Profile.targetPort };
    runbook.compensate('lb-register', () => acts.undo.deregisterTarget(lbTarget));
    await runbook.step('lb-register', () => acts.records.registerTarget(lbTarget), (r) => r.targetGroupArn.split(':').pop());
    await runbook.step('lb-healthy', () => acts.waitTarget.waitTargetHealthy({ ...lbTarget, timeoutMs: timings.targetHealthyMs, pollMs: timings.pollMs }));

    // Undone first, so no script run picks the node while it is deregistered and terminated.
    runbook.compensate('cluster-update', () => acts.undo.setNodeState(cluster.name, node, 'configuring'));
    await runbook.step('cluster-update', () => clusterUpdate(acts, cluster, 'activate', node, timings.scriptMs), (r) => r);
    runbook.setState('succeeded');
  } catch (error) {
    // Also when the deployment was cancelled: undo and tell, then end as cancelled.
    await CancellationScope.nonCancellable(async () => {
      if (runbook.status.steps.some((s) => s.status === 'done')) await runbook.rollBack();
      else runbook.setState('failed');
      await notifier(acts, runbook, notify).failed(`Deployment of ${node || 'a new node'} to ${input.cluster} ${isCancellation(error) ? 'was cancelled' : 'failed'}`);
    });
    if (isCancellation(error)) throw error;
    throw runbook.failure('Deployment');
  }

  await notifier(acts, runbook, notify).succeeded(`${node} deployed to cluster ${input.cluster}`, `Instance ${runbook.status.instanceId} is in service (workflow ${workflowInfo().workflowId}).`);
  return { cluster: input.cluster, node, instanceId: runbook.status.instanceId };
}
