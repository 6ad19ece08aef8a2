// Discovery without auth: GET / (where the API, login and UAA are), GET /v3 and GET /v3/info.
import { Hono } from 'hono';
import type { SimEnv, SimRuntime } from '../context.ts';

const CC_API_VERSION = '3.181.0';

export function rootRoutes(runtime: SimRuntime) {
  return new Hono<SimEnv>()
    .get('/', (c) => {
      const base = c.var.baseUrl;
      const uaa = runtime.uaaOrigin ?? base;
      // Tokens come from the login link (as the cf CLI asks them); the uaa link is for everything else.
      return c.json({
        links: {
          self: { href: base },
          bits_service: null,
          cloud_controller_v2: null,
          cloud_controller_v3: { href: `${base}/v3`, meta: { version: CC_API_VERSION } },
          network_policy_v0: null,
          network_policy_v1: null,
          login: { href: `${uaa}/login` },
          uaa: { href: `${uaa}/uaa` },
          credhub: null,
          routing: null,
          logging: null,
          log_cache: null,
          log_stream: null,
          app_ssh: null,
        },
      });
    })
    .get('/v3', (c) => {
      const base = `${c.var.baseUrl}/v3`;
      const resources = ['apps', 'builds', 'domains', 'droplets', 'organizations', 'packages', 'processes', 'routes', 'spaces'];
      return c.json({ links: { self: { href: base }, info: { href: `${base}/info` }, ...Object.fromEntries(resources.map((r) => [r, { href: `${base}/${r}` }])) } });
    })
    .get('/v3/info', (c) => {
      const { limit, windowSeconds } = runtime.knobs.rateLimit;
      return c.json({
        build: 'cf-simulator',
        cli_version: { minimum: '8.0.0', recommended: '8.0.0' },
        custom: { simulator: true },
        description: 'Cloud Controller v3 simulator (in memory)',
        name: 'cf-simulator',
        version: 3,
        osbapi_version: '2.15',
        rate_limits: { enabled: limit > 0, general_limit: limit, reset_interval_in_minutes: Math.max(1, Math.round(windowSeconds / 60)) },
        links: { self: { href: `${c.var.baseUrl}/v3/info` }, support: { href: 'https://docs.cloudfoundry.org' } },
      });
    });
}
