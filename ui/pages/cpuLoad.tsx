// CPU load (/cpu-load?target=…, "Autoscaler" in the navigation): the seed's "Autoscaler View", made
// durable. Shows a target's CPU-load state with an ON/OFF switch, when the load switches itself off,
// and a live chart of the CPU each load worker measured (server-rendered SVG, refreshed by htmx polling).
// Beside the chart, the example cluster the load scales (its node count and its triggers' states), so
// the closed loop is watched on one page: load ON → web scales out, OFF → it scales back in.
import { Hono } from 'hono';
import type { Child } from 'hono/jsx';
import type { CpuLoadService, CpuLoadView } from '../../services/cpuLoad.ts';
import { parseInput, ServiceError } from '../../services/errors.ts';
import {
  DEFAULT_CPU_LOAD_TARGET,
  cpuLoadMemcachedKey,
  cpuLoadTargetSchema,
  samplesByWorker,
  type CpuLoadSwitchBody,
  type CpuSample,
} from '../../workflows/cpuLoad.shared.ts';
import { Duration, Percent, Time, timeOfDay } from '../components/format.tsx';
import { Swatch } from '../components/lineChart.tsx';
import { numberOrAsSent, type Form, readForm } from '../forms.ts';
import { Layout } from '../layout.tsx';
import { access } from '../../server/access.ts';
import type { NodesService } from '../../services/nodes.ts';
import type { TriggerRunsService } from '../../services/triggerRuns.ts';
import { EXAMPLE_CLUSTER } from '../../scripts/localFleet.shared.ts';
import type { NodeState } from '../../workflows/nodes.shared.ts';
import type { TriggerState } from '../../workflows/triggerEvaluation.shared.ts';

const POLL = 'every 1500ms';
const ttlChoices: [seconds: number, label: string][] = [
  [300, '5 minutes'],
  [900, '15 minutes'],
  [3600, '1 hour'],
  [4 * 3600, '4 hours'],
];
const palette = ['#2f5bea', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2', '#db2777', '#4b5563'];

/** The chart shows the last ten minutes that have samples, so an old ON period does not squash a new one. */
const CHART_WINDOW_MS = 10 * 60_000;

/** One step line per load worker: each slice is a flat segment at the CPU it measured; gaps break the line. */
export function CpuChart({ samples: all, width = 720, height = 240 }: { samples: CpuSample[]; width?: number; height?: number }) {
  const latest = Math.max(0, ...all.map((s) => Date.parse(s.endedAt)));
  const samples = all.filter((s) => Date.parse(s.endedAt) >= latest - CHART_WINDOW_MS);
  const margin = { top: 12, right: 16, bottom: 36, left: 48 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const starts = samples.map((s) => Date.parse(s.startedAt));
  const ends = samples.map((s) => Date.parse(s.endedAt));
  const xMin = starts.length ? Math.min(...starts) : 0;
  const xMax = ends.length ? Math.max(...ends, xMin + 1000) : 1000;
  const yMax = Math.max(100, Math.ceil(Math.max(0, ...samples.map((s) => s.cpuPercent)) / 25) * 25);
  const yStep = yMax <= 150 ? 25 : yMax <= 300 ? 50 : 100;
  const yTicks = Array.from({ length: Math.floor(yMax / yStep) + 1 }, (_, i) => i * yStep);
  const x = (t: number) => (margin.left + ((t - xMin) / (xMax - xMin)) * plotWidth).toFixed(1);
  const y = (v: number) => (margin.top + plotHeight - (Math.min(v, yMax) / yMax) * plotHeight).toFixed(1);
  const workers = [...samplesByWorker(samples)].map(([workerId, list], index) => ({ workerId, list, color: palette[index % palette.length]! }));

  const path = (list: CpuSample[]) =>
    list
      .map((s, i) => {
        const start = Date.parse(s.startedAt);
        const previousEnd = i > 0 ? Date.parse(list[i - 1]!.endedAt) : undefined;
        const joined = previousEnd !== undefined && start - previousEnd <= Math.max(1000, s.wallMs);
        return `${joined ? 'L' : 'M'}${x(start)},${y(s.cpuPercent)} H${x(Date.parse(s.endedAt))}`;
      })
      .join(' ');

  return (
    <figure class="cpu-chart">
      <svg viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-label="CPU measured by each load worker, in percent of one core, over time">
        {yTicks.map((v) => (
          <g>
            <line x1={margin.left} x2={width - margin.right} y1={y(v)} y2={y(v)} class="grid" />
            <text x={margin.left - 6} y={Number(y(v)) + 4} text-anchor="end" class="tick">{`${v}%`}</text>
          </g>
        ))}
        {samples.length > 0
          ? [0, 0.5, 1].map((f) => (
              <text x={x(xMin + f * (xMax - xMin))} y={height - margin.bottom + 16} text-anchor={f === 0 ? 'start' : f === 1 ? 'end' : 'middle'} class="tick">
                {timeOfDay(xMin + f * (xMax - xMin))}
              </text>
            ))
          : (
              <text x={margin.left + plotWidth / 2} y={margin.top + plotHeight / 2} text-anchor="middle" class="empty">
                No CPU samples yet: switch the load ON.
              </text>
            )}
        <text x={margin.left + plotWidth / 2} y={height - 4} text-anchor="middle" class="axis-label">time (UTC)</text>
        {workers.map((w) => (
          <path class="cpu-line" data-worker={w.workerId} d={path(w.list)} fill="none" stroke={w.color} stroke-width="2" stroke-linejoin="round" />
        ))}
      </svg>
      <figcaption class="cpu-legend">
        {workers.map((w) => (
          <span data-worker={w.workerId}>
            <Swatch color={w.color} />
            {w.workerId}{' '}
            <span class="muted">
              <Percent fraction={w.list.at(-1)!.cpuPercent / 100} digits={1} />
            </span>
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

/** The cluster the CPU load scales: its nodes by state and bounds, and its triggers' states; null when it does not exist. */
export interface ScalingView {
  cluster: string;
  minNodes: number;
  maxNodes: number;
  nodes: Partial<Record<NodeState, number>>;
  triggers: { name: string; enabled: boolean; condition: string; state: TriggerState }[];
}

/** What the switch does to the example cluster: its node count and its triggers, refreshed with the chart. */
export function ScalingSummary({ scaling }: { scaling: ScalingView | { error: string } | null }) {
  if (!scaling) return <p class="muted">No cluster {EXAMPLE_CLUSTER}: the local stack creates it with its autoscaling triggers.</p>;
  if ('error' in scaling) return <p class="muted">Cluster {EXAMPLE_CLUSTER} could not be read ({scaling.error}); the CPU load works without it.</p>;
  const active = scaling.nodes.active ?? 0;
  const changing = Object.entries(scaling.nodes).filter(([state, count]) => state !== 'active' && count);
  return (
    <aside class="scaling" data-cluster={scaling.cluster} data-active-nodes={String(active)}>
      <h2>
        Cluster <a href={`/nodes/clusters/${scaling.cluster}`}>{scaling.cluster}</a>
      </h2>
      <p>
        <strong class="node-count">{active}</strong> active node{active === 1 ? '' : 's'} (min {scaling.minNodes}, max {scaling.maxNodes})
        {changing.length ? <span class="muted"> · {changing.map(([state, count]) => `${count} ${state}`).join(', ')}</span> : null}
      </p>
      <dl class="facts">
        {scaling.triggers.map((t) => (
          <>
            <dt>
              <a href={`/triggers/${t.name}`}>{t.name}</a>
            </dt>
            <dd data-trigger={t.name} data-trigger-state={t.enabled ? t.state.state : 'disabled'}>
              <strong>{t.enabled ? t.state.state : 'disabled'}</strong>
              {t.state.state === 'cooldown' && t.state.until ? <> until <Time iso={t.state.until} /></> : t.state.since ? <> since <Time iso={t.state.since} /></> : null}
              <span class="muted"> · {t.condition}, last {Object.values(t.state.values).map((v) => (v === null ? 'n/a' : String(Math.round(v)))).join(', ') || 'n/a'}</span>
            </dd>
          </>
        ))}
      </dl>
    </aside>
  );
}

/** The live part of the page: state, switch, facts and chart (htmx replaces it every 1.5 s). */
export function CpuLoadPanel({ view, notice, scaling = null }: { view: CpuLoadView; notice?: Child; scaling?: ScalingView | { error: string } | null }) {
  const on = view.state === 'ON';
  return (
    <div class="cpu-load" data-state={view.state}>
      <div class="section-head">
        <p class="load-state">
          The current state of the load is <strong class={`state ${on ? 'on' : 'off'}`}>{view.state}</strong>
        </p>
        <button
          type="button"
          role="switch"
          aria-checked={on ? 'true' : 'false'}
          class={`switch ${on ? 'on' : 'off'}`}
          hx-post={`/ui/cpu-load/${view.target}`}
          hx-vals={JSON.stringify({ state: on ? 'OFF' : 'ON' })}
          hx-include={on ? undefined : '#cpu-load-ttl'}
          hx-target="#cpu-load-panel"
          hx-swap="innerHTML"
          hx-disabled-elt="this"
        >
          <span class="track" aria-hidden="true">
            <span class="thumb"></span>
          </span>
          {on ? 'Turn it OFF' : 'Turn it ON'}
        </button>
      </div>
      {notice ? <p class="notice">{notice}</p> : null}
      <dl class="facts">
        <dt>Since</dt>
        <dd>
          <Time iso={view.since} missing="never switched" />
        </dd>
        <dt>Switches off</dt>
        <dd data-expires={view.expiresAt ?? ''}>
          {view.expiresAt ? (
            <>
              automatically at <Time iso={view.expiresAt} /> (in <Duration ms={Date.parse(view.expiresAt) - Date.now()} />)
            </>
          ) : (
            '–'
          )}
        </dd>
        <dt>Slices</dt>
        <dd>
          {view.runningSlices} running (of {view.parallelism} at a time), <Duration ms={view.sliceMs} /> each, {view.slicesCompleted.toLocaleString('en')} done
          {view.lastSliceError ? <span class="error-text"> (last slice failed: {view.lastSliceError})</span> : null}
        </dd>
        <dt>memcached</dt>
        <dd>
          <code>{cpuLoadMemcachedKey(view.target)}</code>
          {view.memcached ? (view.memcached.ok ? <> = {view.memcached.value}, expires after <Duration ms={view.memcached.expirySeconds * 1000} /></> : <span class="error-text"> not written: {view.memcached.error}</span>) : ' not written yet'}
        </dd>
        <dt>Temporal</dt>
        <dd>
          {view.webUiUrl ? (
            <a href={view.webUiUrl} target="_blank" rel="noopener">
              {view.workflowId} ↗
            </a>
          ) : (
            `no workflow yet (${view.workflowId} starts at the first switch)`
          )}
          {view.continuedAsNew > 0 ? ` (continued as new ${view.continuedAsNew}×)` : null}
        </dd>
      </dl>
      <div class="chart-and-scaling">
        <div class="chart-side">
          <CpuChart samples={view.samples} />
        </div>
        <div class="scaling-side">
          <ScalingSummary scaling={scaling} />
        </div>
      </div>
    </div>
  );
}

export function CpuLoadPage({ view, scaling = null }: { view: CpuLoadView; scaling?: ScalingView | { error: string } | null }) {
  return (
    <section>
      <div class="section-head">
        <h1>Autoscaler: CPU load</h1>
        <form class="target-picker" method="get" action="/cpu-load">
          <label for="target">Target</label>
          <input id="target" name="target" value={view.target} pattern="[a-z0-9]([a-z0-9\-]{0,30}[a-z0-9])?" required />
          <button type="submit">Show</button>
        </form>
      </div>
      <p class="muted">
        While the load is ON, each load worker burns one core in slices, so an autoscaler watching CPU has something to scale on. It switches
        itself OFF after the time below, and memcached mirrors it under <code>{cpuLoadMemcachedKey(view.target)}</code>.
      </p>
      <label class="ttl-choice">
        Switch off automatically after{' '}
        <select id="cpu-load-ttl" name="ttlSeconds">
          {ttlChoices.filter(([seconds]) => seconds * 1000 <= view.maxTtlMs).map(([seconds, label]) => (
            <option value={String(seconds)} selected={seconds === 3600}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <div id="cpu-load-panel" hx-get={`/ui/partials/cpu-load/${view.target}`} hx-trigger={POLL} hx-swap="innerHTML" aria-live="polite">
        <CpuLoadPanel view={view} scaling={scaling} />
      </div>
    </section>
  );
}

function formToSwitch(form: Form) {
  const ttlSeconds = numberOrAsSent(form.ttlSeconds);
  return { state: form.state, ...(form.state === 'ON' && ttlSeconds !== undefined ? { ttlSeconds } : {}) };
}

const conditionOf = (t: { combine: string; comparison?: string | null; threshold?: number | null; heldForMs: number }) =>
  `${t.combine} ${t.comparison ?? ''} ${t.threshold ?? 'threshold'} for ${Math.round(t.heldForMs / 1000)} s`.replace(/\s+/g, ' ');

/** The example cluster's nodes and triggers, or null when it does not exist (the Autoscaler page still works). */
async function readScaling(deps: { nodes?: Pick<NodesService, 'clusterDetail'>; triggerRuns?: Pick<TriggerRunsService, 'overview'> }): Promise<ScalingView | { error: string } | null> {
  if (!deps.nodes || !deps.triggerRuns) return null;
  try {
    const [{ cluster, nodes }, triggers] = await Promise.all([deps.nodes.clusterDetail(EXAMPLE_CLUSTER), deps.triggerRuns.overview(EXAMPLE_CLUSTER)]);
    const counts: Partial<Record<NodeState, number>> = {};
    for (const node of nodes) counts[node.state] = (counts[node.state] ?? 0) + 1;
    return {
      cluster: cluster.name,
      minNodes: cluster.minNodes,
      maxNodes: cluster.maxNodes,
      nodes: counts,
      triggers: triggers.map(({ trigger, state }) => ({ name: trigger.name, enabled: trigger.enabled, condition: conditionOf(trigger), state })),
    };
  } catch (error) {
    if (error instanceof ServiceError && error.status === 404) return null;
    // The switch needs only Temporal and memcached: a MySQL outage must not take the page down with it.
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

export function cpuLoadPages(deps: {
  cpuLoad: CpuLoadService;
  temporalWebUiUrl: string;
  /** The example cluster's nodes and triggers, shown beside the chart. */
  nodes?: Pick<NodesService, 'clusterDetail'>;
  triggerRuns?: Pick<TriggerRunsService, 'overview'>;
}) {
  const layout = (body: Child) => (
    <Layout title="Autoscaler" active="/cpu-load" temporalWebUiUrl={deps.temporalWebUiUrl}>
      {body}
    </Layout>
  );
  return new Hono()
    .get('/cpu-load', access('viewer'), async (c) => {
      let target: string;
      try {
        target = parseInput(cpuLoadTargetSchema, c.req.query('target') ?? DEFAULT_CPU_LOAD_TARGET, 'target');
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
        return c.html(
          layout(
            <section>
              <h1>Autoscaler</h1>
              <p class="error-text">{error.message}</p>
              <a href="/cpu-load">The default target</a>
            </section>,
          ),
          400,
        );
      }
      const [view, scaling] = await Promise.all([deps.cpuLoad.read(target), readScaling(deps)]);
      return c.html(layout(<CpuLoadPage view={view} scaling={scaling} />));
    })
    .get('/ui/partials/cpu-load/:target', access('viewer'), async (c) => {
      const [view, scaling] = await Promise.all([deps.cpuLoad.read(parseInput(cpuLoadTargetSchema, c.req.param('target'), 'target')), readScaling(deps)]);
      return c.html(<CpuLoadPanel view={view} scaling={scaling} />);
    })
    .post('/ui/cpu-load/:target', access('operator'), async (c) => {
      const target = parseInput(cpuLoadTargetSchema, c.req.param('target'), 'target');
      let request: CpuLoadSwitchBody;
      try {
        request = parseInput(deps.cpuLoad.switchBodySchema, formToSwitch(await readForm(c)));
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
        // htmx swaps only 2xx answers, so a bad switch is reported inside the (unchanged) panel.
        return c.html(<CpuLoadPanel view={await deps.cpuLoad.read(target)} scaling={await readScaling(deps)} notice={<span class="error-text">{error.message}</span>} />);
      }
      return c.html(<CpuLoadPanel view={await deps.cpuLoad.switch(target, request)} scaling={await readScaling(deps)} />);
    });
}
