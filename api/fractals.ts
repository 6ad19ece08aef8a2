// HTTP routes of fractals, shaped as the original FAAFO API (Flask-Restless under /v1): create, list
// by page, read, change and delete records, batches, and the PNG at /fractal/<uuid>.
import { Hono } from 'hono';
import * as z from 'zod/mini';
import type { FractalService } from '../services/fractals.ts';
import { fractalBatchSpecSchema, fractalCreateSchema, fractalUpdateSchema, fractalUuidSchema } from '../workflows/fractals.shared.ts';
import { wholeNumber } from '../workflows/validation.shared.ts';
import { readJson, readParam, readQuery } from './validation.ts';
import { access } from '../server/access.ts';

/** `?page=n`, from 1 (Flask-Restless's default). */
const pageQuery = z.object({ page: z._default(z.pipe(z.coerce.number(), wholeNumber(1, 1_000_000)), 1) });

export function fractalRoutes(service: FractalService) {
  return new Hono()
    .post('/v1/fractal', access('operator'), async (c) => c.json(await service.create(await readJson(c, fractalCreateSchema)), 201))
    .get('/v1/fractal', access('viewer'), async (c) => c.json(await service.list(readQuery(c, pageQuery).page)))
    .get('/v1/fractal/:uuid', access('viewer'), async (c) => c.json(await service.read(readParam(c, 'uuid', fractalUuidSchema))))
    .put('/v1/fractal/:uuid', access('operator'), async (c) => {
      const uuid = readParam(c, 'uuid', fractalUuidSchema);
      return c.json(await service.update(uuid, await readJson(c, fractalUpdateSchema)));
    })
    .delete('/v1/fractal/:uuid', access('operator'), async (c) => {
      await service.delete(readParam(c, 'uuid', fractalUuidSchema));
      return c.body(null, 204);
    })
    .post('/v1/fractal-batches', access('operator'), async (c) => c.json(await service.createBatch(await readJson(c, fractalBatchSpecSchema)), 202))
    .get('/v1/fractal-batches/:batchId', access('viewer'), async (c) => c.json(await service.batch(readParam(c, 'batchId', fractalUuidSchema))))
    .get('/fractal/:uuid', access('viewer'), async (c) => {
      const png = await service.image(readParam(c, 'uuid', fractalUuidSchema));
      // A uuid's image changes only through PUT, which clears it first: private caching is safe for a while.
      return c.body(new Uint8Array(png), 200, { 'content-type': 'image/png', 'content-length': String(png.length), 'cache-control': 'private, max-age=60' });
    });
}
