// The UI: server-rendered pages of every domain and the htmx partials they poll. htmx is served from its npm package.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { projectRoot } from '../configValues.ts';
import { Hono } from 'hono';
import { contextStorage } from 'hono/context-storage';
import { access } from '../server/access.ts';
import type { AccessService } from '../services/access.ts';
import type { Services } from '../services/index.ts';
import type { NodeTimings } from '../workflows/nodes.shared.ts';
import { accessPages } from './pages/access.tsx';
import { cfConvergePages } from './pages/cfConverge.tsx';
import { configCachePages } from './pages/configCache.tsx';
import { cpuLoadPages } from './pages/cpuLoad.tsx';
import { fractalPages } from './pages/fractals.tsx';
import { homePages } from './pages/home.tsx';
import { nodesPages } from './pages/nodes/index.tsx';
import { requestRunPages } from './pages/requestRun.tsx';
import { triggerPages } from './pages/triggers/index.tsx';

const require = createRequire(import.meta.url);

function staticAsset(path: string, contentType: string) {
  const body = readFileSync(path);
  return () => new Response(body, { headers: { 'content-type': contentType, 'cache-control': 'public, max-age=3600' } });
}

/**
 * Page URLs from before each domain carried one name, and where those pages live now. They answer
 * 301 with the same parameters and query string, so bookmarks keep working.
 */
export const movedPages: [from: string, to: string][] = [
  ['/autoscaler', '/cpu-load'],
  ['/sender', '/request-runs/new'],
  ['/receiver-stats', '/request-runs'],
  ['/runs/:runId', '/request-runs/:runId'],
  ['/cf', '/cf-convergences'],
  ['/cf/:workflowId', '/cf-convergences/:workflowId'],
];

function redirectsOfMovedPages() {
  const app = new Hono();
  for (const [from, to] of movedPages) {
    app.get(from, access('public'), (c) => {
      const path = to.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(c.req.param(name) ?? ''));
      return c.redirect(path + new URL(c.req.url).search, 301);
    });
  }
  return app;
}

export interface UiOptions {
  /** Sign-in, users, tokens and the audit log. */
  access: AccessService;
  /** Waits of node deployments and removals started from the UI (default: production timings; tests pass milliseconds). */
  deployTimings?: Partial<NodeTimings>;
}

/** Data-plane requests never render a page, so they skip the per-request context pages read who is signed in from. */
const dataPlanePrefixes = ['/config/', '/receiver'];

export function createUi(services: Services, options: UiOptions) {
  const { temporalWebUiUrl } = services;
  const pageContext = contextStorage();
  const ui = new Hono()
    .use('*', (c, next) => (dataPlanePrefixes.some((prefix) => c.req.path.startsWith(prefix)) ? next() : pageContext(c, next)))
    .get('/static/htmx.min.js', access('public'), staticAsset(require.resolve('htmx.org/dist/htmx.min.js'), 'text/javascript; charset=utf-8'))
    .get('/static/app.css', access('public'), staticAsset(join(projectRoot, 'ui', 'static', 'app.css'), 'text/css; charset=utf-8'));
  ui.route('/', accessPages({ service: options.access, temporalWebUiUrl }));
  ui.route('/', homePages(services));
  ui.route('/', requestRunPages({ service: services.requestRun, temporalWebUiUrl }));
  ui.route('/', cpuLoadPages({ cpuLoad: services.cpuLoad, temporalWebUiUrl, nodes: services.nodes, triggerRuns: services.triggerRuns }));
  ui.route('/', cfConvergePages({ service: services.cfConverge, temporalWebUiUrl }));
  ui.route('/', nodesPages({ service: services.nodes, temporalWebUiUrl, deployTimings: options.deployTimings }));
  ui.route('/', triggerPages({ triggers: services.triggers, triggerRuns: services.triggerRuns, nodes: services.nodes, temporalWebUiUrl }));
  ui.route('/', fractalPages({ service: services.fractals, links: services.links, temporalWebUiUrl }));
  if (services.configCache) ui.route('/', configCachePages({ cache: services.configCache, temporalWebUiUrl }));
  ui.route('/', redirectsOfMovedPages());
  return ui;
}
