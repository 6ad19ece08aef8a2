// The HTTP API and UI, built from injected clients so tests drive it with app.request().
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { Client } from '@temporalio/client';
import type { Probe } from '../activities/health.ts';
import type { DependencyName } from '../workflows/healthCheck.shared.ts';
import { HEALTH_TASK_QUEUE } from '../workflows/healthCheck.shared.ts';
import { createUi } from '../ui/routes.tsx';
import { ApiError, errorResponse, notFoundResponse, validationError } from './errors.ts';
import { healthCheckRoutes } from './healthChecks.ts';
import { checkReadiness } from './readiness.ts';
import { listRecentExecutions, temporalWebUiLinks } from './workflows.ts';

export interface AppDependencies {
  temporal: Client;
  namespace: string;
  probes: Record<DependencyName, Probe>;
  temporalWebUiUrl: string;
  /** Task queue names; tests pass their own so parallel test files do not share workers. */
  taskQueues?: { health?: string };
  /** Largest accepted request body, in bytes (default 1 MiB). */
  maxBodyBytes?: number;
}

const limitSchema = z.coerce.number().int().min(1).max(200).default(20);

export function createApp(deps: AppDependencies) {
  const links = temporalWebUiLinks(deps.temporalWebUiUrl, deps.namespace);
  const healthTaskQueue = deps.taskQueues?.health ?? HEALTH_TASK_QUEUE;
  const readiness = () =>
    checkReadiness({ temporal: deps.temporal, namespace: deps.namespace, probes: deps.probes, taskQueues: [healthTaskQueue] });
  const recentExecutions = (limit: number) => listRecentExecutions(deps.temporal, links, { limit });

  const api = new Hono()
    .get('/workflows', async (c) => {
      const parsed = limitSchema.safeParse(c.req.query('limit'));
      if (!parsed.success) throw validationError('limit', parsed.error.issues[0]!.message);
      return c.json({ executions: await recentExecutions(parsed.data) });
    })
    .route('/health-checks', healthCheckRoutes({ temporal: deps.temporal, taskQueue: healthTaskQueue, links }));

  const app = new Hono();
  app.onError(errorResponse);
  app.notFound(notFoundResponse);
  app.use(
    '*',
    bodyLimit({
      maxSize: deps.maxBodyBytes ?? 1024 * 1024,
      onError: () => {
        throw new ApiError(413, 'payload_too_large', `The request body is larger than ${deps.maxBodyBytes ?? 1024 * 1024} bytes.`);
      },
    }),
  );
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const result = await readiness();
    return c.json({ status: result.ready ? 'ready' : 'unready', dependencies: result.dependencies }, result.ready ? 200 : 503);
  });
  app.route('/api', api);
  app.route('/', createUi({ readiness, recentExecutions, links, temporal: deps.temporal, healthTaskQueue }));
  return app;
}

export type App = ReturnType<typeof createApp>;
