// HTTP routes of cf-pusher convergence: start (a dry run returns the plan), list, watch, pause, resume, cancel.
import { Hono } from 'hono';
import { z } from 'zod';
import { validationError } from '../services/errors.ts';
import { readJson } from './errors.ts';
import { parseDesiredState, type CfConvergeService } from '../services/cfConverge.ts';

const limitSchema = z.coerce.number().int().min(1).max(200).default(20);

export function cfConvergeRoutes(service: CfConvergeService) {
  return new Hono()
    .post('/', async (c) => c.json(await service.start(parseDesiredState(await readJson(c, z.unknown()))), 201))
    .get('/', async (c) => {
      const limit = limitSchema.safeParse(c.req.query('limit'));
      if (!limit.success) throw validationError('limit', limit.error.issues[0]!.message);
      return c.json({ convergences: await service.recent(limit.data) });
    })
    .get('/:workflowId', async (c) => c.json(await service.view(c.req.param('workflowId'))))
    .post('/:workflowId/:action{pause|resume|cancel}', async (c) => {
      await service.signal(c.req.param('workflowId'), c.req.param('action') as 'pause' | 'resume' | 'cancel');
      return c.json({ workflowId: c.req.param('workflowId'), requested: c.req.param('action') }, 202);
    });
}
