// HTTP routes of request runs: start (409 naming the running run), list, show, cancel.
import { Hono, type Context } from 'hono';
import { ServiceError } from '../services/errors.ts';
import type { RequestRunService } from '../services/requestRun.ts';
import { requestRunIdSchema } from '../workflows/requestRun.shared.ts';
import { listQuery, readIdParam, readJson, readQuery } from './validation.ts';
import { access } from '../server/access.ts';

const runsQuery = listQuery(500, 50);
const run = (c: Context) => readIdParam(c, 'runId', requestRunIdSchema);

export function requestRunRoutes(service: RequestRunService) {
  return new Hono()
    .post('/', access('operator'), async (c) => c.json(await service.start(await readJson(c, service.inputSchema)), 201))
    .get('/', access('viewer'), async (c) => c.json({ runs: await service.list(readQuery(c, runsQuery).limit) }))
    .get('/:runId', access('viewer'), async (c) => {
      const runId = run(c);
      const view = await service.get(runId);
      if (!view) throw new ServiceError(404, 'not_found', `No request run ${runId}.`, { runId });
      return c.json(view);
    })
    .post('/:runId/cancel', access('operator'), async (c) => {
      const runId = run(c);
      await service.cancel(runId);
      return c.json({ runId, status: 'cancelling' }, 202);
    });
}
