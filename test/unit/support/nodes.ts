// A cluster, its profiles and stub node activities for the node workflows' unit tests. Every stub
// records its call with the argument that matters ("deregisterTarget(i-0abc)"), so a test can
// assert the exact order of what a workflow did and undid.
import { expect } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import type { Email } from '../../../activities/nodes/email.ts';
import type { NodeActivities } from '../../../activities/nodes/index.ts';
import type { Cluster, Ec2Profile, NodeRecord, NodeScriptResult, SshProfile, SshTarget } from '../../../workflows/nodes.shared.ts';

export const cluster: Cluster = {
  name: 'web', minNodes: 0, maxNodes: 5, ec2Profile: 'small', sshProfile: 'ops', notifyEmail: 'web-team@fleet.test',
  puppetManifest: 'node default {}', tomcatScript: 'configure-tomcat', deployScript: 'deploy-app', clusterUpdateScript: 'update-cluster',
};

export const ec2Profile: Ec2Profile = {
  name: 'small', region: 'eu-west-1', imageId: 'ami-1', instanceType: 't3.micro', keyName: null, securityGroups: [], subnetId: null, targetGroup: 'web-tg', targetPort: 8080, userData: null,
};

export const sshProfile: SshProfile = { name: 'ops', user: 'ops', keyRef: 'ops-key', port: 22 };

export function nodeRecord(fields: Partial<NodeRecord> = {}): NodeRecord {
  return {
    cluster: 'web', name: 'web01', deploymentId: 'dep-1', state: 'launching', ec2Profile: 'small', sshProfile: 'ops',
    instanceId: null, sshHost: null, sshPort: null, privateIp: null, hostKeySha256: null, createdAt: '2026-01-01T00:00:00.000Z', ...fields,
  };
}

export const sshTarget = (node: string): SshTarget => ({ node, host: `${node}.internal`, port: 22, user: 'ops', keyRef: 'ops-key' });

export const scriptResult = (node: string, fields: Partial<NodeScriptResult> = {}): NodeScriptResult => ({
  node, outcome: 'succeeded', exitCode: 0, stdout: `ran on ${node}`, stderr: '', truncated: false, durationMs: 5, ...fields,
});

export interface NodeStubOptions {
  /** The recorded call that throws (a non-retryable StubFailure), e.g. "registerTarget(i-0abc)". */
  failAt?: string;
  /** Replaces single stubs (they are not recorded unless they record themselves). */
  overrides?: Partial<NodeActivities>;
}

/** Stub node activities over one node (web01 on i-0abc) of `cluster` that record every call. */
export function stubNodeActivities(options: NodeStubOptions = {}) {
  const calls: string[] = [];
  const emails: Email[] = [];
  const call = (name: string) => {
    calls.push(name);
    if (options.failAt === name) throw ApplicationFailure.nonRetryable(`${name} broke`, 'StubFailure');
  };
  const activities: Partial<NodeActivities> = {
    async reserveNode(request) {
      call('reserveNode');
      return { node: nodeRecord({ deploymentId: request.deploymentId }), cluster, ec2Profile, sshProfile };
    },
    async releaseReservation(deploymentId) {
      call(`releaseReservation(${deploymentId})`);
    },
    async beginRemoval(request) {
      call('beginRemoval');
      const node = nodeRecord({ name: request.node, state: 'removing', instanceId: 'i-0abc', sshHost: '10.0.0.7', sshPort: 22 });
      return { node, cluster, ec2Profile, sshProfile };
    },
    async launchInstance() {
      call('launchInstance');
      return { instanceId: 'i-0abc', reused: false };
    },
    async terminateDeploymentInstances(request) {
      call(`terminateDeploymentInstances(${request.instanceId ?? 'no id'})`);
      // Without an ID (the launch's answer was lost), the instance is found by its deployment tag.
      return [request.instanceId ?? 'i-found-by-tag'];
    },
    async waitInstanceTerminated(request) {
      call(`waitInstanceTerminated(${request.instanceId})`);
    },
    async waitInstanceRunning(request) {
      call('waitInstanceRunning');
      return { instanceId: request.instanceId, privateIp: '10.0.0.7', publicIp: null, publicDns: null, sshHost: '10.0.0.7', sshPort: 22 };
    },
    async recordInstance() {
      call('recordInstance');
    },
    async waitInstanceStatusOk() {
      call('waitInstanceStatusOk');
    },
    async waitSshLogin() {
      call('waitSshLogin');
      return { loginMs: 5, attempts: 1, hostKeySha256: 'ab'.repeat(32) };
    },
    async recordHostKey() {
      call('recordHostKey');
    },
    async setNodeState(_cluster, node, state) {
      call(`setNodeState(${node}, ${state})`);
    },
    async deleteNode(_cluster, node) {
      call(`deleteNode(${node})`);
    },
    async applyPuppetManifest() {
      call('applyPuppetManifest');
      return { changed: true, durationMs: 5, stdout: '' };
    },
    async runNodeScript(request) {
      call(`runNodeScript(${request.script})`);
      return { durationMs: 5, stdout: '' };
    },
    async registerTarget(request) {
      call(`registerTarget(${request.instanceId})`);
      return { targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/web-tg/1' };
    },
    async deregisterTarget(request) {
      call(`deregisterTarget(${request.instanceId})`);
    },
    async waitTargetHealthy() {
      call('waitTargetHealthy');
    },
    async waitTargetDrained() {
      call('waitTargetDrained');
    },
    async activeNodeTargets() {
      call('activeNodeTargets');
      return [sshTarget('web01')];
    },
    async runScriptOnNode(request) {
      call(`runScriptOnNode(${request.target.node})`);
      return scriptResult(request.target.node);
    },
    async sendEmail(email) {
      emails.push(email);
      call('sendEmail');
      return { messageId: `<${emails.length}@fleet.test>` };
    },
    ...options.overrides,
  };
  return {
    activities,
    calls,
    emails,
    /** The calls after `name` (what undid it), mail left out. */
    callsAfter: (name: string) => {
      expect(calls).toContain(name);
      return calls.slice(calls.indexOf(name) + 1).filter((c) => c !== 'sendEmail');
    },
  };
}
