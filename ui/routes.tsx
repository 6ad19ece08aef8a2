// The UI: server-rendered pages of every domain and the htmx partials they poll. htmx is served from its npm package.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Hono } from 'hono';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Services } from '../services/index.ts';
import type { NodeTimings } from '../workflows/nodes.shared.ts';
import { cfConvergePages } from './pages/cfConverge.tsx';
import { configCachePages } from './pages/configCache.tsx';
import { cpuLoadPages } from './pages/cpuLoad.tsx';
import { nodesPages } from './pages/nodes/index.tsx';
import { requestRunPages } from './pages/requestRun.tsx';
import { Layout } from './layout.tsx';
import { ExecutionsTable, HealthCards, HomePage } from './pages/home.tsx';

const require = createRequire(import.meta.url);

function staticAsset(path: string, contentType: string) {
  const body = readFileSync(path);
  return () => new Response(body, { headers: { 'content-type': contentType, 'cache-control': 'public, max-age=3600' } });
}

export interface UiOptions {
  /** Waits of node deployments and removals started from the UI (default: production timings; tests pass milliseconds). */
  deployTimings?: Partial<NodeTimings>;
}

export function createUi(services: Services, options: UiOptions = {}) {
  const { temporalWebUiUrl, links } = services;
  const ui = new Hono()
    .get('/static/htmx.min.js', staticAsset(require.resolve('htmx.org/dist/htmx.min.js'), 'text/javascript; charset=utf-8'))
    .get('/static/app.css', staticAsset(new URL('./static/app.css', import.meta.url).pathname, 'text/css; charset=utf-8'))
    .get('/', (c) =>
      c.html(
        <Layout title="Home" active="/" temporalWebUiUrl={temporalWebUiUrl}>
          <HomePage workflowsUrl={links.list()} />
        </Layout>,
      ),
    )
    .get('/ui/partials/health', async (c) => c.html(<HealthCards readiness={await services.readiness()} />))
    .get('/ui/partials/executions', async (c) => c.html(<ExecutionsTable executions={await services.recentExecutions(15)} />))
    .post('/ui/health-checks', async (c) => {
      try {
        const started = await services.healthCheck.start({});
        return c.html(
          <span>
            Started <a href={started.webUiUrl} target="_blank" rel="noopener">{started.workflowId}</a>; it appears below when it finishes.
          </span>,
        );
      } catch (error) {
        // htmx swaps only 2xx answers, so the conflict is reported in a 200 fragment.
        if (error instanceof WorkflowExecutionAlreadyStartedError) {
          return c.html(<span class="warn">A health check is already running ({error.workflowId}); wait for it to finish.</span>);
        }
        throw error;
      }
    });
  ui.route('/', requestRunPages({ service: services.requestRun, temporalWebUiUrl }));
  ui.route('/', cpuLoadPages({ cpuLoad: services.cpuLoad, temporalWebUiUrl }));
  ui.route('/', cfConvergePages({ service: services.cfConverge, temporalWebUiUrl }));
  ui.route('/', nodesPages({ service: services.nodes, temporalWebUiUrl, deployTimings: options.deployTimings }));
  if (services.configCache) ui.route('/', configCachePages({ cache: services.configCache, temporalWebUiUrl }));
  return ui;
}
