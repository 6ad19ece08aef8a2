// Readiness of each dependency, for /readyz and the Home page. Probes run in parallel with a short limit.
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { Probe } from '../db/health.ts';
import type { SupervisorStatus } from './supervisorStatus.ts';
import { dependencyNames, type DependencyName } from '../workflows/healthCheck.shared.ts';

const { temporal } = proto; // CommonJS package: named imports do not resolve under ESM

export interface DependencyStatus {
  name: string;
  ok: boolean;
  latencyMs: number;
  detail: string;
  /** npm start's supervisor is restarting it (restarts so far, since when). */
  restarting?: { restarts: number; since: string };
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
  /** What npm start's supervisor says of its processes (none outside npm start). */
  supervisorStatus?: () => Promise<SupervisorStatus>;
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
  const [supervisor, ...dependencies] = await Promise.all([deps.supervisorStatus?.() ?? {}, temporalStatus, workerStatus, ...probed]);
  const withRestarts = markRestarting(dependencies, supervisor);
  return { ready: withRestarts.every((d) => d.ok), dependencies: withRestarts };
}

/** The dependency a supervised process provides: mariadb is mysql, worker-N the worker; others by their own name. */
const dependencyOfProcess = (name: string) => (name === 'mariadb' ? 'mysql' : /^worker-\d+$/.test(name) ? 'worker' : name);

/**
 * A dependency whose process is being restarted shows as restarting; a restarting process that is
 * no probed dependency (moto, sshd, the CF simulator, the SMTP sink, an API or load worker) is listed too.
 */
function markRestarting(dependencies: DependencyStatus[], supervisor: SupervisorStatus): DependencyStatus[] {
  const restarting = new Map<string, { restarts: number; since: string }>();
  for (const [name, { state, restarts, since }] of Object.entries(supervisor)) {
    if (state === 'restarting') restarting.set(dependencyOfProcess(name), { restarts, since });
  }
  const marked = dependencies.map((d) => (restarting.has(d.name) ? { ...d, restarting: restarting.get(d.name) } : d));
  for (const [name, status] of restarting) {
    if (!dependencies.some((d) => d.name === name)) marked.push({ name, ok: false, latencyMs: 0, detail: `restart ${status.restarts} under way`, restarting: status });
  }
  return marked;
}
