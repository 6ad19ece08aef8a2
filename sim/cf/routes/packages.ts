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
import { readZip } from '../zip.ts';
import { canReadSpace, mustFind, touch, visibleApp, writableApp } from './shared.ts';

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
      const app = state.apps.get(appGuid);
      if (!app || !canReadSpace(c, runtime, app.spaceGuid)) throw cfErrors.unprocessable('App must exist');
      writableApp(c, runtime, appGuid);
      const pkg: Package = { ...state.newResource(), appGuid, type: 'bits', state: 'AWAITING_UPLOAD', checksum: null, sizeBytes: 0, bits: null, error: null };
      applyMetadata(pkg.metadata, body.metadata);
      state.packages.set(pkg.guid, pkg);
      return c.json(presentPackage(pkg, c.var.baseUrl), 201);
    })
    .get('/packages', (c) => list(c, runtime.state.packages.values()))
    .get('/packages/:guid', (c) => c.json(presentPackage(mustFind(runtime.state.packages, c.req.param('guid'), 'Package'), c.var.baseUrl)))
    .get('/apps/:guid/packages', (c) => {
      const app = visibleApp(c, runtime, c.req.param('guid'));
      return list(c, [...runtime.state.packages.values()].filter((p) => p.appGuid === app.guid));
    })
    .post('/packages/:guid/upload', async (c) => {
      const pkg = mustFind(runtime.state.packages, c.req.param('guid'), 'Package');
      writableApp(c, runtime, pkg.appGuid);
      if (pkg.state !== 'AWAITING_UPLOAD') throw cfErrors.packageBitsAlreadyUploaded();
      const form = (c.req.header('content-type') ?? '').startsWith('multipart/form-data') ? await c.req.parseBody() : {};
      const bits = form.bits;
      if (bits === undefined && form.resources === undefined) throw cfErrors.unprocessable('Upload must include either resources or bits');
      const content = bits === undefined ? Buffer.alloc(0) : typeof bits === 'string' ? Buffer.from(bits) : Buffer.from(await (bits as File).arrayBuffer());
      pkg.state = 'PROCESSING_UPLOAD';
      pkg.sizeBytes = content.length;
      touch(pkg, runtime);
      runtime.state.schedule(runtime.knobs.uploadProcessingMs, (at) => {
        pkg.updatedAt = at;
        // CC's PackagePacker job unzips the bits: a file that is no zip archive fails the package (data.error).
        if (content.length > 0 && readZip(content) === null) {
          pkg.state = 'FAILED';
          pkg.error = 'The app upload is invalid: Invalid zip archive.';
          return;
        }
        pkg.checksum = createHash('sha256').update(content).digest('hex');
        pkg.bits = content;
        pkg.state = 'READY';
      });
      return c.json(presentPackage(pkg, c.var.baseUrl));
    });
}
