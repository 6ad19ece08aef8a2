// A node left in `launching` (its deployment gone, its instance still running) is cleaned up through
// the API: the instance is terminated and the row removed; refused while its deployment still runs.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody } from '../api/errors.ts';
import { createAwsActivities, createAwsClients, type AwsClients } from '../activities/nodes/aws.ts';
import { createSshEndpointResolver } from '../activities/nodes/sshEndpoint.ts';
import { createFleetModel } from '../db/nodes.ts';
import { deployNodeWorkflowId, type NodeRecord } from '../workflows/nodes.shared.ts';
import { requestJson, useStack } from './support/fixture.ts';
import { createCluster, liveInstancesOf } from './support/nodes.ts';

describe('cleaning up a node stuck in launching', () => {
  const stack = useStack();
  const { env } = stack;
  let aws: AwsClients;
  beforeAll(() => {
    aws = createAwsClients(env.config.aws);
  });
  afterAll(() => aws?.destroy());

  it('terminates its instance and removes its row (operator), refused while its deployment runs', async () => {
    const { app } = stack;
    const cluster = await createCluster(app);
    const model = createFleetModel(env.clients.mysql);
    // What an outage that outlasted the compensations left: a reserved row and a running instance.
    const deploymentId = `stuck-${randomUUID().slice(0, 8)}`;
    const { node } = await model.reserveNode({ deploymentId, cluster });
    const profile = (await model.getProfileForLaunch('local'))!;
    const launcher = createAwsActivities({ aws, resolveSshEndpoint: createSshEndpointResolver('local-sshd', env.config.ssh.sshd) });
    const { instanceId } = await launcher.launchInstance({ deploymentId, clientToken: `fleet-${deploymentId}`, cluster, node: node.name, profile });
    await model.recordInstance(deploymentId, { instanceId });
    const path = `/api/clusters/${cluster}/nodes/${node.name}/cleanup`;
    // The cluster's page offers it too.
    expect(await (await app.request(`/nodes/clusters/${cluster}`)).text()).toContain(`hx-post="/ui/nodes/clusters/${cluster}/nodes/${node.name}/cleanup"`);

    // A deployment still running owns the node (here one no worker picks up).
    const deployment = await env.client.workflow.start('deployNode', { workflowId: deployNodeWorkflowId(cluster, deploymentId), taskQueue: `nobody-${stack.suffix}`, args: [{ cluster, deploymentId }] });
    const refused = await requestJson<ErrorBody>(app, 'POST', path);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('deployment_running');
    await deployment.terminate('the test stands in for a deployment that died');

    expect((await requestJson<ErrorBody>(stack.anonymousApp, 'POST', path)).status).toBe(401);
    const cleanup = await requestJson<{ workflowId: string }>(app, 'POST', path);
    expect(cleanup.status, JSON.stringify(cleanup.body)).toBe(202);
    expect(await env.client.workflow.getHandle(cleanup.body.workflowId).result()).toEqual({ cluster, node: node.name, terminated: [instanceId] });
    expect(await liveInstancesOf(aws, env.config, deploymentId)).toEqual([]);
    expect((await requestJson<{ nodes: NodeRecord[] }>(app, 'GET', `/api/clusters/${cluster}`)).body.nodes).toEqual([]);

    const gone = await requestJson<ErrorBody>(app, 'POST', path);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('unknown_node');
  });
});
