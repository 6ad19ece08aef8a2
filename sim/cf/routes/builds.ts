// /v3/builds: staging a READY package. STAGING for the staging delay, then STAGED with a new STAGED
// droplet for the app (how a prototype app gets the droplet the others copy), or FAILED.
import { Hono, type Context } from 'hono';
import { applyMetadata, isObject, optionalWholeNumber, readBody } from '../body.ts';
import { cfErrors } from '../errors.ts';
import { guidIn, listResponse } from '../lists.ts';
import { presentBuild } from '../presenters.ts';
import type { SimEnv, SimRuntime } from '../context.ts';
import type { Build, Droplet } from '../state.ts';
import { checkStagingQuota, STAGING_MEMORY_MB } from '../quotas.ts';
import { stage as stageBits } from '../staging.ts';
import { readZip } from '../zip.ts';
import { lifecycleFrom } from './apps.ts';
import { canReadSpace, mustFind, visibleApp, writableApp } from './shared.ts';

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

  // Staging runs sim/cf/staging.ts over the package's bits: STAGED with a new droplet, or FAILED with CC's error text.
  const stage = (build: Build) => {
    runtime.state.schedule(runtime.knobs.stagingDelayMs, (at) => {
      const { state } = runtime;
      // The app (and the build with it) may have been deleted while staging.
      if (!state.builds.has(build.guid)) return;
      const pkg = state.packages.get(build.packageGuid);
      build.updatedAt = at;
      const result = stageBits(readZip(pkg?.bits ?? Buffer.alloc(0)) ?? [], build.lifecycle.data.buildpacks);
      if ('error' in result) {
        build.state = 'FAILED';
        build.error = result.error;
        return;
      }
      const droplet: Droplet = {
        ...state.newResource(),
        createdAt: at,
        updatedAt: at,
        appGuid: build.appGuid,
        state: 'STAGED',
        error: null,
        packageGuid: build.packageGuid,
        stack: build.lifecycle.data.stack,
        buildpacks: result.buildpacks,
        processTypes: result.processTypes,
        checksum: pkg?.checksum ?? null,
        listensOnPort: result.listensOnPort,
        startFailure: result.startFailure,
      };
      state.droplets.set(droplet.guid, droplet);
      build.state = 'STAGED';
      build.dropletGuid = droplet.guid;
    });
  };

  return new Hono<SimEnv>()
    .post('/builds', async (c) => {
      const body = await readBody(c, ['package', 'lifecycle', 'staging_memory_in_mb', 'staging_disk_in_mb', 'staging_log_rate_limit_bytes_per_second', 'metadata']);
      const packageGuid = isObject(body.package) ? body.package.guid : undefined;
      const { state } = runtime;
      const pkg = typeof packageGuid === 'string' ? state.packages.get(packageGuid) : undefined;
      const owner = pkg && state.apps.get(pkg.appGuid);
      if (!pkg || !owner || !canReadSpace(c, runtime, owner.spaceGuid)) throw cfErrors.unprocessable('Unable to use package. Ensure that the package exists and you have access to it.');
      const app = writableApp(c, runtime, pkg.appGuid);
      // app/actions/build_create.rb: one STAGING build per app (checked first), then a READY package.
      if ([...state.builds.values()].some((b) => b.appGuid === app.guid && b.state === 'STAGING')) throw cfErrors.stagingInProgress();
      if (pkg.state !== 'READY') throw cfErrors.badRequest('Cannot stage package whose state is not ready.');
      const lifecycle = body.lifecycle === undefined ? structuredClone(app.lifecycle) : lifecycleFrom(body.lifecycle, app.lifecycle);
      const web = state.processes.get(app.guid);
      const stagingMemory = optionalWholeNumber(body, 'staging_memory_in_mb', 'Staging memory in mb', 1) ?? Math.max(STAGING_MEMORY_MB, web?.memoryInMb ?? 0);
      checkStagingQuota(state, app.guid, stagingMemory);
      const principal = c.var.principal!;
      const build: Build = {
        ...state.newResource(),
        appGuid: app.guid,
        packageGuid: pkg.guid,
        state: 'STAGING',
        dropletGuid: null,
        error: null,
        lifecycle,
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
      const app = visibleApp(c, runtime, c.req.param('guid'));
      return list(c, [...runtime.state.builds.values()].filter((b) => b.appGuid === app.guid));
    });
}
