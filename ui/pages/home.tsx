// Home: dependency health (refreshed every 5 s), a button to run the health-check workflow,
// and recent workflow executions linked into the Temporal Web UI.
import { Hono } from 'hono';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Services } from '../../services/index.ts';
import type { DependencyStatus, Readiness } from '../../services/readiness.ts';
import type { ExecutionSummary } from '../../services/executions.ts';
import { ExecutionsTable, executionColumns } from '../components/executionsTable.tsx';
import { Duration } from '../components/format.tsx';
import { Layout } from '../layout.tsx';
import { access } from '../../server/access.ts';

export function HomePage(props: { workflowsUrl: string }) {
  return (
    <>
      <section>
        <div class="section-head">
          <h1>System health</h1>
          <button class="primary" hx-post="/ui/health-checks" hx-target="#health-check-result" hx-swap="innerHTML">
            Run health-check workflow
          </button>
        </div>
        <p id="health-check-result" class="notice" aria-live="polite"></p>
        <div id="health" hx-get="/ui/partials/health" hx-trigger="load, every 5s" hx-swap="innerHTML">
          <p class="muted">Checking dependencies…</p>
        </div>
      </section>
      <section>
        <div class="section-head">
          <h2>Recent workflow executions</h2>
          <a href={props.workflowsUrl} target="_blank" rel="noopener">
            All in Temporal Web UI ↗
          </a>
        </div>
        <div id="executions" hx-get="/ui/partials/executions" hx-trigger="load, every 3s" hx-swap="innerHTML">
          <p class="muted">Loading…</p>
        </div>
      </section>
    </>
  );
}

const dependencyLabels: Record<string, string> = { temporal: 'Temporal', worker: 'Worker', mysql: 'MySQL', memcached: 'memcached', etcd: 'etcd' };

/** A dependency npm start's supervisor is restarting shows as restarting, whatever its probe said. */
const healthState = (d: DependencyStatus) => (d.restarting ? 'restarting' : d.ok ? 'ok' : 'down');
const stateLabels = { ok: 'healthy', down: 'unavailable', restarting: 'restarting' };

function HealthCard({ dependency }: { dependency: DependencyStatus }) {
  const state = healthState(dependency);
  return (
    <div class={`card health ${state}`} data-dependency={dependency.name}>
      <div class="card-title">
        <span class="dot" aria-hidden="true"></span>
        {dependencyLabels[dependency.name] ?? dependency.name}
      </div>
      <div class="status">
        {stateLabels[state]}
        {dependency.restarting && (
          <>
            {' '}
            <span class="badge restarting">restart {dependency.restarting.restarts}</span>
          </>
        )}
      </div>
      <div class="detail" title={dependency.detail}>
        {dependency.detail}
      </div>
      <div class="latency">
        <Duration ms={dependency.latencyMs} />
      </div>
    </div>
  );
}

export function HealthCards({ readiness }: { readiness: Readiness }) {
  const restarting = readiness.dependencies.filter((d) => d.restarting).map((d) => d.name);
  return (
    <>
      <p class={`summary ${readiness.ready ? 'ok' : 'down'}`}>
        {readiness.ready ? 'All dependencies are ready.' : `Not ready: ${readiness.dependencies.filter((d) => !d.ok).map((d) => d.name).join(', ')}.`}
        {restarting.length > 0 && ` Restarting: ${restarting.join(', ')}.`}
      </p>
      <div class="cards">
        {readiness.dependencies.map((dependency) => (
          <HealthCard dependency={dependency} />
        ))}
      </div>
    </>
  );
}

const { workflowId, type, execution, detail, started, duration } = executionColumns;

export function RecentExecutions({ executions }: { executions: ExecutionSummary[] }) {
  return (
    <ExecutionsTable
      executions={executions}
      columns={[workflowId(), type, execution, detail, started, duration]}
      empty="No workflow has run yet. Start one with the button above."
    />
  );
}

export function homePages(services: Services) {
  return new Hono()
    .get('/', access('viewer'), (c) =>
      c.html(
        <Layout title="Home" active="/" temporalWebUiUrl={services.temporalWebUiUrl}>
          <HomePage workflowsUrl={services.links.list()} />
        </Layout>,
      ),
    )
    .get('/ui/partials/health', access('viewer'), async (c) => c.html(<HealthCards readiness={await services.readiness()} />))
    .get('/ui/partials/executions', access('viewer'), async (c) => c.html(<RecentExecutions executions={await services.recentExecutions(15)} />))
    .post('/ui/health-checks', access('operator'), async (c) => {
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
}
