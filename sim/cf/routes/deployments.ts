// /v3/deployments: rolling deployments as CC's DeploymentCreate (app/actions/deployment_create.rb)
// makes them. The droplet named (default: the app's current one) becomes the app's current droplet
// at once; a stopped app is started and its deployment is FINALIZED/DEPLOYED at once; a started
// app's deployment stays ACTIVE/DEPLOYING while its web instances are replaced one by one (one
// instance start delay each), then turns FINALIZED/DEPLOYED. A new deployment supersedes the app's
// ACTIVE one (FINALIZED/SUPERSEDED). Shapes: CC docs resources/deployments/_object.md.erb.
import { Hono } from 'hono';
import { applyMetadata, isObject, readBody, relationshipGuid } from '../body.ts';
import { ccTimestamp } from '../clock.ts';
import { cfErrors } from '../errors.ts';
import { guidIn, listResponse } from '../lists.ts';
import type { SimEnv, SimRuntime } from '../context.ts';
import type { Deployment } from '../state.ts';
import { mustFind, touch } from './shared.ts';

function presentDeployment(deployment: Deployment, base: string) {
  const self = `${base}/v3/deployments/${deployment.guid}`;
  return {
    guid: deployment.guid,
    created_at: ccTimestamp(deployment.createdAt),
    updated_at: ccTimestamp(deployment.updatedAt),
    state: deployment.state,
    status: {
      value: deployment.statusValue,
      reason: deployment.statusReason,
      details: { last_successful_healthcheck: ccTimestamp(deployment.updatedAt), last_status_change: ccTimestamp(deployment.updatedAt) },
    },
    strategy: 'rolling',
    options: { max_in_flight: 1 },
    droplet: deployment.dropletGuid ? { guid: deployment.dropletGuid } : null,
    previous_droplet: deployment.previousDropletGuid ? { guid: deployment.previousDropletGuid } : null,
    new_processes: [],
    revision: null,
    relationships: { app: { data: { guid: deployment.appGuid } } },
    metadata: { labels: { ...deployment.metadata.labels }, annotations: { ...deployment.metadata.annotations } },
    links: {
      self: { href: self },
      app: { href: `${base}/v3/apps/${deployment.appGuid}` },
      ...(deployment.statusValue === 'ACTIVE' ? { cancel: { href: `${self}/actions/cancel`, method: 'POST' } } : {}),
    },
  };
}

export function deploymentRoutes(runtime: SimRuntime) {
  const finalize = (deployment: Deployment, reason: 'DEPLOYED' | 'SUPERSEDED' | 'CANCELED', at: number) => {
    deployment.statusValue = 'FINALIZED';
    deployment.statusReason = reason;
    deployment.state = reason === 'CANCELED' ? 'CANCELED' : 'DEPLOYED';
    deployment.updatedAt = at;
  };

  return new Hono<SimEnv>()
    .post('/deployments', async (c) => {
      const body = await readBody(c, ['droplet', 'revision', 'strategy', 'options', 'relationships', 'metadata']);
      const { state } = runtime;
      const app = state.apps.get(relationshipGuid(body, 'app'));
      if (!app) throw cfErrors.unprocessable('Unable to use app. Ensure that the app exists and you have access to it.');
      if (body.strategy !== undefined && body.strategy !== 'rolling') throw cfErrors.unprocessable("Strategy is not included in the list: rolling (the simulator has no canary)");
      if (body.revision !== undefined) throw cfErrors.unprocessable('The simulator has no revisions: deploy a droplet');
      let dropletGuid = app.currentDropletGuid;
      if (body.droplet !== undefined) {
        const guid = isObject(body.droplet) ? body.droplet.guid : undefined;
        const droplet = typeof guid === 'string' ? state.droplets.get(guid) : undefined;
        if (!droplet || droplet.appGuid !== app.guid || droplet.state !== 'STAGED') {
          throw cfErrors.unprocessable('Unable to assign current droplet. Ensure the droplet exists and belongs to this app.');
        }
        dropletGuid = droplet.guid;
      }
      if (!dropletGuid) throw cfErrors.unprocessable('Invalid droplet. Please specify a droplet in the request or set a current droplet for the app.');
      const deployment: Deployment = {
        ...state.newResource(),
        appGuid: app.guid,
        dropletGuid,
        previousDropletGuid: app.currentDropletGuid,
        state: 'DEPLOYING',
        statusValue: 'ACTIVE',
        statusReason: 'DEPLOYING',
      };
      applyMetadata(deployment.metadata, body.metadata);
      state.deployments.set(deployment.guid, deployment);
      app.currentDropletGuid = dropletGuid;
      const now = runtime.now();
      const web = [...state.processes.values()].find((p) => p.appGuid === app.guid && p.type === 'web');
      if (app.state === 'STOPPED') {
        app.state = 'STARTED';
        if (web) web.runningAt = Array.from({ length: web.instances }, () => now + runtime.knobs.instanceStartDelayMs);
        finalize(deployment, 'DEPLOYED', now);
      } else {
        for (const previous of state.deployments.values()) if (previous !== deployment && previous.appGuid === app.guid && previous.statusValue === 'ACTIVE') finalize(previous, 'SUPERSEDED', now);
        // Instances are replaced one at a time (max_in_flight 1); the old ones serve meanwhile.
        state.schedule(runtime.knobs.instanceStartDelayMs * Math.max(1, web?.instances ?? 1), (at) => {
          if (deployment.statusValue === 'ACTIVE') finalize(deployment, 'DEPLOYED', at);
        });
      }
      touch(app, runtime);
      return c.json(presentDeployment(deployment, c.var.baseUrl), 201);
    })
    .get('/deployments', (c) =>
      listResponse(
        c,
        runtime.state.deployments.values(),
        {
          filters: {
            app_guids: (d, guids) => guidIn(guids, d.appGuid),
            states: (d, states) => states.includes(d.state),
            status_values: (d, values) => values.includes(d.statusValue),
            status_reasons: (d, reasons) => reasons.includes(d.statusReason),
          },
        },
        (d) => presentDeployment(d, c.var.baseUrl),
      ),
    )
    .get('/deployments/:guid', (c) => c.json(presentDeployment(mustFind(runtime.state.deployments, c.req.param('guid'), 'Deployment'), c.var.baseUrl)));
}
