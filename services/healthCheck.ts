// Health checks: start one (409 while one for the same scope runs) and read its progress or report.
import type { Client } from '@temporalio/client';
import { healthCheck } from '../workflows/healthCheck.ts';
import { healthCheckProgressQuery, healthCheckWorkflowId, healthCheckWorkflowIdSchema, type HealthCheckInput } from '../workflows/healthCheck.shared.ts';
import { parseId } from './errors.ts';
import { describeOwn, summarize, type WorkflowLinks } from './executions.ts';

export interface HealthCheckServiceDependencies {
  temporal: Client;
  taskQueue: string;
  links: WorkflowLinks;
}

export function createHealthCheckService(deps: HealthCheckServiceDependencies) {
  return {
    async start(input: HealthCheckInput) {
      const workflowId = healthCheckWorkflowId(input.dependencies);
      const handle = await deps.temporal.workflow.start(healthCheck, {
        workflowId,
        taskQueue: deps.taskQueue,
        args: [input],
        workflowIdConflictPolicy: 'FAIL',
      });
      return { workflowId, runId: handle.firstExecutionRunId, webUiUrl: deps.links.execution(workflowId, handle.firstExecutionRunId) };
    },

    /** A health check's state: only a healthCheck workflow's, named by the domain's own ID scheme (404 otherwise). */
    async get(workflowId: string) {
      const { description, handle } = await describeOwn(deps.temporal, [healthCheck.name], parseId(healthCheckWorkflowIdSchema, workflowId));
      const execution = summarize(description, deps.links);
      const running = execution.status === 'RUNNING';
      const progress = running ? await handle.query(healthCheckProgressQuery).catch(() => undefined) : undefined;
      const report = execution.status === 'COMPLETED' ? await handle.result() : undefined;
      return { ...execution, progress, report };
    },
  };
}

export type HealthCheckService = ReturnType<typeof createHealthCheckService>;
