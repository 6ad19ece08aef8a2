// The HTTP API: JSON under /api (one sub-app per domain, each a thin layer over its service), the
// request-run receiver at /receiver and the config cache at /config/<key>.
import { Hono } from 'hono';
import type { AccessService } from '../services/access.ts';
import type { Services } from '../services/index.ts';
import { accessRoutes } from './access.ts';
import { cfConvergeRoutes } from './cfConverge.ts';
import { cpuLoadRoutes } from './cpuLoad.ts';
import { healthCheckRoutes } from './healthCheck.ts';
import { nodesRoutes } from './nodes.ts';
import { requestRunRoutes } from './requestRun.ts';
import { triggerRunsRoutes, triggersRoutes } from './triggers.ts';
import { receiverRoutes } from './requestRunReceiver.ts';
import { configCacheRoutes } from './configCache.ts';
import { fractalRoutes } from './fractals.ts';
import { codecRoutes, type CodecRoutesOptions } from './codec.ts';
import { listQuery, readQuery } from './validation.ts';
import { access } from '../server/access.ts';

const executionsQuery = listQuery(200, 20);

/** The JSON API under /api. */
function jsonApi(services: Services, accessService: AccessService) {
  return new Hono()
    .route('/', accessRoutes(accessService))
    .get('/workflows', access('viewer'), async (c) => c.json({ executions: await services.recentExecutions(readQuery(c, executionsQuery).limit) }))
    .route('/health-checks', healthCheckRoutes(services.healthCheck))
    .route('/request-runs', requestRunRoutes(services.requestRun))
    .route('/cpu-load', cpuLoadRoutes(services.cpuLoad))
    .route('/cf-convergences', cfConvergeRoutes(services.cfConverge))
    .route('/', nodesRoutes(services.nodes))
    .route('/', triggersRoutes(services.triggers))
    .route('/', triggerRunsRoutes(services.triggerRuns, services.triggers));
}

/** `codec`: the codec server for the Temporal Web UI (POST /codec/decode, /codec/encode), when given. */
export function createApiRoutes(services: Services, options: { instance: string; access: AccessService; codec?: CodecRoutesOptions }) {
  const api = new Hono()
    .route('/api', jsonApi(services, options.access))
    .route('/', receiverRoutes({ mysql: services.mysql, instance: options.instance }))
    .route('/', fractalRoutes(services.fractals));
  if (services.configCache) api.route('/', configCacheRoutes(services.configCache));
  if (options.codec) api.route('/', codecRoutes(options.codec));
  return api;
}
