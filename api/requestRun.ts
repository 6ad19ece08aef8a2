// HTTP routes of request runs: start (409 naming the running run), list, show, cancel.
import { Hono } from 'hono';
import { z } from 'zod';
import { ServiceError } from '../services/errors.ts';
import { readJson } from './errors.ts';
import type { RequestRunService } from '../services/requestRun.ts';

const limitSchema = z.coerce.number().int().min(1).max(500).default(50);

export function requestRunRoutes(service: RequestRunService) {
  return new Hono()
    .post('/', async (c) => c.json(await service.start(await readJson(c, service.inputSchema)), 201))
    .get('/', async (c) => {
      const limit = limitSchema.safeParse(c.req.query('limit'));
      if (!limit.success) throw new ServiceError(400, 'validation_failed', `limit: ${limit.error.issues[0]!.message}`, { field: 'limit' });
      return c.json({ runs: await service.list(limit.data) });
    })
    .get('/:runId', async (c) => {
      const view = await service.get(c.req.param('runId'));
      if (!view) throw new ServiceError(404, 'not_found', `No request run ${c.req.param('runId')}.`, { runId: c.req.param('runId') });
      return c.json(view);
    })
    .post('/:runId/cancel', async (c) => {
      await service.cancel(c.req.param('runId'));
      return c.json({ runId: c.req.param('runId'), status: 'cancelling' }, 202);
    });
}
