// Home: dependency health (refreshed every 5 s), a button to run the health-check workflow,
// and recent workflow executions linked into the Temporal Web UI.
import type { DependencyStatus, Readiness } from '../../services/readiness.ts';
import type { ExecutionSummary } from '../../services/executions.ts';

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

function HealthCard({ dependency }: { dependency: DependencyStatus }) {
  return (
    <div class={`card health ${dependency.ok ? 'ok' : 'down'}`} data-dependency={dependency.name}>
      <div class="card-title">
        <span class="dot" aria-hidden="true"></span>
        {dependencyLabels[dependency.name] ?? dependency.name}
      </div>
      <div class="status">{dependency.ok ? 'healthy' : 'unavailable'}</div>
      <div class="detail" title={dependency.detail}>
        {dependency.detail}
      </div>
      <div class="latency">{dependency.latencyMs} ms</div>
    </div>
  );
}

export function HealthCards({ readiness }: { readiness: Readiness }) {
  return (
    <>
      <p class={`summary ${readiness.ready ? 'ok' : 'down'}`}>
        {readiness.ready ? 'All dependencies are ready.' : `Not ready: ${readiness.dependencies.filter((d) => !d.ok).map((d) => d.name).join(', ')}.`}
      </p>
      <div class="cards">
        {readiness.dependencies.map((dependency) => (
          <HealthCard dependency={dependency} />
        ))}
      </div>
    </>
  );
}

function duration(execution: ExecutionSummary): string {
  const end = execution.closeTime ? Date.parse(execution.closeTime) : Date.now();
  const ms = end - Date.parse(execution.startTime);
  return ms < 1000 ? `${ms} ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60_000)} min`;
}

export function ExecutionsTable({ executions }: { executions: ExecutionSummary[] }) {
  if (executions.length === 0) return <p class="muted">No workflow has run yet. Start one with the button above.</p>;
  return (
    <table class="executions">
      <thead>
        <tr>
          <th>Workflow ID</th>
          <th>Type</th>
          <th>Status</th>
          <th>Detail</th>
          <th>Started</th>
          <th>Duration</th>
        </tr>
      </thead>
      <tbody>
        {executions.map((e) => (
          <tr>
            <td>
              <a href={e.webUiUrl} target="_blank" rel="noopener">
                {e.workflowId}
              </a>
            </td>
            <td>{e.type}</td>
            <td>
              <span class={`badge ${e.status.toLowerCase()}`}>{e.status.toLowerCase().replace('_', ' ')}</span>
            </td>
            <td>{e.fleetStatus ?? ''}</td>
            <td>
              <time datetime={e.startTime}>{e.startTime.replace('T', ' ').slice(0, 19)}</time>
            </td>
            <td>{duration(e)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
