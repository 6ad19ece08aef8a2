// HTTP routes of cf-pusher convergence: start (a dry run returns the plan), list, watch, pause, resume, cancel.
import { Hono, type Context } from 'hono';
import type { CfConvergeService } from '../services/cfConverge.ts';
import { cfConvergeWorkflowIdSchema } from '../workflows/cfConverge.shared.ts';
import { listQuery, readIdParam, readJson, readQuery } from './validation.ts';
import { access } from '../server/access.ts';

const convergencesQuery = listQuery(200, 20);
const convergence = (c: Context) => readIdParam(c, 'workflowId', cfConvergeWorkflowIdSchema);

export function cfConvergeRoutes(service: CfConvergeService) {
  return new Hono()
    .post('/', access('operator'), async (c) => c.json(await service.start(await readJson(c, service.inputSchema)), 201))
    .get('/', access('viewer'), async (c) => c.json({ convergences: await service.recent(readQuery(c, convergencesQuery).limit) }))
    .get('/:workflowId', access('viewer'), async (c) => c.json(await service.view(convergence(c))))
    .post('/:workflowId/:action{pause|resume|cancel}', access('operator'), async (c) => {
      const workflowId = convergence(c);
      await service.signal(workflowId, c.req.param('action') as 'pause' | 'resume' | 'cancel');
      return c.json({ workflowId, requested: c.req.param('action') }, 202);
    });
}
