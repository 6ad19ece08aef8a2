// /v3/builds: staging a READY package. STAGING for the staging delay, then STAGED with a new STAGED
// droplet for the app (how a prototype app gets the droplet the others copy).
import { Hono, type Context } from 'hono';
import { applyMetadata, isObject, readBody } from '../body.ts';
import { cfErrors } from '../errors.ts';
import { guidIn, listResponse } from '../lists.ts';
import { presentBuild } from '../presenters.ts';
import type { SimEnv, SimRuntime } from '../context.ts';
import type { Build, Droplet } from '../state.ts';
import { mustFind } from './shared.ts';

export function buildRoutes(runtime: SimRuntime) {
  const list = (c: Context<SimEnv>, builds: Iterable<Build>) =>
    listResponse(
      c,
      builds,
      {
        filters: {
          states: (b, states) => states.includes(b.state),
          app_guids: (b, guids) => guidIn(guids, b.appGuid),
          package_guids: (b, guids) => guidIn(guids, b.packageGuid),
        },
      },
      (b) => presentBuild(b, c.var.baseUrl),
    );

  const stage = (build: Build) => {
    runtime.state.schedule(runtime.knobs.stagingDelayMs, (at) => {
      const { state } = runtime;
      // The app (and the build with it) may have been deleted while staging.
      if (!state.builds.has(build.guid)) return;
      const pkg = state.packages.get(build.packageGuid);
      const droplet: Droplet = {
        ...state.newResource(),
        createdAt: at,
        updatedAt: at,
        appGuid: build.appGuid,
        state: 'STAGED',
        error: null,
        packageGuid: build.packageGuid,
        stack: build.lifecycle.data.stack,
        buildpacks: build.lifecycle.data.buildpacks.length > 0 ? [...build.lifecycle.data.buildpacks] : ['binary_buildpack'],
        processTypes: { web: './app' },
        checksum: pkg?.checksum ?? null,
      };
      state.droplets.set(droplet.guid, droplet);
      build.state = 'STAGED';
      build.dropletGuid = droplet.guid;
      build.updatedAt = at;
    });
  };

  return new Hono<SimEnv>()
    .post('/builds', async (c) => {
      const body = await readBody(c, ['package', 'lifecycle', 'staging_memory_in_mb', 'staging_disk_in_mb', 'staging_log_rate_limit_bytes_per_second', 'metadata']);
      const packageGuid = isObject(body.package) ? body.package.guid : undefined;
      const { state } = runtime;
      const pkg = typeof packageGuid === 'string' ? state.packages.get(packageGuid) : undefined;
      if (!pkg) throw cfErrors.unprocessable('Unable to use package. Ensure that the package exists and you have access to it.');
      if (pkg.state !== 'READY') throw cfErrors.unprocessable('Cannot stage package whose state is not ready.');
      const app = mustFind(state.apps, pkg.appGuid, 'App');
      const principal = c.var.principal!;
      const build: Build = {
        ...state.newResource(),
        appGuid: app.guid,
        packageGuid: pkg.guid,
        state: 'STAGING',
        dropletGuid: null,
        error: null,
        lifecycle: structuredClone(app.lifecycle),
        createdBy: { guid: principal.subject, name: principal.userName ?? principal.clientId, email: principal.userName ?? '' },
      };
      applyMetadata(build.metadata, body.metadata);
      state.builds.set(build.guid, build);
      stage(build);
      return c.json(presentBuild(build, c.var.baseUrl), 201);
    })
    .get('/builds', (c) => list(c, runtime.state.builds.values()))
    .get('/builds/:guid', (c) => c.json(presentBuild(mustFind(runtime.state.builds, c.req.param('guid'), 'Build'), c.var.baseUrl)))
    .get('/apps/:guid/builds', (c) => {
      const app = mustFind(runtime.state.apps, c.req.param('guid'), 'App');
      return list(c, [...runtime.state.builds.values()].filter((b) => b.appGuid === app.guid));
    });
}
