// Every domain service, built once from injected clients; the API routes and the UI pages both use them.
import type { Client } from '@temporalio/client';
import type { Pool } from 'mysql2/promise';
import type { Probe } from '../db/health.ts';
import { CF_CONVERGE_TASK_QUEUE } from '../workflows/cfConverge.shared.ts';
import { CPU_LOAD_CONTROL_TASK_QUEUE, CPU_LOAD_TASK_QUEUE } from '../workflows/cpuLoad.shared.ts';
import { HEALTH_TASK_QUEUE, type DependencyName } from '../workflows/healthCheck.shared.ts';
import { NODES_TASK_QUEUE } from '../workflows/nodes.shared.ts';
import { REQUEST_RUN_TASK_QUEUE } from '../workflows/requestRun.shared.ts';
import { createCfConvergeService } from './cfConverge.ts';
import type { ConfigCache } from './configCache.ts';
import { createCpuLoadService, type CpuLoadServiceDependencies } from './cpuLoad.ts';
import { listRecentExecutions, temporalWebUiLinks } from './executions.ts';
import { createHealthCheckService } from './healthCheck.ts';
import { createNodesService } from './nodes.ts';
import { checkReadiness } from './readiness.ts';
import { createRequestRunService } from './requestRun.ts';
import { createTriggerModel, type TriggerModel } from '../db/triggers.ts';
import { createTriggerScheduler } from './triggerSchedules.ts';
import { createTriggerRunsService } from './triggerRuns.ts';
import { createTriggerStateStore, type TriggerStateStore } from '../db/triggerStates.ts';
import { createSampleReader } from '../db/samples.ts';
import { TRIGGERS_TASK_QUEUE } from '../workflows/triggers.shared.ts';
import { FRACTAL_JOBS_TASK_QUEUE, type FractalTimings } from '../workflows/fractals.shared.ts';
import { createFractalModel } from '../db/fractals.ts';
import { createFractalService, type FractalImages } from './fractals.ts';
import { ServiceError } from './errors.ts';
import { createTriggersService, type TriggerScheduler } from './triggers.ts';
import type { SupervisorStatus } from './supervisorStatus.ts';

export interface ServiceDependencies {
  temporal: Client;
  namespace: string;
  probes: Record<DependencyName, Probe>;
  temporalWebUiUrl: string;
  mysql: Pool;
  /** URL prefixes request runs may call (config.requestRuns.allowedDestinations). */
  allowedDestinations: readonly string[];
  /** Domains notify addresses may be in (config.smtp.allowedDomains). */
  notifyAllowedDomains: readonly string[];
  /** Hosts an http counter's URL may name (config.counters.allowedHosts). */
  counterAllowedHosts: readonly string[];
  /** Brings a cluster's sampling schedule in step with its triggers (default: its Temporal Schedule); unit tests pass a stub. */
  triggerScheduler?: TriggerScheduler;
  /** Counter and trigger definitions (default: in MySQL); unit tests pass one in memory. */
  triggerModel?: TriggerModel;
  /** Trigger states and firings (default: in MySQL); unit tests pass their own. */
  triggerStates?: TriggerStateStore;
  /** Appended to every task queue (as workers' taskQueueSuffix): tests get workers of their own. */
  taskQueueSuffix?: string;
  /** Lock scope of request runs started here (tests use their own). */
  requestRunScope?: string;
  /** CPU-load toggles: load workers running (config.cpuLoad.loadWorkers); tests also pass their own task queues and settings. */
  cpuLoad?: Partial<Pick<CpuLoadServiceDependencies, 'controlTaskQueue' | 'loadTaskQueue' | 'loadWorkers' | 'maxTtlMs' | 'workflowSettings'>>;
  /** Where fractal PNGs are (object storage through the S3 API); without it, image routes answer 503. */
  fractalImages?: FractalImages;
  /** Timings given to new fractals (tests pass milliseconds). */
  fractalTimings?: FractalTimings;
  /** This instance's config cache, when it serves one. */
  configCache?: ConfigCache;
  /** The local SMTP sink's mailbox (http://host:port), when the stack runs one. */
  mailboxUrl?: string;
  /** npm start's supervisor status, for readiness (services/supervisorStatus.ts). */
  supervisorStatus?: () => Promise<SupervisorStatus>;
}

/** A cluster's sampling schedule kept in step with its enabled triggers' intervals. */
/** What the nodes and trigger-definition services need: the API's, and a script's or a benchmark's outside the API. */
export type DefinitionServiceDependencies = Pick<
  ServiceDependencies,
  'temporal' | 'mysql' | 'namespace' | 'temporalWebUiUrl' | 'notifyAllowedDomains' | 'counterAllowedHosts' | 'taskQueueSuffix' | 'mailboxUrl' | 'triggerModel' | 'triggerScheduler' | 'triggerStates'
>;

/**
 * The nodes and trigger-definition services, and what the trigger runs share with them (model, states,
 * schedules), built one way wherever they run: every definition change syncs its cluster's schedule
 * and forgets a disabled trigger's state, whether it comes through the API or the example seeding.
 */
export function createDefinitionServices(deps: DefinitionServiceDependencies) {
  const suffix = deps.taskQueueSuffix ?? '';
  const links = temporalWebUiLinks(deps.temporalWebUiUrl, deps.namespace);
  const triggerModel = deps.triggerModel ?? createTriggerModel(deps.mysql);
  const triggerSchedules = createTriggerScheduler({ temporal: deps.temporal, taskQueue: TRIGGERS_TASK_QUEUE + suffix, definitions: triggerModel });
  const triggerStates = deps.triggerStates ?? createTriggerStateStore(deps.mysql);
  return {
    triggerModel,
    triggerSchedules,
    triggerStates,
    nodes: createNodesService({ temporal: deps.temporal, mysql: deps.mysql, taskQueue: NODES_TASK_QUEUE + suffix, links, mailboxUrl: deps.mailboxUrl, notifyAllowedDomains: deps.notifyAllowedDomains }),
    triggers: createTriggersService({
      model: triggerModel,
      scheduler: deps.triggerScheduler ?? triggerSchedules,
      states: triggerStates,
      counterAllowedHosts: deps.counterAllowedHosts,
    }),
  };
}

const noObjectStorage = () => Promise.reject(new ServiceError(503, 'object_storage_unavailable', 'This server has no object storage for fractal images.'));
const noFractalImages: FractalImages = { get: noObjectStorage, delete: noObjectStorage };

export function createServices(deps: ServiceDependencies) {
  const links = temporalWebUiLinks(deps.temporalWebUiUrl, deps.namespace);
  const suffix = deps.taskQueueSuffix ?? '';
  const taskQueues = {
    healthCheck: HEALTH_TASK_QUEUE + suffix,
    requestRun: REQUEST_RUN_TASK_QUEUE + suffix,
    cpuLoad: deps.cpuLoad?.controlTaskQueue ?? CPU_LOAD_CONTROL_TASK_QUEUE + suffix,
    cfConverge: CF_CONVERGE_TASK_QUEUE + suffix,
    nodes: NODES_TASK_QUEUE + suffix,
    triggers: TRIGGERS_TASK_QUEUE + suffix,
    fractalJobs: FRACTAL_JOBS_TASK_QUEUE + suffix,
  };
  const { temporal } = deps;
  const { triggerModel, triggerSchedules, triggerStates, nodes, triggers } = createDefinitionServices(deps);
  return {
    links,
    temporalWebUiUrl: deps.temporalWebUiUrl,
    // Ready means the main worker polls every queue it serves (load workers are optional capacity).
    readiness: () => checkReadiness({ temporal, namespace: deps.namespace, probes: deps.probes, taskQueues: Object.values(taskQueues), supervisorStatus: deps.supervisorStatus }),
    // Trigger ticks (one per cluster every few seconds) and dry runs would bury everything else:
    // they are on the Triggers pages and in the Web UI's Schedules page.
    recentExecutions: (limit: number) => listRecentExecutions(temporal, links, { limit, query: "WorkflowType != 'triggerTick' AND WorkflowType != 'triggerPreview' AND WorkflowType != 'fractal'" }),
    healthCheck: createHealthCheckService({ temporal, taskQueue: taskQueues.healthCheck, links }),
    requestRun: createRequestRunService({
      temporal,
      mysql: deps.mysql,
      taskQueue: taskQueues.requestRun,
      allowedDestinations: deps.allowedDestinations,
      links,
      scope: deps.requestRunScope,
    }),
    cpuLoad: createCpuLoadService({
      temporal,
      links,
      controlTaskQueue: taskQueues.cpuLoad,
      loadTaskQueue: deps.cpuLoad?.loadTaskQueue ?? CPU_LOAD_TASK_QUEUE + suffix,
      loadWorkers: deps.cpuLoad?.loadWorkers ?? 1,
      maxTtlMs: deps.cpuLoad?.maxTtlMs,
      workflowSettings: deps.cpuLoad?.workflowSettings,
    }),
    cfConverge: createCfConvergeService({ temporal, taskQueue: taskQueues.cfConverge, links }),
    nodes,
    triggers,
    triggerRuns: createTriggerRunsService({
      temporal,
      taskQueue: taskQueues.triggers,
      model: triggerModel,
      states: triggerStates,
      samples: createSampleReader(deps.mysql),
      scheduler: triggerSchedules,
      links,
    }),
    fractals: createFractalService({
      temporal,
      model: createFractalModel(deps.mysql),
      images: deps.fractalImages ?? noFractalImages,
      taskQueue: taskQueues.fractalJobs,
      links,
      timings: deps.fractalTimings,
    }),
    configCache: deps.configCache,
    /** The receiver counts request-run calls straight into MySQL. */
    mysql: deps.mysql,
  };
}

export type Services = ReturnType<typeof createServices>;
