// HTTP face of the health-check workflow: start one (409 while one for the same scope runs), read its state.
import { Hono } from 'hono';
import { z } from 'zod';
import type { Client } from '@temporalio/client';
import { healthCheck } from '../workflows/healthCheck.ts';
import {
  dependencyNames,
  healthCheckProgressQuery,
  healthCheckWorkflowId,
  type HealthCheckInput,
} from '../workflows/healthCheck.shared.ts';
import { readJson } from './errors.ts';
import { describeExecution, type WorkflowLinks } from './workflows.ts';

export const healthCheckInputSchema = z.strictObject({
  dependencies: z.array(z.enum(dependencyNames)).min(1, 'name at least one dependency').optional(),
  probeTimeoutMs: z.number().int().min(10).max(60_000).optional(),
});

export interface HealthCheckApiDependencies {
  temporal: Client;
  taskQueue: string;
  links: WorkflowLinks;
}

export async function startHealthCheck(deps: HealthCheckApiDependencies, input: HealthCheckInput) {
  const workflowId = healthCheckWorkflowId(input.dependencies);
  const handle = await deps.temporal.workflow.start(healthCheck, {
    workflowId,
    taskQueue: deps.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'FAIL',
  });
  return { workflowId, runId: handle.firstExecutionRunId, webUiUrl: deps.links.execution(workflowId, handle.firstExecutionRunId) };
}

export function healthCheckRoutes(deps: HealthCheckApiDependencies) {
  return new Hono()
    .post('/', async (c) => {
      const input = await readJson(c, healthCheckInputSchema);
      return c.json(await startHealthCheck(deps, input), 201);
    })
    .get('/:workflowId', async (c) => {
      const handle = deps.temporal.workflow.getHandle(c.req.param('workflowId'));
      const execution = await describeExecution(deps.temporal, handle.workflowId, deps.links);
      const running = execution.status === 'RUNNING';
      const progress = running ? await handle.query(healthCheckProgressQuery).catch(() => undefined) : undefined;
      const report = execution.status === 'COMPLETED' ? await handle.result() : undefined;
      return c.json({ ...execution, progress, report });
    });
}
