// /v3/apps: create (with its web process), list, show, update, delete (as a job), environment
// variables, and the start/stop/restart actions.
import { Hono } from 'hono';
import { applyMetadata, isObject, optionalString, readBody, relationshipGuid, requiredString, stringMap, type Body } from '../body.ts';
import { cfErrors } from '../errors.ts';
import { guidIn, listResponse, nameIn } from '../lists.ts';
import { presentApp } from '../presenters.ts';
import type { SimEnv, SimRuntime } from '../context.ts';
import type { App, Lifecycle, Process } from '../state.ts';
import { checkProcessQuota } from '../quotas.ts';
import { INSTALLED_BUILDPACKS, STACKS } from '../staging.ts';
import { accepted, canReadSpace, deleteJob, requireSpaceWrite, touch, visibleApp, writableApp } from './shared.ts';

const DEFAULT_STACK = 'cflinuxfs4';

function lifecycleFrom(value: unknown, current?: Lifecycle): Lifecycle {
  if (value === undefined) return current ?? { type: 'buildpack', data: { buildpacks: [], stack: DEFAULT_STACK } };
  if (!isObject(value) || value.type !== 'buildpack') throw cfErrors.unprocessable("Lifecycle type must be 'buildpack' (the simulator has no docker or cnb lifecycle)");
  const data = isObject(value.data) ? value.data : {};
  const buildpacks = data.buildpacks ?? current?.data.buildpacks ?? [];
  if (!Array.isArray(buildpacks) || !buildpacks.every((b) => typeof b === 'string')) throw cfErrors.unprocessable('Buildpacks must be an array of strings');
  const stack = data.stack ?? current?.data.stack ?? DEFAULT_STACK;
  if (typeof stack !== 'string') throw cfErrors.unprocessable('Stack must be a string');
  // app/messages/validators/buildpack_lifecycle_data_validator.rb: installed buildpacks (or git URLs) and stacks only.
  for (const buildpack of buildpacks as string[]) {
    if (!INSTALLED_BUILDPACKS.includes(buildpack) && !/^https?:\/\//.test(buildpack)) throw cfErrors.unprocessable(`Specified unknown buildpack name: "${buildpack}"`);
  }
  if (!STACKS.includes(stack)) throw cfErrors.unprocessable('Stack must be an existing stack');
  return { type: 'buildpack', data: { buildpacks: buildpacks as string[], stack } };
}
export { lifecycleFrom };

export function appRoutes(runtime: SimRuntime) {
  const assertNameFree = (spaceGuid: string, name: string, except?: string) => {
    const holder = runtime.state.appNamed(spaceGuid, name);
    if (holder && holder.guid !== except) throw cfErrors.uniqueness(`App with the name '${name}' already exists.`);
  };

  /** Instances of a started app with a droplet come up one start delay after `from`. */
  const startInstances = (process: Process, from: number) => {
    process.runningAt = Array.from({ length: process.instances }, () => from + runtime.knobs.instanceStartDelayMs);
  };

  const processesOf = (app: App) => [...runtime.state.processes.values()].filter((p) => p.appGuid === app.guid);

  const start = (app: App) => {
    if (!app.currentDropletGuid) throw cfErrors.unprocessable('Assign a droplet before starting this app.');
    if (app.state === 'STARTED') return;
    checkProcessQuota(runtime.state, app.guid, processesOf(app));
    app.state = 'STARTED';
    touch(app, runtime);
    for (const process of runtime.state.processes.values()) if (process.appGuid === app.guid) startInstances(process, runtime.now());
  };

  const stop = (app: App) => {
    if (app.state === 'STOPPED') return;
    app.state = 'STOPPED';
    touch(app, runtime);
    for (const process of runtime.state.processes.values()) if (process.appGuid === app.guid) process.runningAt = [];
  };

  const envResponse = (app: App, base: string) => ({
    var: { ...app.environmentVariables },
    links: { self: { href: `${base}/v3/apps/${app.guid}/environment_variables` }, app: { href: `${base}/v3/apps/${app.guid}` } },
  });

  return new Hono<SimEnv>()
    .post('/apps', async (c) => {
      const body = await readBody(c, ['name', 'relationships', 'environment_variables', 'lifecycle', 'metadata']);
      const name = requiredString(body, 'name', 'Name');
      const spaceGuid = relationshipGuid(body, 'space');
      const { state } = runtime;
      if (!state.spaces.has(spaceGuid) || !canReadSpace(c, runtime, spaceGuid)) throw cfErrors.unprocessable('Invalid space. Ensure that the space exists and you have access to it.');
      requireSpaceWrite(c, runtime, spaceGuid);
      const lifecycle = lifecycleFrom(body.lifecycle);
      const environmentVariables = stringMap(body.environment_variables, 'Environment variables');
      assertNameFree(spaceGuid, name);
      const app: App = { ...state.newResource(), name, spaceGuid, state: 'STOPPED', lifecycle, environmentVariables, currentDropletGuid: null };
      applyMetadata(app.metadata, body.metadata);
      state.addApp(app);
      // As CC's ProcessCreate: every app gets a web process with one instance, 1024 MB (default_app_memory),
      // a port health check, and the app's guid (app_create.rb creates the web process with guid: app.guid).
      const web: Process = {
        ...state.newResource(),
        guid: app.guid,
        healthCheck: { type: 'port', endpoint: null, timeout: null, invocationTimeout: null },
        appGuid: app.guid,
        type: 'web',
        command: null,
        instances: 1,
        memoryInMb: 1024,
        diskInMb: 1024,
        logRateLimitInBytesPerSecond: -1,
        runningAt: [],
      };
      state.processes.set(web.guid, web);
      return c.json(presentApp(app, c.var.baseUrl), 201);
    })
    .get('/apps', (c) => {
      const { state } = runtime;
      return listResponse(
        c,
        [...state.apps.values()].filter((app) => canReadSpace(c, runtime, app.spaceGuid)),
        {
          filters: {
            names: (app, names) => nameIn(names, app.name),
            guids: (app, guids) => guidIn(guids, app.guid),
            space_guids: (app, guids) => guidIn(guids, app.spaceGuid),
            organization_guids: (app, guids) => guidIn(guids, state.spaces.get(app.spaceGuid)?.orgGuid),
            stacks: (app, stacks) => stacks.includes(app.lifecycle.data.stack),
            lifecycle_type: (app, types) => types.includes(app.lifecycle.type),
          },
          orderByName: true,
        },
        (app) => presentApp(app, c.var.baseUrl),
      );
    })
    .get('/apps/:guid', (c) => c.json(presentApp(visibleApp(c, runtime, c.req.param('guid')), c.var.baseUrl)))
    .patch('/apps/:guid', async (c) => {
      const app = writableApp(c, runtime, c.req.param('guid'));
      const body = await readBody(c, ['name', 'lifecycle', 'metadata']);
      const name = optionalString(body, 'name', 'Name');
      const lifecycle = lifecycleFrom(body.lifecycle, app.lifecycle);
      if (name !== undefined && name !== app.name) assertNameFree(app.spaceGuid, name, app.guid);
      applyMetadata(app.metadata, body.metadata);
      if (name !== undefined) runtime.state.renameApp(app, name);
      app.lifecycle = lifecycle;
      touch(app, runtime);
      return c.json(presentApp(app, c.var.baseUrl));
    })
    .delete('/apps/:guid', (c) => {
      const app = writableApp(c, runtime, c.req.param('guid'));
      return accepted(c, deleteJob(runtime, 'app.delete', () => runtime.state.deleteApp(app.guid)));
    })
    .get('/apps/:guid/environment_variables', (c) => c.json(envResponse(visibleApp(c, runtime, c.req.param('guid')), c.var.baseUrl)))
    .patch('/apps/:guid/environment_variables', async (c) => {
      const app = writableApp(c, runtime, c.req.param('guid'));
      const body: Body = await readBody(c, ['var']);
      if (!isObject(body.var)) throw cfErrors.unprocessable('Var must be an object');
      for (const [key, value] of Object.entries(body.var)) {
        if (value === null) delete app.environmentVariables[key];
        else app.environmentVariables[key] = typeof value === 'string' ? value : JSON.stringify(value);
      }
      touch(app, runtime);
      return c.json(envResponse(app, c.var.baseUrl));
    })
    .post('/apps/:guid/actions/start', (c) => {
      const app = writableApp(c, runtime, c.req.param('guid'));
      start(app);
      return c.json(presentApp(app, c.var.baseUrl));
    })
    .post('/apps/:guid/actions/stop', (c) => {
      const app = writableApp(c, runtime, c.req.param('guid'));
      stop(app);
      return c.json(presentApp(app, c.var.baseUrl));
    })
    .post('/apps/:guid/actions/restart', (c) => {
      const app = writableApp(c, runtime, c.req.param('guid'));
      if (!app.currentDropletGuid) throw cfErrors.unprocessable('Assign a droplet before starting this app.');
      stop(app);
      start(app);
      return c.json(presentApp(app, c.var.baseUrl));
    });
}
