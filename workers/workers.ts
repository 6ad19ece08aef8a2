// The workers of this product, one per task queue, built from injected clients so tests run
// exactly what production runs.
import type { DataConverter } from '@temporalio/common';
import { Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { createHealthActivities } from '../activities/health.ts';
import { createDependencyProbes, mysqlHealthReportRecorder } from '../db/health.ts';
import type { ServiceClients } from '../db/clients.ts';
import { HEALTH_TASK_QUEUE } from '../workflows/healthCheck.shared.ts';
import { createRequestRunActivities } from '../activities/requestRun.ts';
import { REQUEST_RUN_TASK_QUEUE } from '../workflows/requestRun.shared.ts';
import { createCpuLoadActivities, type SliceEvent } from '../activities/cpuLoad.ts';
import { createLoadWorker } from './cpuLoad.ts';
import { workerClassSharingWorkflowThreads } from './sharedWorkflowThreads.ts';
import { CPU_LOAD_CONTROL_TASK_QUEUE, CPU_LOAD_TASK_QUEUE } from '../workflows/cpuLoad.shared.ts';
import { createCfConvergeActivities } from '../activities/cf/converge.ts';
import { createBitsReader } from '../activities/cf/bits.ts';
import { clientFactory, type CfFoundation } from '../activities/cf/foundations.ts';
import { CF_CONVERGE_TASK_QUEUE } from '../workflows/cfConverge.shared.ts';
import { createNodeActivities, type NodeActivityDependencies } from '../activities/nodes/index.ts';
import { createFleetModel } from '../db/nodes.ts';
import { createScriptOutputStore } from '../db/scriptOutputs.ts';
import { NODES_TASK_QUEUE } from '../workflows/nodes.shared.ts';
import { Client } from '@temporalio/client';
import { createCounterCollector, createCfProcessStatsReader, createQueueBacklogReader } from '../activities/triggers/collect.ts';
import { createTickActivities } from '../activities/triggers/tick.ts';
import { createChainActivities } from '../activities/triggers/chain.ts';
import { createFastFetch } from '../activities/cf/transport.ts';
import { createSampleStore } from '../db/samples.ts';
import { createTriggerModel } from '../db/triggers.ts';
import { createTriggerStateStore } from '../db/triggerStates.ts';
import { createCpuLoadService, type CpuLoadServiceDependencies } from '../services/cpuLoad.ts';
import { createTriggerScheduler } from '../services/triggerSchedules.ts';
import { TRIGGERS_TASK_QUEUE } from '../workflows/triggers.shared.ts';
import { FRACTAL_JOBS_TASK_QUEUE } from '../workflows/fractals.shared.ts';
import { createFractalRecordActivities } from '../activities/fractals/records.ts';
import { createFractalModel } from '../db/fractals.ts';

export interface WorkerDependencies {
  connection: NativeConnection;
  namespace: string;
  /** The payload codec's data converter (temporal/connection.ts codecDataConverter): what workers write is encrypted. */
  dataConverter: DataConverter;
  workflowBundle: WorkflowBundleOption;
  /** The fractal-jobs worker's bundle (only the fractal workflows; workflows/fractalsIndex.ts); default: workflowBundle. */
  fractalWorkflowBundle?: WorkflowBundleOption;
  clients: ServiceClients;
  /** URL prefixes request runs may call (config.requestRuns.allowedDestinations). */
  allowedDestinations: readonly string[];
  /** Cloud Foundry foundations by name, and where prototype bits are read from. */
  cf: { foundations: Record<string, CfFoundation>; bitsDir: string };
  /** EC2/ELBv2 clients, the SSH runner and resolver, and the mailer (the fleet model comes from clients.mysql). */
  nodes: Omit<NodeActivityDependencies, 'model' | 'outputs'>;
  /** Counters (config.counters) and how chains switch CPU load (as the API does: config.cpuLoad). */
  triggers: {
    allowedHosts: readonly string[];
    retentionDays: number;
    cpuLoad: Pick<CpuLoadServiceDependencies, 'loadWorkers' | 'maxTtlMs' | 'workflowSettings'>;
  };
  /**
   * CPU-load slots (config.cpuLoad.loadWorkers): a load worker on `cpu-load` in this process that runs
   * that many slices at once, each burning one core in a thread of its own. 0 (the default): none.
   */
  loadSlots?: number;
  /** Tests watch the slots' slices. */
  onSlice?: (event: SliceEvent) => void;
  /** Overrides the task queue names (tests use unique queues per test). */
  taskQueueSuffix?: string;
}

/** The triggers task queue's activities: ticks (collect, record, evaluate) and chains. */
function createTriggerActivities(deps: WorkerDependencies, suffix: string) {
  const { mysql, memcached } = deps.clients;
  const fleet = createFleetModel(mysql);
  const definitions = createTriggerModel(mysql);
  const states = createTriggerStateStore(mysql);
  const clientFor = clientFactory(deps.cf.foundations);
  const temporal = new Client({ connection: deps.connection, namespace: deps.namespace, dataConverter: deps.dataConverter });
  const schedules = createTriggerScheduler({
    temporal,
    taskQueue: TRIGGERS_TASK_QUEUE + suffix,
    definitions,
  });
  const cpuLoad = createCpuLoadService({
    temporal,
    controlTaskQueue: CPU_LOAD_CONTROL_TASK_QUEUE + suffix,
    loadTaskQueue: CPU_LOAD_TASK_QUEUE + suffix,
    links: { execution: () => '', list: () => '' },
    ...deps.triggers.cpuLoad,
  });
  return {
    ...createTickActivities({
      definitions,
      states,
      activeNodes: (cluster) => fleet.activeNodeTargets(cluster),
      collector: createCounterCollector({
        ssh: deps.nodes.ssh,
        fetch: createFastFetch(),
        cfStats: createCfProcessStatsReader(clientFor),
        queueBacklog: createQueueBacklogReader(temporal.workflowService, deps.namespace, suffix),
        allowedHosts: deps.triggers.allowedHosts,
      }),
      samples: createSampleStore(mysql, memcached, { retentionDays: deps.triggers.retentionDays }),
      syncSchedule: (cluster) => schedules.sync(cluster),
    }),
    ...createChainActivities({
      states,
      definitions,
      fleet,
      cfClientFor: clientFor,
      switchCpuLoad: (target, body) => cpuLoad.switch(target, body),
      mailer: deps.nodes.mailer,
      notifyAllowedDomains: deps.nodes.notifyAllowedDomains,
    }),
  };
}

export async function createWorkers(deps: WorkerDependencies): Promise<Worker[]> {
  const common = {
    connection: deps.connection,
    namespace: deps.namespace,
    dataConverter: deps.dataConverter,
    workflowBundle: deps.workflowBundle,
    // The SDK sizes each worker's sticky cache from the heap limit (about 2,300 workflows on 4 GB), as
    // if it had the machine to itself; six share one workflow thread here. Evicted workflows replay when next needed.
    maxCachedWorkflows: 500,
  };
  const suffix = deps.taskQueueSuffix ?? '';
  const loadSlots = deps.loadSlots ?? 0;
  // The six domains' Workers share one workflow thread (sharedWorkflowThreads.ts); the fractal jobs,
  // whose workflows use local activities, keep a thread of their own.
  const SharingWorker = workerClassSharingWorkflowThreads();
  // Created side by side: the start of the stack waits for all.
  return Promise.all([
    SharingWorker.create({
      ...common,
      taskQueue: HEALTH_TASK_QUEUE + suffix,
      activities: createHealthActivities(createDependencyProbes(deps.clients), mysqlHealthReportRecorder(deps.clients)),
    }),
    SharingWorker.create({
      ...common,
      taskQueue: CF_CONVERGE_TASK_QUEUE + suffix,
      activities: createCfConvergeActivities({ clientFor: clientFactory(deps.cf.foundations), readBits: createBitsReader(deps.cf.bitsDir) }),
      maxHeartbeatThrottleInterval: '1 second',
    }),
    SharingWorker.create({
      ...common,
      taskQueue: REQUEST_RUN_TASK_QUEUE + suffix,
      activities: createRequestRunActivities({ ...deps.clients, allowedDestinations: deps.allowedDestinations }),
      // Progress and cancellation travel with heartbeats: flush them often.
      maxHeartbeatThrottleInterval: '500 milliseconds',
      defaultHeartbeatThrottleInterval: '500 milliseconds',
    }),
    SharingWorker.create({
      ...common,
      taskQueue: NODES_TASK_QUEUE + suffix,
      activities: createNodeActivities({ ...deps.nodes, model: createFleetModel(deps.clients.mysql), outputs: createScriptOutputStore(deps.clients.mysql) }),
      // Waiters and scripts heartbeat every second; SSH sessions are cheap, so let many run at once.
      maxConcurrentActivityTaskExecutions: 100,
      maxHeartbeatThrottleInterval: '2 seconds',
    }),
    SharingWorker.create({
      ...common,
      taskQueue: CPU_LOAD_CONTROL_TASK_QUEUE + suffix,
      activities: createCpuLoadActivities(deps.clients),
    }),
    SharingWorker.create({
      ...common,
      taskQueue: TRIGGERS_TASK_QUEUE + suffix,
      activities: createTriggerActivities(deps, suffix),
    }),
    // Fractal and batch workflows with their MySQL bookkeeping (local activities); renders go to the fractal workers.
    Worker.create({
      ...common,
      workflowBundle: deps.fractalWorkflowBundle ?? deps.workflowBundle,
      taskQueue: FRACTAL_JOBS_TASK_QUEUE + suffix,
      activities: createFractalRecordActivities(createFractalModel(deps.clients.mysql)),
    }),
    // The CPU-load slices: activities only, and their burn is off this event loop (see activities/cpuBurnThread.ts).
    ...(loadSlots > 0
      ? [createLoadWorker({ connection: deps.connection, namespace: deps.namespace, dataConverter: deps.dataConverter, taskQueue: CPU_LOAD_TASK_QUEUE + suffix, slots: loadSlots, onSlice: deps.onSlice })]
      : []),
  ]);
}

// The load worker and the fractal worker (their own modules, so a process of their own stays lean).
export { createLoadWorker, type LoadWorkerDependencies } from './cpuLoad.ts';
export { createFractalWorker, defaultFractalWorkerIdentity, type FractalWorkerDependencies } from './fractals.ts';

/** Runs all workers until one fails or `shutdown` is called on them. */
export async function runWorkers(workers: Worker[]): Promise<void> {
  try {
    await Promise.all(workers.map((worker) => worker.run()));
  } finally {
    // If one worker failed, stop the rest so the process exits and its supervisor notices.
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  }
}
