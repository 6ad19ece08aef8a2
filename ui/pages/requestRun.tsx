// Request runs in the UI: the Sender (the seed's form), the Receiver Overview (runs with live
// progress bars) and a page per run with its calls/s chart and a Cancel button.
import { Hono } from 'hono';
import type { Child } from 'hono/jsx';
import type { RequestRunService, RunView } from '../../services/requestRun.ts';
import { parseInput, ServiceError } from '../../services/errors.ts';
import { DEFAULT_CONCURRENCY, MAX_CALLS, MAX_CONCURRENCY, countingModes } from '../../workflows/requestRun.shared.ts';
import { LineChart } from '../components/lineChart.tsx';
import { Layout } from '../layout.tsx';
import { TemporalHistoryFact } from '../components/temporalHistory.tsx';

const modeHelp: Record<string, string> = {
  atomic: 'atomic: one UPDATE … + 1 per call (what the original did)',
  racy: 'racy: SELECT then UPDATE, so concurrent calls lose updates',
  'exactly-once': 'exactly-once: each call recorded once by (run, sequence)',
};

function percent(part: number, whole: number): number {
  return whole > 0 ? Math.min(100, Math.round((part / whole) * 1000) / 10) : 0;
}

function ProgressBars({ run }: { run: RunView }) {
  const sent = run.ok + run.failed;
  return (
    <div class="progress-stack">
      <div class="progress" title="calls answered (failed in red)" data-progress="sent">
        <div class="bar" style={`width:${percent(sent, run.calls)}%`}></div>
        <div class="bar failed" style={`left:${percent(run.ok, run.calls)}%;width:${percent(run.failed, run.calls)}%`}></div>
        <span>
          {sent.toLocaleString('en')} / {run.calls.toLocaleString('en')} sent{run.failed > 0 ? ` (${run.failed.toLocaleString('en')} failed)` : ''}
        </span>
      </div>
      <div class="progress" title="current_request_count in MySQL" data-progress="counted">
        <div class="bar counted" style={`width:${percent(run.counted, run.calls)}%`}></div>
        <span>{run.counted.toLocaleString('en')} counted</span>
      </div>
    </div>
  );
}

function StatusBadge({ status }: { status: string }) {
  return <span class={`badge ${status === 'completed' ? 'completed' : status}`}>{status}</span>;
}

export function RunsTable({ runs }: { runs: RunView[] }) {
  if (runs.length === 0) return <p class="muted">No request run yet. Start one on the Sender page.</p>;
  return (
    <table class="runs">
      <thead>
        <tr>
          <th>ID</th>
          <th>Started</th>
          <th>Mode</th>
          <th>Status</th>
          <th>Progress</th>
          <th>Failed</th>
          <th>p50 / p99 ms</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => (
          <tr data-run={run.runId}>
            <td>
              <a href={`/runs/${run.runId}`}>{run.runId.slice(0, 13)}…</a>
            </td>
            <td>
              <time datetime={run.startedAt}>{run.startedAt.replace('T', ' ').slice(0, 19)}</time>
            </td>
            <td>{run.mode}</td>
            <td>
              <StatusBadge status={run.status} />
            </td>
            <td>
              <ProgressBars run={run} />
            </td>
            <td>{run.failed}</td>
            <td>{run.latencyMs ? `${run.latencyMs.p50} / ${run.latencyMs.p99}` : '–'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function callsPerSecondChart(run: RunView) {
  const start = run.timeline[0]?.second ?? 0;
  return (
    <LineChart
      xLabel="seconds since start"
      yLabel="calls/s"
      series={[
        { label: 'calls/s answered', color: '#2f5bea', points: run.timeline.map((b) => [b.second - start, b.ok + b.failed]) },
        { label: 'failed/s', color: '#dc2626', points: run.timeline.map((b) => [b.second - start, b.failed]) },
      ]}
    />
  );
}

export function RunDetails({ run }: { run: RunView }) {
  const seconds = ((run.endedAt ? Date.parse(run.endedAt) : Date.now()) - Date.parse(run.startedAt)) / 1000;
  const rate = seconds > 0 ? Math.round((run.ok + run.failed) / seconds) : 0;
  const lost = run.status === 'running' ? null : run.ok - run.counted;
  return (
    <div id="run-details" data-status={run.status} {...(run.status === 'running' ? { 'hx-get': `/ui/partials/runs/${run.runId}`, 'hx-trigger': 'every 1s', 'hx-swap': 'outerHTML' } : {})}>
      <div class="section-head">
        <h2>
          Run <code>{run.runId}</code> <StatusBadge status={run.status} />
        </h2>
        {run.status === 'running' ? (
          <button class="danger" hx-post={`/ui/request-runs/${run.runId}/cancel`} hx-target="#run-details" hx-swap="outerHTML">
            Cancel run
          </button>
        ) : null}
      </div>
      <ProgressBars run={run} />
      <dl class="facts">
        <dt>Mode</dt>
        <dd>{modeHelp[run.mode]}</dd>
        <dt>Destination</dt>
        <dd>{run.destination}</dd>
        <dt>Concurrency</dt>
        <dd>{run.concurrency}</dd>
        <dt>Average rate</dt>
        <dd>{rate.toLocaleString('en')} calls/s over {seconds.toFixed(1)} s</dd>
        <dt>Latency</dt>
        <dd>{run.latencyMs ? `p50 ${run.latencyMs.p50} ms, p90 ${run.latencyMs.p90} ms, p99 ${run.latencyMs.p99} ms, max ${run.latencyMs.max} ms` : 'when the run ends'}</dd>
        {lost !== null ? (
          <>
            <dt>Lost updates</dt>
            <dd data-lost-updates={lost}>{lost > 0 ? `${lost.toLocaleString('en')} answered calls are missing from the count` : 'none'}</dd>
          </>
        ) : null}
        <TemporalHistoryFact url={run.webUiUrl} />
      </dl>
      {callsPerSecondChart(run)}
    </div>
  );
}

function SenderForm({ allowedDestinations }: { allowedDestinations: readonly string[] }) {
  return (
    <form class="stacked" hx-post="/ui/request-runs" hx-target="#sender-result" hx-swap="innerHTML">
      <label for="calls">How many calls should be made (between 1 and {MAX_CALLS.toLocaleString('en')})</label>
      <input id="calls" name="calls" type="number" min="1" max={String(MAX_CALLS)} step="1" value="500" required />
      <label for="concurrency">Calls in parallel</label>
      <input id="concurrency" name="concurrency" type="number" min="1" max={String(MAX_CONCURRENCY)} step="1" value={String(DEFAULT_CONCURRENCY)} required />
      <label for="mode">Counting mode</label>
      <select id="mode" name="mode">
        {countingModes.map((mode) => (
          <option value={mode}>{modeHelp[mode]}</option>
        ))}
      </select>
      <label for="destination">Destination (HTTP GET)</label>
      <select id="destination" name="destination">
        {allowedDestinations.map((url) => (
          <option value={url}>{url}</option>
        ))}
      </select>
      <div class="actions">
        <button class="primary" type="submit">
          Go for it!
        </button>
      </div>
    </form>
  );
}

/** Form fields arrive as strings; numbers that are not numbers stay strings so the schema names them. */
function formToInput(form: Record<string, unknown>) {
  const number = (value: unknown) => (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value);
  return { calls: number(form.calls), concurrency: number(form.concurrency), mode: form.mode, destination: form.destination };
}

export function requestRunPages(deps: { service: RequestRunService; temporalWebUiUrl: string }) {
  const schema = deps.service.inputSchema;
  const page = (title: string, active: string, body: Child) =>
    <Layout title={title} active={active} temporalWebUiUrl={deps.temporalWebUiUrl}>{body}</Layout>;
  return new Hono()
    .get('/sender', (c) =>
      c.html(
        page(
          'Sender',
          '/sender',
          <section>
            <h1>Sender: start a request run</h1>
            <p class="muted">
              Every call is an HTTP GET to a receiver, counted in MySQL. One run at a time; its progress shows on the Receiver Overview.
            </p>
            <SenderForm allowedDestinations={deps.service.allowedDestinations} />
            <p id="sender-result" class="notice" aria-live="polite"></p>
          </section>,
        ),
      ),
    )
    .post('/ui/request-runs', async (c) => {
      // htmx swaps only 2xx answers, so problems are reported in 200 fragments.
      try {
        const started = await deps.service.start(parseInput(schema, formToInput(await c.req.parseBody())));
        return c.html(
          <span>
            Started run <a href={`/runs/${started.runId}`}>{started.runId}</a>.
          </span>,
        );
      } catch (error) {
        if (error instanceof ServiceError && error.status === 400) return c.html(<span class="error-text">{error.message}</span>);
        if (error instanceof ServiceError && error.status === 409) {
          const runId = error.details.runId as string | undefined;
          return c.html(
            <span class="warn">
              {error.message} {runId ? <a href={`/runs/${runId}`}>Show it</a> : null}
            </span>,
          );
        }
        throw error;
      }
    })
    .get('/receiver-stats', (c) =>
      c.html(
        page(
          'Receiver Overview',
          '/receiver-stats',
          <section>
            <div class="section-head">
              <h1>Receiver Overview</h1>
              <a href="/sender">Start a run</a>
            </div>
            <p class="muted">Request runs, newest first: calls answered (blue, failures red) and calls counted by the receivers in MySQL (green).</p>
            <div id="runs" hx-get="/ui/partials/runs" hx-trigger="load, every 2s" hx-swap="innerHTML">
              <p class="muted">Loading…</p>
            </div>
          </section>,
        ),
      ),
    )
    .get('/ui/partials/runs', async (c) => c.html(<RunsTable runs={await deps.service.list(25)} />))
    .get('/runs/:runId', async (c) => {
      const run = await deps.service.get(c.req.param('runId'));
      if (!run) {
        return c.html(page('Run not found', '', <section><h1>No request run {c.req.param('runId')}</h1><a href="/receiver-stats">All runs</a></section>), 404);
      }
      return c.html(page(`Run ${run.runId.slice(0, 8)}`, '', <section><RunDetails run={run} /></section>));
    })
    .get('/ui/partials/runs/:runId', async (c) => {
      const run = await deps.service.get(c.req.param('runId'));
      return run ? c.html(<RunDetails run={run} />) : c.html(<p class="error-text">Run not found.</p>);
    })
    .post('/ui/request-runs/:runId/cancel', async (c) => {
      const runId = c.req.param('runId');
      try {
        await deps.service.cancel(runId);
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
      }
      const run = await deps.service.get(runId);
      return run ? c.html(<RunDetails run={run} />) : c.html(<p class="error-text">Run not found.</p>);
    });
}
