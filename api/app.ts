// The HTTP API and UI, built from injected clients so tests drive it with app.request().
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { Client } from '@temporalio/client';
import type { Pool } from 'mysql2/promise';
import type { Probe } from '../activities/health.ts';
import type { DependencyName } from '../workflows/healthCheck.shared.ts';
import { HEALTH_TASK_QUEUE } from '../workflows/healthCheck.shared.ts';
import { createUi } from '../ui/routes.tsx';
import { ApiError, errorResponse, notFoundResponse, validationError } from './errors.ts';
import { healthCheckRoutes } from './healthChecks.ts';
import { checkReadiness } from './readiness.ts';
import { listRecentExecutions, temporalWebUiLinks } from './workflows.ts';
import { receiverRoutes } from './receiver.ts';
import { createRequestRunService, requestRunRoutes } from './requestRuns.ts';
import { requestRunPages } from '../ui/pages/requestRuns.tsx';
import { REQUEST_RUN_TASK_QUEUE } from '../workflows/requestRun.shared.ts';
import { cpuLoadRoutes, type CpuLoadApiDependencies } from './cpuLoad.ts';
import { autoscalerPages } from '../ui/pages/autoscaler.tsx';
import { CPU_LOAD_CONTROL_TASK_QUEUE, CPU_LOAD_TASK_QUEUE } from '../workflows/cpuLoad.shared.ts';
import type { ConfigCache } from './configCache.ts';
import { cfConvergeRoutes, createCfConvergeService } from './cfConvergences.ts';
import { cfConvergePages } from '../ui/pages/cfConverge.tsx';
import { CF_CONVERGE_TASK_QUEUE } from '../workflows/cfConverge.shared.ts';
import { configCacheResponseHeaders, configCacheRoutes, rawConfigTargets } from './configCacheRoutes.ts';
import { configCachePages } from '../ui/pages/configCache.tsx';
import { createNodesService, nodesRoutes } from './nodes.ts';
import { NODES_TASK_QUEUE, type NodeTimings } from '../workflows/nodes.shared.ts';
import { nodesPages } from '../ui/pages/nodes.tsx';

export interface AppDependencies {
  temporal: Client;
  namespace: string;
  probes: Record<DependencyName, Probe>;
  temporalWebUiUrl: string;
  mysql: Pool;
  /** URL prefixes request runs may call (config.requestRuns.allowedDestinations). */
  allowedDestinations: readonly string[];
  /** Which API instance serves (shown by the receiver and the UI). */
  instance?: string;
  /** Appended to every task queue (as workers' taskQueueSuffix): tests get workers of their own. */
  taskQueueSuffix?: string;
  /** Lock scope of request runs started here (tests use their own). */
  requestRunScope?: string;
  /** Largest accepted request body, in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** CPU-load toggles: load workers running (config.cpuLoad.loadWorkers); tests also pass their own task queues and settings. */
  cpuLoad?: Partial<Pick<CpuLoadApiDependencies, 'controlTaskQueue' | 'loadTaskQueue' | 'loadWorkers' | 'workflowSettings'>>;
  /** This instance's config cache: serves /config/<key>, /api/config-cache and the Config Cache page when given. */
  configCache?: ConfigCache;
  /** The local SMTP sink's mailbox (http://host:port), shown on the Nodes page when the stack runs one. */
  mailboxUrl?: string;
  /** Waits of node deployments and removals started from the UI (default: production timings; tests pass milliseconds). */
  deployTimings?: Partial<NodeTimings>;
}

const limitSchema = z.coerce.number().int().min(1).max(200).default(20);

export function createApp(deps: AppDependencies) {
  const links = temporalWebUiLinks(deps.temporalWebUiUrl, deps.namespace);
  const suffix = deps.taskQueueSuffix ?? '';
  const healthTaskQueue = HEALTH_TASK_QUEUE + suffix;
  const requestRunTaskQueue = REQUEST_RUN_TASK_QUEUE + suffix;
  const cpuLoadControlTaskQueue = deps.cpuLoad?.controlTaskQueue ?? CPU_LOAD_CONTROL_TASK_QUEUE + suffix;
  const cfConvergeTaskQueue = CF_CONVERGE_TASK_QUEUE + suffix;
  const nodesTaskQueue = NODES_TASK_QUEUE + suffix;
  // Ready means the main worker polls every queue it serves (load workers are optional capacity).
  const readiness = () =>
    checkReadiness({
      temporal: deps.temporal,
      namespace: deps.namespace,
      probes: deps.probes,
      taskQueues: [healthTaskQueue, requestRunTaskQueue, cpuLoadControlTaskQueue, cfConvergeTaskQueue, nodesTaskQueue],
    });
  const recentExecutions = (limit: number) => listRecentExecutions(deps.temporal, links, { limit });
  const requestRuns = createRequestRunService({
    temporal: deps.temporal,
    mysql: deps.mysql,
    taskQueue: requestRunTaskQueue,
    allowedDestinations: deps.allowedDestinations,
    links,
    scope: deps.requestRunScope,
  });

  const cpuLoad: CpuLoadApiDependencies = {
    temporal: deps.temporal,
    links,
    controlTaskQueue: cpuLoadControlTaskQueue,
    loadTaskQueue: deps.cpuLoad?.loadTaskQueue ?? CPU_LOAD_TASK_QUEUE + suffix,
    loadWorkers: deps.cpuLoad?.loadWorkers ?? 1,
    workflowSettings: deps.cpuLoad?.workflowSettings,
  };

  const api = new Hono()
    .get('/workflows', async (c) => {
      const parsed = limitSchema.safeParse(c.req.query('limit'));
      if (!parsed.success) throw validationError('limit', parsed.error.issues[0]!.message);
      return c.json({ executions: await recentExecutions(parsed.data) });
    })
    .route('/health-checks', healthCheckRoutes({ temporal: deps.temporal, taskQueue: healthTaskQueue, links }))
    .route('/request-runs', requestRunRoutes(requestRuns, deps.allowedDestinations));
  api.route('/cpu-load', cpuLoadRoutes(cpuLoad));
  const cfConvergences = createCfConvergeService({ temporal: deps.temporal, taskQueue: cfConvergeTaskQueue, links });
  api.route('/cf-convergences', cfConvergeRoutes(cfConvergences));
  const nodes = createNodesService({ temporal: deps.temporal, mysql: deps.mysql, taskQueue: nodesTaskQueue, links, mailboxUrl: deps.mailboxUrl });
  api.route('/', nodesRoutes(nodes));

  const app = new Hono();
  app.onError(errorResponse);
  app.notFound(notFoundResponse);
  if (deps.configCache) {
    app.use('*', rawConfigTargets((request, env) => app.fetch(request, env)));
    app.use('/config/*', configCacheResponseHeaders(deps.configCache));
  }
  const limitBody = bodyLimit({
    maxSize: deps.maxBodyBytes ?? 1024 * 1024,
    onError: () => {
      throw new ApiError(413, 'payload_too_large', `The request body is larger than ${deps.maxBodyBytes ?? 1024 * 1024} bytes.`);
    },
  });
  // GET and HEAD carry no body; looking for one makes @hono/node-server build a full Request (about
  // 30 % of what a cached config read costs), so they skip the check.
  app.use('*', (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limitBody(c, next)));
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const result = await readiness();
    return c.json({ status: result.ready ? 'ready' : 'unready', dependencies: result.dependencies }, result.ready ? 200 : 503);
  });
  app.route('/api', api);
  app.route('/', receiverRoutes({ mysql: deps.mysql, instance: deps.instance ?? String(process.pid) }));
  app.route('/', requestRunPages({ service: requestRuns, allowedDestinations: deps.allowedDestinations, temporalWebUiUrl: deps.temporalWebUiUrl }));
  app.route('/', autoscalerPages({ cpuLoad, temporalWebUiUrl: deps.temporalWebUiUrl }));
  app.route('/', cfConvergePages({ service: cfConvergences, temporalWebUiUrl: deps.temporalWebUiUrl }));
  app.route('/', nodesPages({ service: nodes, temporalWebUiUrl: deps.temporalWebUiUrl, deployTimings: deps.deployTimings }));
  if (deps.configCache) {
    app.route('/', configCacheRoutes(deps.configCache));
    app.route('/', configCachePages({ cache: deps.configCache, temporalWebUiUrl: deps.temporalWebUiUrl }));
  }
  app.route('/', createUi({ readiness, recentExecutions, links, temporal: deps.temporal, healthTaskQueue }));
  return app;
}

export type App = ReturnType<typeof createApp>;
