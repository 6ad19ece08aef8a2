// createCfSimulator: a stateful Cloud Controller v3 + UAA in one Hono app, with knobs for latency,
// rate limits and faults, and /__sim endpoints to change them and see what clients asked.
import { Hono } from 'hono';
import { SimRuntime, type SimEnv } from './context.ts';
import { CfError, cfErrorResponse, cfErrors } from './errors.ts';
import { baseUrl, faultInjection, identify, latency, markApplied, rateLimiter, requestLog, requireToken, settle } from './middleware.ts';
import type { SimOptions } from './options.ts';
import { adminRoutes } from './routes/admin.ts';
import { appRoutes } from './routes/apps.ts';
import { buildRoutes } from './routes/builds.ts';
import { deploymentRoutes } from './routes/deployments.ts';
import { domainRoutes } from './routes/domains.ts';
import { dropletRoutes } from './routes/droplets.ts';
import { jobRoutes } from './routes/jobs.ts';
import { organizationQuotaRoutes } from './routes/organizationQuotas.ts';
import { organizationRoutes } from './routes/organizations.ts';
import { packageRoutes } from './routes/packages.ts';
import { processRoutes } from './routes/processes.ts';
import { rootRoutes } from './routes/root.ts';
import { roleRoutes } from './routes/roles.ts';
import { routeRoutes } from './routes/routes.ts';
import { securityGroupRoutes } from './routes/securityGroups.ts';
import { spaceRoutes } from './routes/spaces.ts';
import { uaaRoutes } from './routes/uaa.ts';

export type { SimOptions } from './options.ts';

export function createCfSimulator(options: SimOptions = {}): Hono<SimEnv> {
  const runtime = new SimRuntime(options);
  const app = new Hono<SimEnv>();
  app.onError((error, c) => {
    if (error instanceof CfError) return cfErrorResponse(error, c);
    console.error(error);
    return cfErrorResponse(cfErrors.unknown(), c);
  });
  app.notFound((c) => cfErrorResponse(cfErrors.unknownRequest(), c));

  app.use('*', baseUrl(runtime), requestLog(runtime), latency(runtime), faultInjection(runtime), identify(runtime), rateLimiter(runtime), requireToken(), settle(runtime), markApplied());

  app.route('/__sim', adminRoutes(runtime));
  app.route('/', rootRoutes(runtime));
  app.route('/', uaaRoutes(runtime));
  for (const resource of [organizationRoutes, spaceRoutes, domainRoutes, appRoutes, processRoutes, packageRoutes, buildRoutes, dropletRoutes, deploymentRoutes, routeRoutes, jobRoutes, organizationQuotaRoutes, securityGroupRoutes, roleRoutes]) {
    app.route('/v3', resource(runtime));
  }
  return app;
}
