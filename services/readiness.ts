// Readiness of each dependency, for /readyz and the Home page. Probes run in parallel with a short limit.
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { Probe } from '../db/health.ts';
import { dependencyNames, type DependencyName } from '../workflows/healthCheck.shared.ts';

const { temporal } = proto; // CommonJS package: named imports do not resolve under ESM

export interface DependencyStatus {
  name: string;
  ok: boolean;
  latencyMs: number;
  detail: string;
}

export interface Readiness {
  ready: boolean;
  dependencies: DependencyStatus[];
}

export interface ReadinessDependencies {
  temporal: Client;
  namespace: string;
  probes: Record<DependencyName, Probe>;
  /** Task queues that must have a worker polling them. */
  taskQueues: string[];
}

const PROBE_TIMEOUT_MS = 2000;

async function measure(name: string, check: () => Promise<string>): Promise<DependencyStatus> {
  const started = performance.now();
  try {
    const detail = await check();
    return { name, ok: true, latencyMs: Math.round(performance.now() - started), detail };
  } catch (error) {
    return { name, ok: false, latencyMs: Math.round(performance.now() - started), detail: (error as Error).message };
  }
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS).unref()),
  ]);
}

export async function checkReadiness(deps: ReadinessDependencies): Promise<Readiness> {
  const service = deps.temporal.workflowService;
  const temporalStatus = measure('temporal', async () => {
    await withTimeout(service.describeNamespace({ namespace: deps.namespace }), 'Temporal');
    return `namespace ${deps.namespace}`;
  });
  const workerStatus = measure('worker', async () => {
    const missing: string[] = [];
    for (const name of deps.taskQueues) {
      const response = await withTimeout(
        service.describeTaskQueue({
          namespace: deps.namespace,
          taskQueue: { name },
          taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        }),
        'Temporal',
      );
      if ((response.pollers ?? []).length === 0) missing.push(name);
    }
    if (missing.length > 0) throw new Error(`no worker polls ${missing.join(', ')}`);
    return `polling ${deps.taskQueues.join(', ')}`;
  });
  const probed = dependencyNames.map((name) => deps.probes[name](PROBE_TIMEOUT_MS));
  const dependencies = await Promise.all([temporalStatus, workerStatus, ...probed]);
  return { ready: dependencies.every((d) => d.ok), dependencies };
}
