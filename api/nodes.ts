// HTTP routes of clusters, profiles, node deployments and removals, script runs and the mailbox.
import { Hono, type Context } from 'hono';
import * as z from 'zod/mini';
import { modelCall, type NodesService } from '../services/nodes.ts';
import {
  clusterNameSchema,
  clusterSchema,
  clusterUpdateSchema,
  deploySchema,
  nodeNameSchema,
  profileKindNames,
  profileKinds,
  profileNameSchema,
  registerNodeSchema,
  removeSchema,
  runbookWorkflowIdSchema,
  scriptRunWorkflowIdSchema,
  scriptSchema,
  type ProfileKind,
} from '../workflows/nodes.shared.ts';
import { listQuery, readIdParam, readJson, readParam, readQuery } from './validation.ts';
import { access } from '../server/access.ts';

const runbooksQuery = z.extend(listQuery(200, 20), { cluster: z.optional(clusterNameSchema) });
const mailboxQuery = z.object({ to: z.optional(z.string().check(z.maxLength(320))) });
const cluster = (c: Context) => readParam(c, 'name', clusterNameSchema);
const runbook = (c: Context) => readIdParam(c, 'workflowId', runbookWorkflowIdSchema);
const scriptRun = (c: Context) => readIdParam(c, 'workflowId', scriptRunWorkflowIdSchema);

export function nodesRoutes(service: NodesService) {
  const { model } = service;
  const routes = new Hono()
    .get('/clusters', access('viewer'), async (c) => c.json({ clusters: await model.listClusters() }))
    .post('/clusters', access('admin'), async (c) => c.json({ cluster: await service.putCluster(await readJson(c, clusterSchema), false) }, 201))
    .get('/clusters/:name', access('viewer'), async (c) => c.json(await service.clusterDetail(cluster(c))))
    .put('/clusters/:name', access('admin'), async (c) => {
      const name = cluster(c);
      const body = await readJson(c, clusterUpdateSchema);
      return c.json({ cluster: await service.putCluster({ ...body, name }, true) });
    })
    .delete('/clusters/:name', access('admin'), async (c) => {
      const name = cluster(c);
      await modelCall(() => model.deleteCluster(name));
      return c.body(null, 204);
    })
    .get('/clusters/:name/nodes', access('viewer'), async (c) => c.json({ nodes: (await service.clusterDetail(cluster(c))).nodes }))
    // An admin's: it points the cluster's SSH key, its scripts and its counters at a host of the caller's choosing.
    .post('/clusters/:name/nodes/register', access('admin'), async (c) => c.json({ node: await service.registerNode(cluster(c), await readJson(c, registerNodeSchema)) }, 201))
    .post('/clusters/:name/deployments', access('operator'), async (c) => c.json(await service.startDeployment(cluster(c), await readJson(c, deploySchema)), 202))
    .delete('/clusters/:name/nodes/:node', access('operator'), async (c) => {
      const [name, node] = [cluster(c), readParam(c, 'node', nodeNameSchema)];
      return c.json(await service.startRemoval(name, node, await readJson(c, removeSchema)), 202);
    })
    .post('/clusters/:name/nodes/:node/cleanup', access('operator'), async (c) => c.json(await service.startCleanup(cluster(c), readParam(c, 'node', nodeNameSchema)), 202))
    .post('/clusters/:name/scripts', access('operator'), async (c) => c.json(await service.startScript(cluster(c), await readJson(c, scriptSchema)), 202))
    .get('/runbooks', access('viewer'), async (c) => {
      const query = readQuery(c, runbooksQuery);
      return c.json({ runbooks: await service.recentRunbooks(query.limit, query.cluster) });
    })
    .get('/runbooks/:workflowId', access('viewer'), async (c) => c.json(await service.runbook(runbook(c))))
    .get('/script-runs/:workflowId', access('viewer'), async (c) => c.json(await service.scriptRun(scriptRun(c))))
    .post('/script-runs/:workflowId/rerun-failed', access('operator'), async (c) => c.json(await service.rerunFailed(scriptRun(c)), 202))
    .get('/mailbox', access('viewer'), async (c) => c.json(await service.mailbox(readQuery(c, mailboxQuery).to)));
  // One pair of routes per kind of profile: /api/ec2-profiles and /api/ssh-profiles.
  const profileRoutes = <Kind extends ProfileKind>(kind: Kind) =>
    routes
      .get(`/${kind}-profiles`, access('viewer'), async (c) => c.json({ profiles: await model.listProfiles(kind) }))
      .put(`/${kind}-profiles/:name`, access('admin'), async (c) => {
        const name = readParam(c, 'name', profileNameSchema);
        return c.json({ profile: await service.putProfile(kind, name, await readJson(c, profileKinds[kind].schema)) });
      });
  for (const kind of profileKindNames) profileRoutes(kind);
  return routes;
}
