// /v3/packages: bits packages, their upload (multipart field `bits`: PROCESSING_UPLOAD, then READY
// after the upload processing delay) and lists.
import { createHash } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { applyMetadata, readBody, relationshipGuid } from '../body.ts';
import { cfErrors } from '../errors.ts';
import { guidIn, listResponse } from '../lists.ts';
import { presentPackage } from '../presenters.ts';
import type { SimEnv, SimRuntime } from '../context.ts';
import type { Package } from '../state.ts';
import { mustFind, touch } from './shared.ts';

export function packageRoutes(runtime: SimRuntime) {
  const list = (c: Context<SimEnv>, packages: Iterable<Package>) =>
    listResponse(
      c,
      packages,
      {
        filters: {
          guids: (p, guids) => guidIn(guids, p.guid),
          states: (p, states) => states.includes(p.state),
          types: (p, types) => types.includes(p.type),
          app_guids: (p, guids) => guidIn(guids, p.appGuid),
          space_guids: (p, guids) => guidIn(guids, runtime.state.spaceOfApp(p.appGuid)?.guid),
        },
      },
      (p) => presentPackage(p, c.var.baseUrl),
    );

  return new Hono<SimEnv>()
    .post('/packages', async (c) => {
      const body = await readBody(c, ['type', 'relationships', 'data', 'metadata']);
      if (body.type !== 'bits') throw cfErrors.unprocessable("Type must be 'bits' (the simulator has no docker packages)");
      const appGuid = relationshipGuid(body, 'app');
      const { state } = runtime;
      if (!state.apps.has(appGuid)) throw cfErrors.unprocessable('App must exist');
      const pkg: Package = { ...state.newResource(), appGuid, type: 'bits', state: 'AWAITING_UPLOAD', checksum: null, sizeBytes: 0 };
      applyMetadata(pkg.metadata, body.metadata);
      state.packages.set(pkg.guid, pkg);
      return c.json(presentPackage(pkg, c.var.baseUrl), 201);
    })
    .get('/packages', (c) => list(c, runtime.state.packages.values()))
    .get('/packages/:guid', (c) => c.json(presentPackage(mustFind(runtime.state.packages, c.req.param('guid'), 'Package'), c.var.baseUrl)))
    .get('/apps/:guid/packages', (c) => {
      const app = mustFind(runtime.state.apps, c.req.param('guid'), 'App');
      return list(c, [...runtime.state.packages.values()].filter((p) => p.appGuid === app.guid));
    })
    .post('/packages/:guid/upload', async (c) => {
      const pkg = mustFind(runtime.state.packages, c.req.param('guid'), 'Package');
      if (pkg.state !== 'AWAITING_UPLOAD') throw cfErrors.packageBitsAlreadyUploaded();
      const form = (c.req.header('content-type') ?? '').startsWith('multipart/form-data') ? await c.req.parseBody() : {};
      const bits = form.bits;
      if (bits === undefined && form.resources === undefined) throw cfErrors.unprocessable('Upload must include either resources or bits');
      const content = bits === undefined ? Buffer.alloc(0) : typeof bits === 'string' ? Buffer.from(bits) : Buffer.from(await (bits as File).arrayBuffer());
      pkg.state = 'PROCESSING_UPLOAD';
      pkg.sizeBytes = content.length;
      touch(pkg, runtime);
      runtime.state.schedule(runtime.knobs.uploadProcessingMs, (at) => {
        pkg.checksum = createHash('sha256').update(content).digest('hex');
        pkg.state = 'READY';
        pkg.updatedAt = at;
      });
      return c.json(presentPackage(pkg, c.var.baseUrl));
    });
}
