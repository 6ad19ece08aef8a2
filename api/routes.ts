// The HTTP API: JSON under /api (one sub-app per domain, each a thin layer over its service), the
// request-run receiver at /receiver and the config cache at /config/<key>.
import { Hono } from 'hono';
import { z } from 'zod';
import type { Services } from '../services/index.ts';
import { validationError } from '../services/errors.ts';
import { cfConvergeRoutes } from './cfConverge.ts';
import { cpuLoadRoutes } from './cpuLoad.ts';
import { healthCheckRoutes } from './healthCheck.ts';
import { nodesRoutes } from './nodes.ts';
import { requestRunRoutes } from './requestRun.ts';
import { receiverRoutes } from './requestRunReceiver.ts';
import { configCacheRoutes } from './configCache.ts';

const limitSchema = z.coerce.number().int().min(1).max(200).default(20);

/** The JSON API under /api. */
function jsonApi(services: Services) {
  return new Hono()
    .get('/workflows', async (c) => {
      const parsed = limitSchema.safeParse(c.req.query('limit'));
      if (!parsed.success) throw validationError('limit', parsed.error.issues[0]!.message);
      return c.json({ executions: await services.recentExecutions(parsed.data) });
    })
    .route('/health-checks', healthCheckRoutes(services.healthCheck))
    .route('/request-runs', requestRunRoutes(services.requestRun))
    .route('/cpu-load', cpuLoadRoutes(services.cpuLoad))
    .route('/cf-convergences', cfConvergeRoutes(services.cfConverge))
    .route('/', nodesRoutes(services.nodes));
}

export function createApiRoutes(services: Services, options: { instance: string }) {
  const api = new Hono().route('/api', jsonApi(services)).route('/', receiverRoutes({ mysql: services.mysql, instance: options.instance }));
  if (services.configCache) api.route('/', configCacheRoutes(services.configCache));
  return api;
}
