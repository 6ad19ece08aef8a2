// Nodes registered by hostname: an existing host (here the local sshd) joins a cluster as an active
// node without a launch, scripts run on it at once, and removing it deletes its row without any EC2
// or load-balancer step.
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../server/app.ts';
import type { ErrorBody } from '../api/errors.ts';
import type { RunbookView, ScriptRunView } from '../services/nodes.ts';
import type { NodeRecord } from '../workflows/nodes.shared.ts';
import { requestJson, useStack } from './support/fixture.ts';
import { createCluster, fastTimings } from './support/nodes.ts';

describe('nodes registered by hostname', () => {
  const stack = useStack();
  const { env } = stack;
  let app: App;
  let cluster: string;
  const sshd = () => ({ hostname: env.config.ssh.sshd.addresses[0]!, port: env.config.ssh.sshd.port });

  beforeAll(async () => {
    app = stack.app;
    cluster = await createCluster(app, { maxNodes: 2 });
  });

  const register = (body: Record<string, unknown>, into = cluster) => requestJson<{ node: NodeRecord } & ErrorBody>(app, 'POST', `/api/clusters/${into}/nodes/register`, body);

  it('joins as an active node with no instance, runs scripts at once, and its removal only deletes its row', async () => {
    const registered = await register(sshd());
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    const node = registered.body.node;
    expect(node).toMatchObject({ cluster, name: `${cluster}01`, state: 'active', instanceId: null, sshHost: sshd().hostname, sshPort: sshd().port, sshProfile: 'local' });
    expect(node.deploymentId).toMatch(/^registered-[0-9a-f-]{36}$/);

    const started = await requestJson<{ workflowId: string }>(app, 'POST', `/api/clusters/${cluster}/scripts`, { script: 'echo "on $FLEET_NODE"' });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    await env.client.workflow.getHandle(started.body.workflowId).result();
    const run = await requestJson<ScriptRunView>(app, 'GET', `/api/script-runs/${encodeURIComponent(started.body.workflowId)}`);
    expect(run.body.nodes).toEqual([expect.objectContaining({ node: node.name, outcome: 'succeeded', stdout: `on ${node.name}\n` })]);

    const removal = await requestJson<{ workflowId: string }>(app, 'DELETE', `/api/clusters/${cluster}/nodes/${node.name}`, { timings: fastTimings });
    expect(removal.status, JSON.stringify(removal.body)).toBe(202);
    expect(await env.client.workflow.getHandle(removal.body.workflowId).result()).toEqual({ cluster, node: node.name, instanceId: null });
    const runbook = await requestJson<RunbookView>(app, 'GET', `/api/runbooks/${encodeURIComponent(removal.body.workflowId)}`);
    const statusOf = (step: string) => runbook.body.steps.find((s) => s.name === step)?.status;
    expect(['lb-deregister', 'lb-drained', 'terminate', 'wait-terminated'].map(statusOf)).toEqual(['skipped', 'skipped', 'skipped', 'skipped']);
    expect(statusOf('cluster-update')).toBe('done');
    expect((await requestJson<{ nodes: NodeRecord[] }>(app, 'GET', `/api/clusters/${cluster}/nodes`)).body.nodes).toEqual([]);
  });

  it('refuses the same host twice (409), past the cluster’s max (409), an unknown profile (422) or cluster (404), a bad hostname (400)', async () => {
    const mine = await createCluster(app, { maxNodes: 2 });
    expect((await register({ ...sshd(), hostKeySha256: 'a'.repeat(64) }, mine)).status).toBe(201);
    const twice = await register(sshd(), mine);
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('already_exists');
    expect((await register({ hostname: 'build-box.fleet.test' }, mine)).status).toBe(201);
    const full = await register({ hostname: '10.0.0.9' }, mine);
    expect(full.status).toBe(409);
    expect(full.body.error.code).toBe('cluster_at_max');
    expect((await register({ hostname: 'other.fleet.test', sshProfile: 'no-such-profile' })).body.error.code).toBe('unknown_profile');
    expect((await register({ hostname: 'x.fleet.test' }, 'no-such-cluster')).status).toBe(404);
    const bad = await register({ hostname: 'evil.example.com; rm -rf /' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('hostname');
    const nodes = (await requestJson<{ nodes: NodeRecord[] }>(app, 'GET', `/api/clusters/${mine}/nodes`)).body.nodes;
    expect(nodes.map((n) => [n.name, n.sshHost, n.hostKeySha256])).toEqual([[`${mine}01`, sshd().hostname, 'a'.repeat(64)], [`${mine}02`, 'build-box.fleet.test', null]]);
  });
});
