// The one assembly of the HTTP server: domain services built from injected clients, the API and
// the UI mounted side by side (neither imports the other), so tests drive it with app.request().
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { errorResponse, notFoundResponse } from '../api/errors.ts';
import { configCacheResponseHeaders, rawConfigTargets } from '../api/configCache.ts';
import { createApiRoutes } from '../api/routes.ts';
import type { AccessService } from '../services/access.ts';
import { access, authorize } from './access.ts';
import { CODEC_PATH_PREFIX } from '../api/codec.ts';
import type { PayloadCodec } from '@temporalio/common';
import { ServiceError } from '../services/errors.ts';
import { createServices, type ServiceDependencies } from '../services/index.ts';
import { createUi } from '../ui/routes.tsx';
import { errorPage, wantsPage } from '../ui/errorPage.tsx';
import { sameOrigin } from './sameOrigin.ts';
import { createHttpMetrics } from './metrics.ts';
import { securityHeaders } from './securityHeaders.ts';
import type { NodeTimings } from '../workflows/nodes.shared.ts';

export interface AppDependencies extends ServiceDependencies {
  /** Which API instance serves (shown by the receiver and the UI). */
  instance?: string;
  /** Largest accepted request body, in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Waits of node deployments and removals started from the UI (default: production timings; tests pass milliseconds). */
  deployTimings?: Partial<NodeTimings>;
  /** Host names the server answers for besides loopback ones (any port): the address it listens on. */
  allowedHosts?: readonly string[];
  /** Operators, sessions, tokens and the audit log. */
  access: AccessService;
  /** DATA_PLANE_OPEN: the receiver and the config API answer without credentials. */
  dataPlaneOpen: boolean;
  /** Serves the codec server (/codec/decode, /codec/encode) to the Temporal Web UI at temporalWebUiUrl. */
  payloadCodec?: PayloadCodec;
}

export function createApp(deps: AppDependencies) {
  const services = createServices(deps);
  const maxBodyBytes = deps.maxBodyBytes ?? 1024 * 1024;
  const codec = deps.payloadCodec && { codec: deps.payloadCodec, webUiOrigin: new URL(deps.temporalWebUiUrl).origin };

  const app = new Hono();
  app.onError((error, c) => (error instanceof ServiceError && wantsPage(c) ? errorPage(c, error.status, error.message, deps.temporalWebUiUrl) : errorResponse(error, c)));
  app.notFound((c) => (wantsPage(c) ? errorPage(c, 404, `There is no page at ${c.req.path}.`, deps.temporalWebUiUrl) : notFoundResponse(c)));
  const metrics = createHttpMetrics(deps.instance ?? String(process.pid));
  // Outermost: every answer is counted, refusals included.
  app.use('*', metrics.middleware);
  // First, so it also marks what the other middleware answers (a refused body, a config request).
  app.use('*', securityHeaders());
  // Before anything acts on a request: another site's form or a DNS-rebinding page changes nothing.
  app.use('*', sameOrigin({ allowedHosts: deps.allowedHosts, crossOriginPaths: codec ? [{ pathPrefix: CODEC_PATH_PREFIX, origin: codec.webUiOrigin }] : [] }));
  if (deps.configCache) {
    app.use('*', rawConfigTargets((request, env) => app.fetch(request, env)));
    app.use('/config/*', configCacheResponseHeaders(deps.configCache));
  }
  const limitBody = bodyLimit({
    maxSize: maxBodyBytes,
    onError: () => {
      throw new ServiceError(413, 'payload_too_large', `The request body is larger than ${maxBodyBytes} bytes.`);
    },
  });
  // GET and HEAD carry no body; looking for one makes @hono/node-server build a full Request (about
  // 30 % of what a cached config read costs), so they skip the check.
  app.use('*', (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limitBody(c, next)));
  // After the body limit, so a CSRF token in a form is read from a body of bounded size.
  app.use('*', authorize({ service: deps.access, dataPlaneOpen: deps.dataPlaneOpen }));
  app.get('/healthz', access('public'), (c) => c.json({ status: 'ok' }));
  app.get('/metrics', access('viewer'), (c) => c.text(metrics.text(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }));
  app.get('/readyz', access('public'), async (c) => {
    const result = await services.readiness();
    return c.json({ status: result.ready ? 'ready' : 'unready', dependencies: result.dependencies }, result.ready ? 200 : 503);
  });
  app.route('/', createApiRoutes(services, { instance: deps.instance ?? String(process.pid), access: deps.access, codec }));
  app.route('/', createUi(services, { deployTimings: deps.deployTimings, access: deps.access }));
  return app;
}

export type App = ReturnType<typeof createApp>;
