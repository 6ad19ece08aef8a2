// Node deployment and removal against moto (EC2, ELBv2), the local sshd, puppet and the SMTP sink.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import type { App } from '../server/app.ts';
import type { ErrorBody } from '../api/errors.ts';
import type { RunbookView } from '../services/nodes.ts';
import { DescribeInstanceAttributeCommand } from '@aws-sdk/client-ec2';
import { DeregisterTargetsCommand, DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { createAwsClients, type AwsClients } from '../activities/nodes/aws.ts';
import { LOCAL_TARGET_GROUP } from '../scripts/localFleet.ts';
import { createFleetModel } from '../db/nodes.ts';
import { runbookStatusQuery, USER_DATA_WITHHELD, type NodeRecord, type RunbookResult } from '../workflows/nodes.shared.ts';
import { requestJson, useStack } from './support/fixture.ts';
import { createCluster, fastTimings, liveInstancesOf, mailTo, registeredTargets } from './support/nodes.ts';
import { createTestApp, startWorkerProcess, uniqueSuffix } from './support/stack.ts';
import { asToken } from './support/asToken.ts';
import { decodePayloads } from './support/history.ts';
import { createPayloadCodec } from '../temporal/codec.ts';

const manifest = `file { ["/tmp/fleet-nodes", "/tmp/fleet-nodes/\${facts['fleet_node']}"]: ensure => directory }
file { "/tmp/fleet-nodes/\${facts['fleet_node']}/os-configured": content => "by puppet\\n" }
`;

/** Every string and every payload (bytes, decoded as UTF-8) in a history, joined: what a reader of the history could see. */
function historyText(value: unknown, seen = new Set<unknown>()): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (typeof value === 'string') return value;
  if (!value || typeof value !== 'object' || seen.has(value)) return '';
  seen.add(value);
  return Object.values(value).map((v) => historyText(v, seen)).join('\n');
}

describe('clusters and nodes: deployNode and removeNode sagas', () => {
  const stack = useStack();
  const { env, suffix } = stack;
  let app: App;
  let aws: AwsClients;

  beforeAll(() => {
    app = stack.app;
    aws = createAwsClients(env.config.aws);
  });
  afterAll(() => aws?.destroy());

  async function deploy(cluster: string, body: Record<string, unknown> = {}) {
    const started = await requestJson<{ deploymentId: string; workflowId: string }>(app, 'POST', `/api/clusters/${cluster}/deployments`, { timings: fastTimings, ...body });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    return started.body;
  }

  async function outcome(workflowId: string): Promise<{ result?: RunbookResult; error?: string; view: RunbookView }> {
    let result: RunbookResult | undefined;
    let error: string | undefined;
    try {
      result = await env.client.workflow.getHandle(workflowId).result();
    } catch (failure) {
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      error = (failure as WorkflowFailedError).cause?.message;
    }
    const view = await requestJson<RunbookView>(app, 'GET', `/api/runbooks/${encodeURIComponent(workflowId)}`);
    expect(view.status).toBe(200);
    return { result, error, view: view.body };
  }

  /** Where a runbook's step is, as its API shows it (undefined until the runbook is there). */
  async function stepStatus(from: App, workflowId: string, step: string) {
    const view = await requestJson<RunbookView>(from, 'GET', `/api/runbooks/${encodeURIComponent(workflowId)}`);
    return view.body.steps?.find((s) => s.name === step)?.status;
  }

  it('deploys a node through every step, then removes it: instance, target, record and mail all follow', async () => {
    const cluster = await createCluster(app, {
      maxNodes: 1,
      puppetManifest: manifest,
      tomcatScript: 'mkdir -p /tmp/fleet-nodes/$FLEET_NODE && echo tomcat > /tmp/fleet-nodes/$FLEET_NODE/tomcat.conf',
      deployScript: 'echo "app for $FLEET_CLUSTER" > /tmp/fleet-nodes/$FLEET_NODE/app.war',
      clusterUpdateScript: 'echo "$FLEET_NODE updated" >> /tmp/fleet-nodes/$FLEET_NODE/cluster-updates',
    });
    const { deploymentId, workflowId } = await deploy(cluster);
    const { result, view } = await outcome(workflowId);
    expect(result).toMatchObject({ cluster, node: `${cluster}01` });
    expect(view.state).toBe('succeeded');
    expect(view.steps.map((s) => `${s.name}:${s.status}`)).toEqual([
      'reserve:done', 'launch:done', 'wait-running:done', 'wait-status-ok:done', 'ssh-ready:done', 'os-configuration:done',
      'tomcat:done', 'app-deploy:done', 'lb-register:done', 'lb-healthy:done', 'cluster-update:done', 'notify:done',
    ]);
    const node = `${cluster}01`;
    // Puppet and the scripts really ran, over SSH, with the node's identity.
    expect(readFileSync(`/tmp/fleet-nodes/${node}/os-configured`, 'utf8')).toBe('by puppet\n');
    expect(readFileSync(`/tmp/fleet-nodes/${node}/app.war`, 'utf8')).toBe(`app for ${cluster}\n`);
    expect(readFileSync(`/tmp/fleet-nodes/${node}/cluster-updates`, 'utf8')).toBe(`${node} updated\n`);
    const instances = await liveInstancesOf(aws, env.config, deploymentId);
    expect(instances).toEqual([result!.instanceId]);
    expect(await registeredTargets(aws, env.config)).toContainEqual({ id: result!.instanceId!, state: 'healthy' });
    const detail = await requestJson<{ nodes: NodeRecord[] }>(app, 'GET', `/api/clusters/${cluster}`);
    expect(detail.body.nodes).toMatchObject([{ name: node, state: 'active', instanceId: result!.instanceId }]);
    expect((await mailTo(env.config, `${cluster}@fleet.test`)).map((m) => m.subject)).toEqual([`[fleet] ${node} deployed to cluster ${cluster}`]);

    // The cluster is at its maximum now: a second deployment is refused and starts nothing.
    const refused = await requestJson<ErrorBody>(app, 'POST', `/api/clusters/${cluster}/deployments`, {});
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('cluster_at_max');

    const removal = await requestJson<{ workflowId: string }>(app, 'DELETE', `/api/clusters/${cluster}/nodes/${node}`, { timings: fastTimings });
    expect(removal.status, JSON.stringify(removal.body)).toBe(202);
    const removed = await outcome(removal.body.workflowId);
    expect(removed.view.state).toBe('succeeded');
    expect(removed.view.steps.every((s) => s.status === 'done')).toBe(true);
    expect(await liveInstancesOf(aws, env.config, deploymentId)).toEqual([]);
    expect((await registeredTargets(aws, env.config)).map((t) => t.id)).not.toContain(result!.instanceId);
    expect((await requestJson<{ nodes: NodeRecord[] }>(app, 'GET', `/api/clusters/${cluster}`)).body.nodes).toEqual([]);
    expect((await mailTo(env.config, `${cluster}@fleet.test`))[0]!.subject).toBe(`[fleet] ${node} removed from cluster ${cluster}`);
  });

  it('rolls back a failure at each step and mails which step failed and why', async () => {
    const badTargetGroup = await requestJson(app, 'PUT', `/api/ec2-profiles/no-such-target-group`, {
      region: env.config.aws.region, imageId: 'ami-12c6146b', instanceType: 't3.micro', targetGroup: 'does-not-exist',
    });
    expect(badTargetGroup.status).toBe(200);
    const cases = [
      { why: 'bad Puppet manifest', fields: { puppetManifest: 'file { "/nonexistent-dir/fleet/x": content => "x" }' }, step: 'Operating system configuration (puppet apply)', message: /a resource failed/ },
      { why: 'a Tomcat script that exits 3', fields: { tomcatScript: 'echo broken >&2; exit 3' }, step: 'Tomcat configuration', message: /exited with 3: broken/ },
      { why: 'a registration error', fields: { ec2Profile: 'no-such-target-group' }, step: 'Register with the load balancer', message: /No target group named "does-not-exist"/ },
    ];
    const launched: string[] = [];
    await Promise.all(
      cases.map(async ({ why, fields, step, message }) => {
        const cluster = await createCluster(app, fields);
        const { deploymentId, workflowId } = await deploy(cluster);
        const { error, view } = await outcome(workflowId);
        expect(error, why).toMatch(new RegExp(`^Deployment failed at "${step.replace(/[()]/g, '\\$&')}"`));
        expect(error, why).toMatch(message);
        expect(view.state, why).toBe('rolled-back');
        if (view.instanceId) launched.push(view.instanceId);
        expect(view.steps.find((s) => s.label === step)?.status, why).toBe('failed');
        expect(view.steps.filter((s) => s.status === 'compensated').map((s) => s.name), why).toEqual(expect.arrayContaining(['reserve']));
        expect(await liveInstancesOf(aws, env.config, deploymentId), why).toEqual([]);
        expect((await requestJson<{ nodes: NodeRecord[] }>(app, 'GET', `/api/clusters/${cluster}`)).body.nodes, why).toEqual([]);
        const [mail] = await mailTo(env.config, `${cluster}@fleet.test`);
        expect(mail?.subject, why).toBe(`[fleet] Deployment of ${cluster}01 to ${cluster} failed at step "${step}"`);
        expect(mail?.text, why).toMatch(message);
      }),
    );
    // Each launched an instance, and none of them is still registered with the load balancer.
    expect(launched).toHaveLength(cases.length);
    const registered = (await registeredTargets(aws, env.config)).map((t) => t.id);
    for (const instanceId of launched) expect(registered).not.toContain(instanceId);
  });

  it('rolls back when SSH never answers: the instance is terminated, and the step says so', async () => {
    const unreachable = uniqueSuffix();
    // These workers map every instance to a loopback address nothing listens on.
    await env.startWorkers(unreachable, { nodes: { resolveSshEndpoint: () => ({ host: '127.0.0.1', port: 9 }) } });
    const unreachableApp = asToken(createTestApp(env, { taskQueueSuffix: unreachable }), stack.tokens.admin);
    const cluster = await createCluster(unreachableApp);
    const started = await requestJson<{ deploymentId: string; workflowId: string }>(unreachableApp, 'POST', `/api/clusters/${cluster}/deployments`, { timings: { ...fastTimings, sshReadyMs: 1500 } });
    const { error, view } = await outcome(started.body.workflowId);
    expect(error).toMatch(/^Deployment failed at "Wait for an SSH login": no SSH login to \w+@127\.0\.0\.1:9 within 1500 ms \(\d+ attempts\); last error: .*ECONNREFUSED/);
    expect(view.steps.find((s) => s.name === 'launch')?.status).toBe('compensated');
    expect(await liveInstancesOf(aws, env.config, started.body.deploymentId)).toEqual([]);
    expect((await mailTo(env.config, `${cluster}@fleet.test`))[0]?.subject).toMatch(/failed at step "Wait for an SSH login"/);
  });

  // Two worker processes start and one is killed: generous on a busy 2-core machine.
  it('ends with exactly one instance when the worker is SIGKILLed mid-deployment', { timeout: 90_000 }, async () => {
    const crashSuffix = uniqueSuffix();
    const crashApp = asToken(createTestApp(env, { taskQueueSuffix: crashSuffix }), stack.tokens.admin);
    const cluster = await createCluster(crashApp, { tomcatScript: 'sleep 1; echo tomcat' });
    const first = startWorkerProcess({ FLEET_TASK_QUEUE_SUFFIX: crashSuffix });
    await first.ready;
    const started = await requestJson<{ deploymentId: string; workflowId: string }>(crashApp, 'POST', `/api/clusters/${cluster}/deployments`, { timings: fastTimings });
    // Kill it as soon as the instance exists, while later steps are running.
    await expect.poll(() => stepStatus(crashApp, started.body.workflowId, 'launch'), { timeout: 20_000, interval: 25 }).toBe('done');
    first.child.kill('SIGKILL');
    await first.exited;
    const second = startWorkerProcess({ FLEET_TASK_QUEUE_SUFFIX: crashSuffix });
    try {
      await second.ready;
      const result = await env.client.workflow.getHandle(started.body.workflowId).result();
      expect(await liveInstancesOf(aws, env.config, started.body.deploymentId)).toEqual([result.instanceId]);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });

  it('removes a node whose target was already deregistered and whose instance EC2 no longer knows', async () => {
    const cluster = await createCluster(app);
    const { deploymentId, workflowId } = await deploy(cluster);
    const { result } = await outcome(workflowId);
    const instanceId = result!.instanceId!;
    // What a moto restart (or an operator's hand) leaves: no target, no instance.
    const [group] = (await aws.elb(env.config.aws.region).send(new DescribeTargetGroupsCommand({ Names: [LOCAL_TARGET_GROUP] }))).TargetGroups!;
    await aws.elb(env.config.aws.region).send(new DeregisterTargetsCommand({ TargetGroupArn: group!.TargetGroupArn, Targets: [{ Id: instanceId }] }));
    await env.clients.mysql.query('UPDATE nodes SET instance_id = ? WHERE cluster = ?', ['i-0123456789abcdef0', cluster]);
    const removal = await requestJson<{ workflowId: string }>(app, 'DELETE', `/api/clusters/${cluster}/nodes/${cluster}01`, { timings: fastTimings });
    const removed = await outcome(removal.body.workflowId);
    expect(removed.error).toBeUndefined();
    expect(removed.view.state).toBe('succeeded');
    expect((await requestJson<{ nodes: NodeRecord[] }>(app, 'GET', `/api/clusters/${cluster}`)).body.nodes).toEqual([]);
    // The instance EC2 does know (found by its deployment tag) was terminated all the same.
    expect(await liveInstancesOf(aws, env.config, deploymentId)).toEqual([]);
  });

  it('keeps secrets out of workflow history: user data and SSH keys stay with the worker', async () => {
    const profile = `secret-${suffix.slice(-8)}`;
    const saved = await requestJson(app, 'PUT', `/api/ec2-profiles/${profile}`, {
      region: env.config.aws.region, imageId: 'ami-12c6146b', instanceType: 't3.micro', targetGroup: LOCAL_TARGET_GROUP, userData: '#!/bin/sh\nexport DB_PASSWORD=hunter2-in-user-data\n',
    });
    expect(saved.status).toBe(200);
    // Write-only: neither the API nor the edit form ever answers the value, only its SHA-256; a PUT without it keeps it.
    const sha256 = createHash('sha256').update('#!/bin/sh\nexport DB_PASSWORD=hunter2-in-user-data\n').digest('hex');
    expect(JSON.stringify(saved.body)).not.toContain('hunter2-in-user-data');
    const kept = await requestJson(app, 'PUT', `/api/ec2-profiles/${profile}`, { region: env.config.aws.region, imageId: 'ami-12c6146b', instanceType: 't3.micro', targetGroup: LOCAL_TARGET_GROUP });
    expect(kept.body).toMatchObject({ profile: { userData: { set: true, sha256 } } });
    const listed = await (await app.request('/api/ec2-profiles')).text();
    expect(listed).toContain(sha256);
    expect(listed).not.toContain('hunter2-in-user-data');
    const form = await (await app.request(`/ui/nodes/profiles/ec2/form?name=${profile}`)).text();
    expect(form).toContain(sha256);
    expect(form).not.toContain('hunter2-in-user-data');
    const cluster = await createCluster(app, { ec2Profile: profile });
    const { workflowId } = await deploy(cluster);
    const { result } = await outcome(workflowId);
    const attribute = await aws.ec2(env.config.aws.region).send(new DescribeInstanceAttributeCommand({ InstanceId: result!.instanceId!, Attribute: 'userData' }));
    expect(Buffer.from(attribute.UserData!.Value!, 'base64').toString()).toContain('hunter2-in-user-data');
    // As a reader with the codec's keys sees it: the payloads decoded (raw, they are ciphertext).
    const history = historyText(await decodePayloads((await env.client.workflow.getHandle(workflowId).fetchHistory()).events, createPayloadCodec(env.config)));
    expect(history).toContain('launchInstance');
    expect(history).not.toContain('hunter2-in-user-data');
    expect(history).not.toContain('PRIVATE KEY');
    expect(history).toContain('local-ed25519');
    expect(history).toContain(USER_DATA_WITHHELD);
  });

  it('undoes a cancelled deployment and mails that it was cancelled', async () => {
    const cluster = await createCluster(app, { tomcatScript: 'sleep 3' });
    const { deploymentId, workflowId } = await deploy(cluster);
    const handle = env.client.workflow.getHandle(workflowId);
    await expect.poll(() => stepStatus(app, workflowId, 'tomcat'), { timeout: 20_000, interval: 25 }).toBe('running');
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow(WorkflowFailedError);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    const status = await handle.query(runbookStatusQuery);
    expect(status.state).toBe('rolled-back');
    expect(status.steps.find((s) => s.name === 'launch')?.status).toBe('compensated');
    expect(await liveInstancesOf(aws, env.config, deploymentId)).toEqual([]);
    expect((await requestJson<{ nodes: NodeRecord[] }>(app, 'GET', `/api/clusters/${cluster}`)).body.nodes).toEqual([]);
    expect((await mailTo(env.config, `${cluster}@fleet.test`))[0]?.subject).toBe(`[fleet] Deployment of ${cluster}01 to ${cluster} was cancelled at step "Tomcat configuration"`);
  });

  it('a retried launch finds the instance the first attempt made (ClientToken and deployment tag)', async () => {
    const { createAwsActivities } = await import('../activities/nodes/aws.ts');
    const { createSshEndpointResolver } = await import('../activities/nodes/sshEndpoint.ts');
    const activities = createAwsActivities({ aws, resolveSshEndpoint: createSshEndpointResolver('local-sshd', env.config.ssh.sshd) });
    const profile = (await createFleetModel(env.clients.mysql).getProfileForLaunch('local'))!;
    const request = { deploymentId: `retry-${suffix}`, clientToken: `fleet-retry-${suffix}`, cluster: 'web', node: 'web99', profile };
    const first = await activities.launchInstance(request);
    const second = await activities.launchInstance(request);
    expect(second).toEqual({ instanceId: first.instanceId, reused: true });
    expect(await liveInstancesOf(aws, env.config, request.deploymentId)).toEqual([first.instanceId]);
    expect(await activities.terminateDeploymentInstances({ region: profile.region, deploymentId: request.deploymentId })).toEqual([first.instanceId]);
  });

  it('refuses bad input with clear errors and changes nothing', async () => {
    const cluster = await createCluster(app, { minNodes: 0, maxNodes: 2 });
    const cases: [string, string, unknown, number, string][] = [
      ['POST', '/api/clusters/no-such-cluster/deployments', {}, 404, 'unknown_cluster'],
      ['POST', `/api/clusters/${cluster}/deployments`, { ec2Profile: 'nope' }, 422, 'unknown_profile'],
      ['POST', `/api/clusters/${cluster}/deployments`, { sshProfile: 'nope' }, 422, 'unknown_profile'],
      ['POST', `/api/clusters/${cluster}/deployments`, { timings: { pollMs: -1 } }, 400, 'validation_failed'],
      ['DELETE', `/api/clusters/${cluster}/nodes/${cluster}07`, {}, 404, 'unknown_node'],
      ['POST', '/api/clusters', { name: 'Bad Name', maxNodes: 1, ec2Profile: 'local', sshProfile: 'local' }, 400, 'validation_failed'],
      ['POST', '/api/clusters', { name: cluster, maxNodes: 1, ec2Profile: 'local', sshProfile: 'local' }, 409, 'already_exists'],
      ['POST', '/api/clusters', { name: `${cluster}x`, maxNodes: 1, ec2Profile: 'missing', sshProfile: 'local' }, 422, 'unknown_profile'],
      ['POST', '/api/clusters', { name: `${cluster}y`, minNodes: 3, maxNodes: 1, ec2Profile: 'local', sshProfile: 'local' }, 400, 'validation_failed'],
      ['PUT', '/api/ssh-profiles/evil', { user: 'root', keyRef: '../../etc/shadow' }, 400, 'validation_failed'],
      ['POST', `/api/clusters/${cluster}/scripts`, { script: 'true' }, 422, 'no_active_nodes'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const response = await requestJson<ErrorBody>(app, method, path, body);
      expect(response.status, `${method} ${path}`).toBe(status);
      expect(response.body.error.code, `${method} ${path}`).toBe(code);
      expect(response.body.error.message.length).toBeGreaterThan(10);
    }
    expect((await requestJson<{ nodes: NodeRecord[] }>(app, 'GET', `/api/clusters/${cluster}`)).body.nodes).toEqual([]);
    expect(existsSync('/etc/shadow')).toBe(true);
  });
});
