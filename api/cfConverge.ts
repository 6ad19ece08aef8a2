// HTTP routes of cf-pusher convergence: start (a dry run returns the plan), list, watch, pause, resume, cancel.
import { Hono } from 'hono';
import type { CfConvergeService } from '../services/cfConverge.ts';
import { listQuery, readJson, readQuery } from './validation.ts';

const convergencesQuery = listQuery(200, 20);

export function cfConvergeRoutes(service: CfConvergeService) {
  return new Hono()
    .post('/', async (c) => c.json(await service.start(await readJson(c, service.inputSchema)), 201))
    .get('/', async (c) => c.json({ convergences: await service.recent(readQuery(c, convergencesQuery).limit) }))
    .get('/:workflowId', async (c) => c.json(await service.view(c.req.param('workflowId'))))
    .post('/:workflowId/:action{pause|resume|cancel}', async (c) => {
      await service.signal(c.req.param('workflowId'), c.req.param('action') as 'pause' | 'resume' | 'cancel');
      return c.json({ workflowId: c.req.param('workflowId'), requested: c.req.param('action') }, 202);
    });
}
