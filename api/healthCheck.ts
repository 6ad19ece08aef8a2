// HTTP routes of the health-check workflow: start one, read its state.
import { Hono } from 'hono';
import { healthCheckInputSchema, healthCheckWorkflowIdSchema } from '../workflows/healthCheck.shared.ts';
import type { HealthCheckService } from '../services/healthCheck.ts';
import { readIdParam, readJson } from './validation.ts';
import { access } from '../server/access.ts';

export function healthCheckRoutes(service: HealthCheckService) {
  return new Hono()
    .post('/', access('operator'), async (c) => c.json(await service.start(await readJson(c, healthCheckInputSchema)), 201))
    .get('/:workflowId', access('viewer'), async (c) => c.json(await service.get(readIdParam(c, 'workflowId', healthCheckWorkflowIdSchema))));
}
