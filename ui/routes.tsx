// Server-rendered pages and the htmx partials they poll. htmx is served from its npm package.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Hono } from 'hono';
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Readiness } from '../api/readiness.ts';
import type { ExecutionSummary, WorkflowLinks } from '../api/workflows.ts';
import { startHealthCheck } from '../api/healthChecks.ts';
import { Layout } from './layout.tsx';
import { ExecutionsTable, HealthCards, HomePage } from './pages/home.tsx';

const require = createRequire(import.meta.url);

function staticAsset(path: string, contentType: string) {
  const body = readFileSync(path);
  return () => new Response(body, { headers: { 'content-type': contentType, 'cache-control': 'public, max-age=3600' } });
}

export interface UiDependencies {
  readiness(): Promise<Readiness>;
  recentExecutions(limit: number): Promise<ExecutionSummary[]>;
  links: WorkflowLinks;
  temporal: Client;
  healthTaskQueue: string;
}

export function createUi(deps: UiDependencies) {
  const temporalWebUiUrl = deps.links.list().replace(/\/namespaces\/.*$/, '');
  return new Hono()
    .get('/static/htmx.min.js', staticAsset(require.resolve('htmx.org/dist/htmx.min.js'), 'text/javascript; charset=utf-8'))
    .get('/static/app.css', staticAsset(new URL('./static/app.css', import.meta.url).pathname, 'text/css; charset=utf-8'))
    .get('/', (c) =>
      c.html(
        <Layout title="Home" active="/" temporalWebUiUrl={temporalWebUiUrl}>
          <HomePage workflowsUrl={deps.links.list()} />
        </Layout>,
      ),
    )
    .get('/ui/partials/health', async (c) => c.html(<HealthCards readiness={await deps.readiness()} />))
    .get('/ui/partials/executions', async (c) => c.html(<ExecutionsTable executions={await deps.recentExecutions(15)} />))
    .post('/ui/health-checks', async (c) => {
      try {
        const started = await startHealthCheck({ temporal: deps.temporal, taskQueue: deps.healthTaskQueue, links: deps.links }, {});
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
}
