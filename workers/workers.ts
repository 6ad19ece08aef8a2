// The workers of this product, one per task queue, built from injected clients so tests run
// exactly what production runs.
import { Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { createDependencyProbes, createHealthActivities, mysqlHealthReportRecorder } from '../activities/health.ts';
import type { ServiceClients } from '../activities/clients.ts';
import { HEALTH_TASK_QUEUE } from '../workflows/healthCheck.shared.ts';

export interface WorkerDependencies {
  connection: NativeConnection;
  namespace: string;
  workflowBundle: WorkflowBundleOption;
  clients: ServiceClients;
  /** Overrides the task queue names (tests use unique queues per test). */
  taskQueueSuffix?: string;
}

export async function createWorkers(deps: WorkerDependencies): Promise<Worker[]> {
  const common = { connection: deps.connection, namespace: deps.namespace, workflowBundle: deps.workflowBundle };
  const suffix = deps.taskQueueSuffix ?? '';
  return [
    await Worker.create({
      ...common,
      taskQueue: HEALTH_TASK_QUEUE + suffix,
      activities: createHealthActivities(createDependencyProbes(deps.clients), mysqlHealthReportRecorder(deps.clients)),
    }),
  ];
}

/** Runs all workers until one fails or `shutdown` is called on them. */
export async function runWorkers(workers: Worker[]): Promise<void> {
  try {
    await Promise.all(workers.map((worker) => worker.run()));
  } finally {
    // If one worker failed, stop the rest so the process exits and its supervisor notices.
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  }
}
