// HTTP routes of clusters, profiles, node deployments and removals, script runs and the mailbox.
import { Hono } from 'hono';
import { z } from 'zod';
import { ServiceError } from '../services/errors.ts';
import { readJson } from './validation.ts';
import { CLUSTER_NAME_PATTERN, PROFILE_NAME_PATTERN } from '../workflows/nodes.shared.ts';
import { clusterSchema, clusterUpdateSchema, deploySchema, ec2ProfileSchema, modelCall, removeSchema, scriptSchema, sshProfileSchema, type NodesService } from '../services/nodes.ts';

const limitSchema = z.coerce.number().int().min(1).max(200).default(20);

function nameParam(value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) throw new ServiceError(400, 'validation_failed', `${JSON.stringify(value)} is not a valid ${what} name.`, { field: 'name' });
  return value;
}

export function nodesRoutes(service: NodesService) {
  const { model } = service;
  return new Hono()
    .get('/clusters', async (c) => c.json({ clusters: await model.listClusters() }))
    .post('/clusters', async (c) => c.json({ cluster: await service.putCluster(await readJson(c, clusterSchema), false) }, 201))
    .get('/clusters/:name', async (c) => c.json(await service.clusterDetail(c.req.param('name'))))
    .put('/clusters/:name', async (c) => {
      const name = nameParam(c.req.param('name'), CLUSTER_NAME_PATTERN, 'cluster');
      const body = await readJson(c, clusterUpdateSchema);
      return c.json({ cluster: await service.putCluster({ ...body, name }, true) });
    })
    .delete('/clusters/:name', async (c) => {
      await modelCall(() => model.deleteCluster(c.req.param('name')));
      return c.body(null, 204);
    })
    .get('/ec2-profiles', async (c) => c.json({ profiles: await model.listEc2Profiles() }))
    .put('/ec2-profiles/:name', async (c) => {
      const name = nameParam(c.req.param('name'), PROFILE_NAME_PATTERN, 'profile');
      const body = await readJson(c, ec2ProfileSchema);
      await model.putEc2Profile({ name, ...body });
      return c.json({ profile: { name, ...body } });
    })
    .get('/ssh-profiles', async (c) => c.json({ profiles: await model.listSshProfiles() }))
    .put('/ssh-profiles/:name', async (c) => {
      const name = nameParam(c.req.param('name'), PROFILE_NAME_PATTERN, 'profile');
      const body = await readJson(c, sshProfileSchema);
      await model.putSshProfile({ name, ...body });
      return c.json({ profile: { name, ...body } });
    })
    .get('/clusters/:name/nodes', async (c) => c.json({ nodes: (await service.clusterDetail(c.req.param('name'))).nodes }))
    .post('/clusters/:name/deployments', async (c) => c.json(await service.startDeployment(c.req.param('name'), await readJson(c, deploySchema)), 202))
    .delete('/clusters/:name/nodes/:node', async (c) => c.json(await service.startRemoval(c.req.param('name'), c.req.param('node'), await readJson(c, removeSchema)), 202))
    .post('/clusters/:name/scripts', async (c) => c.json(await service.startScript(c.req.param('name'), await readJson(c, scriptSchema)), 202))
    .get('/runbooks', async (c) => {
      const limit = limitSchema.safeParse(c.req.query('limit'));
      if (!limit.success) throw new ServiceError(400, 'validation_failed', `limit: ${limit.error.issues[0]!.message}`, { field: 'limit' });
      return c.json({ runbooks: await service.recentRunbooks(limit.data, c.req.query('cluster')) });
    })
    .get('/runbooks/:workflowId', async (c) => c.json(await service.runbook(c.req.param('workflowId'))))
    .get('/script-runs/:workflowId', async (c) => c.json(await service.scriptRun(c.req.param('workflowId'))))
    .post('/script-runs/:workflowId/rerun-failed', async (c) => c.json(await service.rerunFailed(c.req.param('workflowId')), 202))
    .get('/mailbox', async (c) => c.json(await service.mailbox(c.req.query('to'))));
}
