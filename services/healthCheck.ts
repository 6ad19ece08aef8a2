// Health checks: start one (409 while one for the same scope runs) and read its progress or report.
import type { Client } from '@temporalio/client';
import { healthCheck } from '../workflows/healthCheck.ts';
import { healthCheckProgressQuery, healthCheckWorkflowId, type HealthCheckInput } from '../workflows/healthCheck.shared.ts';
import { describeExecution, type WorkflowLinks } from './executions.ts';

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

    async get(workflowId: string) {
      const handle = deps.temporal.workflow.getHandle(workflowId);
      const execution = await describeExecution(deps.temporal, workflowId, deps.links);
      const running = execution.status === 'RUNNING';
      const progress = running ? await handle.query(healthCheckProgressQuery).catch(() => undefined) : undefined;
      const report = execution.status === 'COMPLETED' ? await handle.result() : undefined;
      return { ...execution, progress, report };
    },
  };
}

export type HealthCheckService = ReturnType<typeof createHealthCheckService>;
