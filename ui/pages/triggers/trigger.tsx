// A trigger's page (/triggers/:name?range=hour|day): its state and definition, a chart per counter
// with a line per node, the threshold, shading where the condition held and a marker per firing, its
// firing history with links to the chain runs, and its buttons: Run chain now, Dry run,
// Enable/Disable (operators), Edit and Delete (admins). The live part refreshes itself.
import { Hono, type Context } from 'hono';
import type { Child } from 'hono/jsx';
import { access } from '../../../server/access.ts';
import { ServiceError } from '../../../services/errors.ts';
import type { StoredCounter, StoredTrigger } from '../../../db/triggers.ts';
import type { TriggerPreview } from '../../../activities/triggers/tick.ts';
import type { TriggerStatus } from '../../../services/triggerRuns.ts';
import type { Sample } from '../../../workflows/triggers.shared.ts';
import { Duration, StatusBadge, Time, timeOfDay } from '../../components/format.tsx';
import { LineChart } from '../../components/lineChart.tsx';
import { clusterPath, redirect, refusal } from '../nodes/shared.tsx';
import { SamplingLine } from './triggers.tsx';
import {
  breachBands,
  effectiveCondition,
  formatValue,
  lineByNode,
  may,
  MINUTE_MS,
  palette,
  samplesOfMinutes,
  ticksOf,
  TriggerStateBadge,
  triggerPath,
  type TriggerPagesDependencies,
  type TriggersFrame,
} from './shared.tsx';

const ranges = { hour: { hours: 1, label: 'Last hour', poll: '3s' }, day: { hours: 24, label: 'Last day', poll: '15s' } } as const;
type Range = keyof typeof ranges;
const rangeOf = (c: Context): Range => (c.req.query('range') === 'day' ? 'day' : 'hour');

const dayAndTime = (ms: number) => new Date(ms).toISOString().slice(5, 16).replace('T', ' ');

function CounterChart({ trigger, counter, name, samples, firings, from, to, range }: { trigger: StoredTrigger; counter?: StoredCounter; name: string; samples: Sample[]; firings: TriggerStatus['firings']; from: number; to: number; range: Range }) {
  const condition = effectiveCondition(trigger, counter);
  const lines = [...lineByNode(samples)].map(([node, points], index) => ({ label: node, color: palette[index % palette.length]!, points }));
  const tickMs = range === 'day' ? Math.max(trigger.intervalMs, MINUTE_MS) : trigger.intervalMs;
  const bands = breachBands(ticksOf(samples, tickMs, trigger.combine, condition), tickMs);
  const thresholds = [
    ...(condition ? [{ y: condition.threshold, label: `${condition.comparison} ${condition.threshold}` }] : []),
    ...(trigger.clearThreshold != null ? [{ y: trigger.clearThreshold, label: `clears past ${trigger.clearThreshold}` }] : []),
  ];
  const failed = samples.filter((s) => s.value === null);
  return (
    <div class="counter-chart" data-counter={name}>
      <h3>
        {name}{' '}
        <span class="muted">
          {condition ? `breaches when ${trigger.combine} ${condition.comparison} ${condition.threshold}` : 'counter not found'}
          {counter ? ` · ${counter.kind}` : ''}
        </span>
      </h3>
      {lines.length === 0 ? <p class="muted">No samples in the {ranges[range].label.toLowerCase()}.</p> : null}
      {range === 'day' ? <p class="muted">Per minute: each node's average.</p> : null}
      <LineChart
        series={lines}
        xLabel="time (UTC)"
        yLabel={name}
        xDomain={[from, to]}
        xFormat={range === 'hour' ? timeOfDay : dayAndTime}
        thresholds={thresholds}
        bands={bands}
        markers={firings.map((f) => ({ x: Date.parse(f.firedAt), label: `fired ${f.firedAt} (${f.cause}, ${f.outcome})` }))}
      />
      {failed.length > 0 ? (
        <p class="muted">
          {failed.length} failed sample{failed.length === 1 ? '' : 's'}; the last: {failed.at(-1)!.node}: {failed.at(-1)!.error}
        </p>
      ) : null}
    </div>
  );
}

function FiringHistory({ firings }: { firings: TriggerStatus['firings'] }) {
  if (firings.length === 0) return <p class="muted">It has not fired yet.</p>;
  return (
    <table class="firings">
      <thead>
        <tr>
          <th>Fired</th>
          <th>Cause</th>
          <th>Outcome</th>
          <th>Detail</th>
          <th>Took</th>
          <th>Chain run</th>
        </tr>
      </thead>
      <tbody>
        {firings.map((firing) => (
          <tr data-firing={String(firing.id)} data-outcome={firing.outcome}>
            <td>
              <Time iso={firing.firedAt} />
            </td>
            <td>{firing.cause}</td>
            <td>
              <StatusBadge status={firing.outcome} />
            </td>
            <td>{firing.detail ?? <span class="muted">–</span>}</td>
            <td>{firing.endedAt ? <Duration from={firing.firedAt} to={firing.endedAt} /> : <span class="muted">–</span>}</td>
            <td>
              {firing.webUiUrl ? (
                <a href={firing.webUiUrl} target="_blank" rel="noopener">
                  {firing.chainWorkflowId} ↗
                </a>
              ) : (
                <span class="muted">not started</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

interface LiveProps {
  status: TriggerStatus;
  counters: StoredCounter[];
  samples: { from: string; to: string; series: Record<string, Sample[]> };
  range: Range;
}

/** The part of the page that refreshes itself: state, facts, charts and firings. */
function TriggerLive({ status, counters, samples, range }: LiveProps) {
  const { trigger, state, schedule, firings } = status;
  const [from, to] = [Date.parse(samples.from), Date.parse(samples.to)];
  const shownFirings = firings.filter((f) => Date.parse(f.firedAt) >= from);
  return (
    <div id="trigger-live" hx-get={`/ui/partials/triggers/${encodeURIComponent(trigger.name)}?range=${range}`} hx-trigger={`every ${ranges[range].poll}`} hx-swap="outerHTML">
      <dl class="facts">
        <dt>State</dt>
        <dd id="trigger-state">
          <TriggerStateBadge state={state} enabled={trigger.enabled} />
          {state.evaluatedAt ? (
            <span class="muted">
              {' '}
              (evaluated <Time iso={state.evaluatedAt} />)
            </span>
          ) : null}
        </dd>
        <dt>Cluster</dt>
        <dd>
          <a href={clusterPath(trigger.cluster)}>{trigger.cluster}</a>
        </dd>
        <dt>Last values</dt>
        <dd>
          {trigger.counters.map((name) => (
            <span data-counter={name}>
              {name} <strong>{formatValue(state.values[name])}</strong>{' '}
            </span>
          ))}
        </dd>
        <dt>Timing</dt>
        <dd>
          every <Duration ms={trigger.intervalMs} />, held for <Duration ms={trigger.heldForMs} />, cooldown <Duration ms={trigger.cooldownMs} />
          {(trigger.repeatAfterMs ?? 0) > 0 ? (
            <>
              , fires again every <Duration ms={trigger.repeatAfterMs!} /> while it holds
            </>
          ) : null}
          {trigger.keepFiringForMs > 0 ? (
            <>
              , keeps firing for <Duration ms={trigger.keepFiringForMs} />
            </>
          ) : null}
          ; at most {trigger.circuitBreaker.maxFirings} firings per <Duration ms={trigger.circuitBreaker.windowMs} />
        </dd>
        <dt>Chain</dt>
        <dd>{trigger.chain.length === 0 ? <span class="muted">no action</span> : trigger.chain.map((a, i) => `${i + 1}. ${a.label ?? a.kind}`).join(' → ')}</dd>
        <dt>Sampling</dt>
        <dd>
          <ul class="sampling">
            <SamplingLine cluster={trigger.cluster} schedule={schedule} />
          </ul>
        </dd>
      </dl>
      {trigger.counters.map((name) => (
        <CounterChart
          trigger={trigger}
          name={name}
          counter={counters.find((c) => c.name === name)}
          samples={samples.series[name] ?? []}
          firings={shownFirings}
          from={from}
          to={to}
          range={range}
        />
      ))}
      <h3>Firings</h3>
      <FiringHistory firings={firings} />
    </div>
  );
}

function EnableButton({ trigger }: { trigger: StoredTrigger }) {
  const verb = trigger.enabled ? 'disable' : 'enable';
  return (
    <button id="trigger-enable" type="button" class="plain" hx-post={`/ui/triggers/${encodeURIComponent(trigger.name)}/${verb}`} hx-target="this" hx-swap="outerHTML" hx-disabled-elt="this" data-enabled={String(trigger.enabled)}>
      {trigger.enabled ? 'Disable' : 'Enable'}
    </button>
  );
}

function DryRun({ preview }: { preview: TriggerPreview }) {
  const { evaluation } = preview;
  return (
    <div class="dry-run" data-fire={String(evaluation.fire)}>
      <h3>Dry run at <Time iso={preview.at} /></h3>
      <dl class="facts">
        <dt>Condition</dt>
        <dd data-condition={evaluation.condition}>{evaluation.condition}</dd>
        <dt>Would fire</dt>
        <dd>{evaluation.fire ? 'yes' : 'no'}{evaluation.tripped ? ' (the circuit breaker would trip instead)' : ''}</dd>
        <dt>Why</dt>
        <dd>{evaluation.reason}</dd>
        <dt>State after</dt>
        <dd>
          <StatusBadge status={evaluation.state.state} />
        </dd>
      </dl>
      <table class="verdicts">
        <thead>
          <tr>
            <th>Counter</th>
            <th>Verdict</th>
            <th>Value</th>
            <th>Worst node</th>
            <th>Nodes sampled</th>
          </tr>
        </thead>
        <tbody>
          {evaluation.verdicts.map((v) => (
            <tr data-counter={v.counter}>
              <td>{v.counter}</td>
              <td>{v.condition}</td>
              <td>{formatValue(v.value)}</td>
              <td>{v.node ?? <span class="muted">–</span>}</td>
              <td>{v.nodes}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {preview.samples.some((s) => s.value === null) ? (
        <ul class="muted">
          {preview.samples.filter((s) => s.value === null).map((s) => (
            <li>
              {s.node} · {s.counter}: {s.error}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** htmx swaps only 2xx answers: a refusal is a 200 fragment saying what was refused, with the running chain's link on a 409. */
function refused(c: Context, error: unknown): Response | Promise<Response> {
  if (!(error instanceof ServiceError)) throw error;
  const running = typeof error.details.webUiUrl === 'string' ? error.details.webUiUrl : undefined;
  return c.html(
    <span class="error-text" role="alert" data-code={error.code}>
      {error.message}
      {running ? (
        <>
          {' '}
          <a href={running} target="_blank" rel="noopener">
            The running chain ↗
          </a>
        </>
      ) : null}
    </span>,
  );
}

export function triggerRoutes(deps: TriggerPagesDependencies, { page, pageOr404 }: TriggersFrame) {
  const { triggerRuns, triggers } = deps;

  async function live(name: string, range: Range) {
    const status = await triggerRuns.status(name);
    // A day is charted from the per-minute roll-ups (an hour's samples already number hundreds per node).
    const samplesOfRange = async () => {
      if (range === 'hour') return triggerRuns.samples(name, ranges.hour.hours);
      const { from, to, series } = await triggerRuns.minutes(name, ranges.day.hours);
      return { from, to, series: Object.fromEntries(Object.entries(series).map(([counter, rollups]) => [counter, samplesOfMinutes(rollups)])) };
    };
    const [counters, samples] = await Promise.all([triggers.model.listCountersByName(status.trigger.counters), samplesOfRange()]);
    return <TriggerLive status={status} counters={counters} samples={samples} range={range} />;
  }

  const button = (name: string, action: string, label: string, primary = false): Child => (
    <button type="button" class={primary ? 'primary' : 'plain'} hx-post={`/ui/triggers/${encodeURIComponent(name)}/${action}`} hx-target="#trigger-result" hx-swap="innerHTML" hx-disabled-elt="this">
      {label}
    </button>
  );

  return new Hono()
    .get('/triggers/:name', access('viewer'), (c) =>
      pageOr404(c, async () => {
        const range = rangeOf(c);
        const trigger = await triggers.getTrigger(c.req.param('name'));
        const path = triggerPath(trigger.name);
        return c.html(
          page(
            `Trigger ${trigger.name}`,
            <section>
              <div class="section-head">
                <h1>Trigger {trigger.name}</h1>
                <div class="actions-row">
                  {may('operator') ? (
                    <>
                      {button(trigger.name, 'run', 'Run chain now', true)}
                      {button(trigger.name, 'preview', 'Dry run')}
                      <EnableButton trigger={trigger} />
                    </>
                  ) : null}
                  {may('admin') ? (
                    <>
                      <a class="button" href={`${path}/edit`}>
                        Edit
                      </a>
                      <button
                        type="button"
                        class="danger"
                        hx-post={`/ui/triggers/${encodeURIComponent(trigger.name)}/delete`}
                        hx-confirm={`Delete trigger ${trigger.name}? Its firing history stays in the database.`}
                        hx-target="#trigger-result"
                        hx-swap="innerHTML"
                        hx-disabled-elt="this"
                      >
                        Delete
                      </button>
                    </>
                  ) : null}
                </div>
              </div>
              <div id="trigger-result" class="notice" aria-live="polite"></div>
              <p class="range-switch">
                {(Object.keys(ranges) as Range[]).map((r) => (
                  <a href={`${path}?range=${r}`} class={r === range ? 'active' : undefined} aria-current={r === range ? 'page' : undefined}>
                    {ranges[r].label}
                  </a>
                ))}
              </p>
              {await live(trigger.name, range)}
            </section>,
          ),
        );
      }),
    )
    .get('/ui/partials/triggers/:name', access('viewer'), async (c) => {
      try {
        return c.html(await live(c.req.param('name'), rangeOf(c)));
      } catch (error) {
        // A deleted trigger: the message replaces the live part, which ends its polling.
        if (error instanceof ServiceError) return c.html(<p class="error-text">{error.message}</p>);
        throw error;
      }
    })
    .post('/ui/triggers/:name/run', access('operator'), async (c) => {
      try {
        const started = await triggerRuns.runNow(c.req.param('name'));
        return c.html(
          <span data-started={started.workflowId}>
            Started the chain:{' '}
            <a href={started.webUiUrl} target="_blank" rel="noopener">
              {started.workflowId} ↗
            </a>
            ; its firing shows below.
          </span>,
        );
      } catch (error) {
        return refused(c, error);
      }
    })
    .post('/ui/triggers/:name/preview', access('operator'), async (c) => {
      try {
        return c.html(<DryRun preview={await triggerRuns.preview(c.req.param('name'))} />);
      } catch (error) {
        return refused(c, error);
      }
    })
    .post('/ui/triggers/:name/:action{enable|disable}', access('operator'), async (c) => {
      try {
        return c.html(<EnableButton trigger={await triggers.setTriggerEnabled(c.req.param('name'), c.req.param('action') === 'enable')} />);
      } catch (error) {
        return refusal(c, error);
      }
    })
    .post('/ui/triggers/:name/delete', access('admin'), async (c) => {
      const name = c.req.param('name');
      try {
        await triggers.deleteTrigger(name);
      } catch (error) {
        return refused(c, error);
      }
      return redirect(c, '/triggers', `Deleted trigger ${name}.`);
    });
}
