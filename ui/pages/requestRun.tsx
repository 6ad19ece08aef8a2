// Request runs in the UI: the seed's Sender form (/request-runs/new), the Receiver Overview of all
// runs with live progress bars (/request-runs) and a page per run with its calls/s chart and a Cancel
// button (/request-runs/:runId).
import { Hono } from 'hono';
import type { Child } from 'hono/jsx';
import type { RequestRunService, RunView } from '../../services/requestRun.ts';
import { parseInput, ServiceError } from '../../services/errors.ts';
import { DEFAULT_CONCURRENCY, MAX_CALLS, MAX_CONCURRENCY, countingModes } from '../../workflows/requestRun.shared.ts';
import { Duration, StatusBadge, Time } from '../components/format.tsx';
import { LineChart } from '../components/lineChart.tsx';
import { ProgressBar } from '../components/progressBar.tsx';
import { TemporalHistoryFact } from '../components/temporalHistory.tsx';
import { numberOrAsSent, type Form, readForm } from '../forms.ts';
import { Layout } from '../layout.tsx';
import { access } from '../../server/access.ts';

const requestRunPath = (runId: string) => `/request-runs/${encodeURIComponent(runId)}`;

const modeHelp: Record<string, string> = {
  atomic: 'atomic: one UPDATE … + 1 per call (what the original did)',
  racy: 'racy: SELECT then UPDATE, so concurrent calls lose updates',
  'exactly-once': 'exactly-once: each call recorded once by (run, sequence)',
};

function ProgressBars({ run }: { run: RunView }) {
  const sent = run.ok + run.failed;
  return (
    <div class="progress-stack">
      <ProgressBar name="sent" title="calls answered (failed in red)" total={run.calls} done={run.ok} failed={run.failed}>
        {sent.toLocaleString('en')} / {run.calls.toLocaleString('en')} sent{run.failed > 0 ? ` (${run.failed.toLocaleString('en')} failed)` : ''}
      </ProgressBar>
      <ProgressBar name="counted" title="current_request_count in MySQL" tone="counted" total={run.calls} done={run.counted}>
        {run.counted.toLocaleString('en')} counted
      </ProgressBar>
    </div>
  );
}

export function RequestRunsTable({ runs }: { runs: RunView[] }) {
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
              <a href={requestRunPath(run.runId)}>{run.runId.slice(0, 13)}…</a>
            </td>
            <td>
              <Time iso={run.startedAt} />
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

export function RequestRunDetails({ run }: { run: RunView }) {
  const ms = (run.endedAt ? Date.parse(run.endedAt) : Date.now()) - Date.parse(run.startedAt);
  const rate = ms > 0 ? Math.round(((run.ok + run.failed) * 1000) / ms) : 0;
  const lost = run.status === 'running' ? null : run.ok - run.counted;
  return (
    <div id="run-details" data-status={run.status} {...(run.status === 'running' ? { 'hx-get': `/ui/partials/request-runs/${run.runId}`, 'hx-trigger': 'every 1s', 'hx-swap': 'outerHTML' } : {})}>
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
        <dd>
          {rate.toLocaleString('en')} calls/s over <Duration ms={ms} />
        </dd>
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

function NewRequestRunForm({ allowedDestinations }: { allowedDestinations: readonly string[] }) {
  return (
    <form class="stacked" hx-post="/ui/request-runs" hx-target="#request-run-result" hx-swap="innerHTML">
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

function formToInput(form: Form) {
  return { calls: numberOrAsSent(form.calls), concurrency: numberOrAsSent(form.concurrency), mode: form.mode, destination: form.destination };
}

export function requestRunPages(deps: { service: RequestRunService; temporalWebUiUrl: string }) {
  const schema = deps.service.inputSchema;
  const page = (title: string, active: string, body: Child) =>
    <Layout title={title} active={active} temporalWebUiUrl={deps.temporalWebUiUrl}>{body}</Layout>;
  const notFound = <p class="error-text">Run not found.</p>;
  return new Hono()
    .get('/request-runs/new', access('viewer'), (c) =>
      c.html(
        page(
          'Sender',
          '/request-runs/new',
          <section>
            <h1>Sender: start a request run</h1>
            <p class="muted">
              Every call is an HTTP GET to a receiver, counted in MySQL. One run at a time; its progress shows on the Receiver Overview.
            </p>
            <NewRequestRunForm allowedDestinations={deps.service.allowedDestinations} />
            <p id="request-run-result" class="notice" aria-live="polite"></p>
          </section>,
        ),
      ),
    )
    .post('/ui/request-runs', access('operator'), async (c) => {
      // htmx swaps only 2xx answers, so problems are reported in 200 fragments.
      try {
        const started = await deps.service.start(parseInput(schema, formToInput(await readForm(c))));
        return c.html(
          <span>
            Started run <a href={requestRunPath(started.runId)}>{started.runId}</a>.
          </span>,
        );
      } catch (error) {
        if (error instanceof ServiceError && error.status === 400) return c.html(<span class="error-text">{error.message}</span>);
        if (error instanceof ServiceError && error.status === 409) {
          const runId = error.details.runId as string | undefined;
          return c.html(
            <span class="warn">
              {error.message} {runId ? <a href={requestRunPath(runId)}>Show it</a> : null}
            </span>,
          );
        }
        throw error;
      }
    })
    .get('/request-runs', access('viewer'), (c) =>
      c.html(
        page(
          'Receiver Overview',
          '/request-runs',
          <section>
            <div class="section-head">
              <h1>Receiver Overview</h1>
              <a href="/request-runs/new">Start a run</a>
            </div>
            <p class="muted">Request runs, newest first: calls answered (blue, failures red) and calls counted by the receivers in MySQL (green).</p>
            <div id="runs" hx-get="/ui/partials/request-runs" hx-trigger="load, every 2s" hx-swap="innerHTML">
              <p class="muted">Loading…</p>
            </div>
          </section>,
        ),
      ),
    )
    .get('/ui/partials/request-runs', access('viewer'), async (c) => c.html(<RequestRunsTable runs={await deps.service.list(25)} />))
    .get('/request-runs/:runId', access('viewer'), async (c) => {
      const run = await deps.service.get(c.req.param('runId'));
      if (!run) {
        return c.html(page('Run not found', '/request-runs', <section><h1>No request run {c.req.param('runId')}</h1><a href="/request-runs">All runs</a></section>), 404);
      }
      return c.html(page(`Run ${run.runId.slice(0, 8)}`, '/request-runs', <section><RequestRunDetails run={run} /></section>));
    })
    .get('/ui/partials/request-runs/:runId', access('viewer'), async (c) => {
      const run = await deps.service.get(c.req.param('runId'));
      return c.html(run ? <RequestRunDetails run={run} /> : notFound);
    })
    .post('/ui/request-runs/:runId/cancel', access('operator'), async (c) => {
      const runId = c.req.param('runId');
      try {
        await deps.service.cancel(runId);
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
      }
      const run = await deps.service.get(runId);
      return c.html(run ? <RequestRunDetails run={run} /> : notFound);
    });
}
