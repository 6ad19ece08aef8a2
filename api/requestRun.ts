// HTTP routes of request runs: start (409 naming the running run), list, show, cancel.
import { Hono } from 'hono';
import { ServiceError } from '../services/errors.ts';
import type { RequestRunService } from '../services/requestRun.ts';
import { listQuery, readJson, readQuery } from './validation.ts';

const runsQuery = listQuery(500, 50);

export function requestRunRoutes(service: RequestRunService) {
  return new Hono()
    .post('/', async (c) => c.json(await service.start(await readJson(c, service.inputSchema)), 201))
    .get('/', async (c) => c.json({ runs: await service.list(readQuery(c, runsQuery).limit) }))
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
