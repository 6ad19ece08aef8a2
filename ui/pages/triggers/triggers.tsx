// The Triggers page (/triggers): every trigger with its cluster, state, last values and a sparkline of
// its last hour (the table refreshes itself), each cluster's sampling schedule with Pause and Resume
// (operators), and the New trigger form (admins).
import { Hono } from 'hono';
import { access } from '../../../server/access.ts';
import { clusterNameSchema } from '../../../workflows/nodes.shared.ts';
import { parseInput } from '../../../services/errors.ts';
import type { TriggerScheduleView } from '../../../services/triggerSchedules.ts';
import type { StoredCounter } from '../../../db/triggers.ts';
import { Duration, StatusBadge, Time } from '../../components/format.tsx';
import { Sparkline } from '../../components/lineChart.tsx';
import { refusal } from '../nodes/shared.tsx';
import { newTriggerForm } from './triggerEditor.tsx';
import { effectiveCondition, formatValue, may, MINUTE_MS, samplesOfMinutes, ticksOf, TriggerStateBadge, triggerPath, type TriggerPagesDependencies, type TriggersFrame } from './shared.tsx';

const HOUR_MS = 3600_000;

type Overview = Awaited<ReturnType<TriggerPagesDependencies['triggerRuns']['overview']>>;
type Minutes = Awaited<ReturnType<TriggerPagesDependencies['triggerRuns']['minutes']>>;

function TriggersTable({ rows, samples, counters }: { rows: Overview; samples: Map<string, Minutes>; counters: StoredCounter[] }) {
  if (rows.length === 0) return <p class="muted">No trigger yet{may('admin') ? ': create one below.' : '.'}</p>;
  return (
    <table class="triggers">
      <thead>
        <tr>
          <th>Trigger</th>
          <th>Cluster</th>
          <th>State</th>
          <th>Enabled</th>
          <th>Last value</th>
          <th>Last hour</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(({ trigger, state }) => {
          const series = samples.get(trigger.name);
          const to = series ? Date.parse(series.to) : Date.now();
          return (
            <tr data-trigger={trigger.name} data-state={trigger.enabled ? state.state : 'disabled'}>
              <td>
                <a href={triggerPath(trigger.name)}>{trigger.name}</a>
              </td>
              <td>{trigger.cluster}</td>
              <td>
                <TriggerStateBadge state={state} enabled={trigger.enabled} />
              </td>
              <td>{trigger.enabled ? 'yes' : 'no'}</td>
              <td class="values">
                {trigger.counters.map((counter) => (
                  <div data-counter={counter}>
                    {counter} <strong>{formatValue(state.values[counter])}</strong>
                  </div>
                ))}
              </td>
              <td>
                {trigger.counters.map((counter) => {
                  const condition = effectiveCondition(trigger, counters.find((c) => c.name === counter));
                  // Per minute (the roll-ups): an hour is 60 points whatever the interval and the number of nodes.
                  const ticks = ticksOf(samplesOfMinutes(series?.series[counter] ?? []), MINUTE_MS, trigger.combine, condition);
                  return (
                    <div data-counter={counter}>
                      <Sparkline
                        points={ticks.map((t) => [t.at, t.value])}
                        xDomain={[to - HOUR_MS, to]}
                        threshold={condition?.threshold}
                        label={`${counter} over the last hour (${trigger.combine === 'any' || trigger.combine === 'all' ? 'avg' : trigger.combine} of the nodes)`}
                      />
                    </div>
                  );
                })}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** One cluster's sampling schedule: paused or not, its interval and next tick, and Pause/Resume for operators. */
export function SamplingLine({ cluster, schedule, error }: { cluster: string; schedule: TriggerScheduleView | null; error?: string }) {
  const action = (verb: 'pause' | 'resume', label: string) => (
    <button type="button" class="plain" hx-post={`/ui/clusters/${encodeURIComponent(cluster)}/sampling/${verb}`} hx-target="closest li" hx-swap="outerHTML" hx-disabled-elt="this">
      {label}
    </button>
  );
  return (
    <li data-cluster={cluster} data-paused={schedule ? String(schedule.paused) : 'none'}>
      <strong>{cluster}</strong>
      {schedule === null ? (
        <span class="muted">no sampling schedule (no trigger has been saved for it yet)</span>
      ) : (
        <>
          {schedule.paused ? <StatusBadge status="paused" /> : <StatusBadge status="running" label="sampling" />}
          {schedule.intervalMs ? (
            <span>
              every <Duration ms={schedule.intervalMs} />
            </span>
          ) : null}
          {!schedule.paused && schedule.nextTickAt ? (
            <span>
              next tick <Time iso={schedule.nextTickAt} />
            </span>
          ) : null}
          {schedule.note ? <span class="muted">({schedule.note})</span> : null}
          {may('operator') ? (schedule.paused ? action('resume', 'Resume') : action('pause', 'Pause')) : null}
        </>
      )}
      {error ? <span class="error-text">{error}</span> : null}
    </li>
  );
}

export function triggersRoutes(deps: TriggerPagesDependencies, { page }: TriggersFrame) {
  const { triggerRuns, triggers } = deps;

  async function table() {
    const [rows, counters] = await Promise.all([triggerRuns.overview(), triggers.listCounters()]);
    const samples = new Map(await Promise.all(rows.map(async ({ trigger }) => [trigger.name, await triggerRuns.minutes(trigger.name, 1)] as const)));
    return (
      <div id="triggers-table" hx-get="/ui/partials/triggers" hx-trigger="every 5s" hx-swap="outerHTML">
        <TriggersTable rows={rows} samples={samples} counters={counters} />
      </div>
    );
  }

  return new Hono()
    .get('/triggers', access('viewer'), async (c) => {
      const rows = await triggerRuns.overview();
      const clusters = [...new Set(rows.map((r) => r.trigger.cluster))].sort();
      const schedules = await Promise.all(clusters.map(async (cluster) => [cluster, await triggerRuns.sampling(cluster)] as const));
      return c.html(
        page(
          'Triggers',
          <>
            <section>
              <div class="section-head">
                <h1>Triggers</h1>
                <a href="/counters">Counters</a>
              </div>
              <p class="muted">
                A trigger watches its cluster's nodes with its counters; when its condition has held for its time it fires and runs its chain of actions. States:
                inactive → pending (since the first breach) → firing → cooldown (until).
              </p>
              {await table()}
            </section>
            <section>
              <h2>Sampling</h2>
              <p class="muted">One Temporal Schedule per cluster samples every counter its triggers need, at the smallest interval of its enabled triggers.</p>
              {schedules.length === 0 ? (
                <p class="muted">No cluster has triggers yet.</p>
              ) : (
                <ul class="sampling">
                  {schedules.map(([cluster, schedule]) => (
                    <SamplingLine cluster={cluster} schedule={schedule} />
                  ))}
                </ul>
              )}
            </section>
            {may('admin') ? (
              <section>
                <h2>New trigger</h2>
                {await newTriggerForm(deps)}
              </section>
            ) : null}
          </>,
        ),
      );
    })
    .get('/ui/partials/triggers', access('viewer'), async (c) => c.html(await table()))
    .post('/ui/clusters/:name/sampling/:action{pause|resume}', access('operator'), async (c) => {
      const cluster = parseInput(clusterNameSchema, c.req.param('name'), 'cluster');
      try {
        await triggerRuns.setSamplingPaused(cluster, c.req.param('action') === 'pause', c.get('principal').actor);
      } catch (error) {
        return refusal(c, error);
      }
      return c.html(<SamplingLine cluster={cluster} schedule={await triggerRuns.sampling(cluster)} />);
    });
}
