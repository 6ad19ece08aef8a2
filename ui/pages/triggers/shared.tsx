// What the trigger and counter pages share: their dependencies and frame, paths, the state badge, and
// how stored samples become chart lines (per node, per tick combined, and where the condition held).
import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import { ServiceError } from '../../../services/errors.ts';
import type { NodesService } from '../../../services/nodes.ts';
import type { TriggerRunsService } from '../../../services/triggerRuns.ts';
import type { Rollup } from '../../../db/samples.ts';
import type { TriggersService } from '../../../services/triggers.ts';
import { roleAllows, type Role } from '../../../services/access.shared.ts';
import { counterVerdict, type TriggerState } from '../../../workflows/triggerEvaluation.shared.ts';
import type { Comparison, Counter, NodeCombination, Sample, Trigger } from '../../../workflows/triggers.shared.ts';
import { Duration, StatusBadge, Time } from '../../components/format.tsx';
import { Layout, signedInPrincipal } from '../../layout.tsx';

export interface TriggerPagesDependencies {
  triggers: TriggersService;
  triggerRuns: TriggerRunsService;
  /** Clusters and their nodes (the forms' choices, the counter test's node). */
  nodes: NodesService;
  temporalWebUiUrl: string;
}

export const triggerPath = (name: string) => `/triggers/${encodeURIComponent(name)}`;
export const counterPath = (name: string) => `/counters/${encodeURIComponent(name)}`;

/** Whether the signed-in principal may use what `role` may (buttons it may not press are not shown). */
export const may = (role: Role) => {
  const principal = signedInPrincipal();
  return principal !== undefined && roleAllows(principal.role, role);
};

export const palette = ['#2f5bea', '#16a34a', '#d97706', '#9333ea', '#0891b2', '#db2777', '#4b5563', '#dc2626'];

/** The frame of every trigger and counter page, and its answer when the subject does not exist. */
export function triggersFrame(deps: Pick<TriggerPagesDependencies, 'temporalWebUiUrl'>) {
  const page = (title: string, body: Child) => (
    <Layout title={title} active="/triggers" temporalWebUiUrl={deps.temporalWebUiUrl}>
      {body}
    </Layout>
  );
  async function pageOr404(c: Context, render: () => Promise<Response>) {
    try {
      return await render();
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      return c.html(
        page(
          'Not found',
          <section>
            <h1>Not found</h1>
            <p class="error-text">{error.message}</p>
            <a href="/triggers">All triggers</a>
          </section>,
        ),
        error.status,
      );
    }
  }
  return { page, pageOr404 };
}

export type TriggersFrame = ReturnType<typeof triggersFrame>;

/** A trigger's state as a badge: inactive, pending since, firing (since), cooldown until; a disabled trigger says so. */
export function TriggerStateBadge({ state, enabled }: { state: TriggerState; enabled: boolean }) {
  if (!enabled) return <StatusBadge status="disabled" title="Disabled: not evaluated" />;
  const badge = <StatusBadge status={state.state} />;
  if (state.state === 'pending' && state.since) return <span data-state="pending">{badge} since <Time iso={state.since} /> (<Duration from={state.since} />)</span>;
  if (state.state === 'firing' && state.since) return <span data-state="firing">{badge} since <Time iso={state.since} />{state.chainRunning ? ', chain running' : ''}</span>;
  if (state.state === 'cooldown' && state.until) return <span data-state="cooldown">{badge} until <Time iso={state.until} /></span>;
  return <span data-state={state.state}>{badge}</span>;
}

/** A number as a person reads it: at most three decimals, no trailing zeros. */
export const formatValue = (value: number | null | undefined) => (value === null || value === undefined ? '–' : String(Math.round(value * 1000) / 1000));

/** The comparison and threshold a trigger applies to a counter: its own when set, else the counter's. */
export function effectiveCondition(trigger: Pick<Trigger, 'comparison' | 'threshold'>, counter: Pick<Counter, 'comparison' | 'threshold'> | undefined): { comparison: Comparison; threshold: number } | undefined {
  if (trigger.comparison != null && trigger.threshold != null) return { comparison: trigger.comparison, threshold: trigger.threshold };
  return counter ? { comparison: counter.comparison, threshold: counter.threshold } : undefined;
}

/** Per-minute roll-ups as one sample per node and minute (the minute's average; a minute of failed samples only is a failed one). */
export function samplesOfMinutes(rollups: Rollup[]): Sample[] {
  return rollups.map((r) => (r.avg === null ? { counter: r.counter, node: r.node, at: r.minute, value: null, error: `${r.failed} failed samples` } : { counter: r.counter, node: r.node, at: r.minute, value: r.avg }));
}

export const MINUTE_MS = 60_000;

/** One line per node of a counter's samples (failed samples leave a gap in the points: they are left out). */
export function lineByNode(samples: Sample[]): Map<string, [number, number][]> {
  const lines = new Map<string, [number, number][]>();
  for (const sample of samples) {
    if (sample.value === null) continue;
    const line = lines.get(sample.node) ?? [];
    line.push([Date.parse(sample.at), sample.value]);
    lines.set(sample.node, line);
  }
  return lines;
}

export interface Tick {
  at: number;
  /** The nodes' values combined (avg/max/min as the trigger combines; any/all show the average). */
  value: number;
  breach: boolean;
}

/**
 * A counter's samples grouped into the trigger's ticks (the nodes of one tick are sampled moments
 * apart), each with its combined value and whether the condition held then (as one evaluation would
 * see it, without hysteresis).
 */
export function ticksOf(samples: Sample[], intervalMs: number, combine: NodeCombination, condition?: { comparison: Comparison; threshold: number }): Tick[] {
  const buckets = new Map<number, Map<string, number>>();
  for (const sample of samples) {
    if (sample.value === null) continue;
    const bucket = Math.round(Date.parse(sample.at) / intervalMs);
    const values = buckets.get(bucket) ?? new Map<string, number>();
    values.set(sample.node, sample.value);
    buckets.set(bucket, values);
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([bucket, values]) => {
      const numbers = [...values.values()];
      const average = numbers.reduce((a, b) => a + b, 0) / numbers.length;
      const verdict = condition ? counterVerdict({ name: '', ...condition }, combine, values, false) : undefined;
      const combined = combine === 'any' || combine === 'all' ? average : (verdict?.value ?? average);
      return { at: bucket * intervalMs, value: combined, breach: verdict?.condition === 'breach' };
    });
}

/** The x-ranges where consecutive ticks breached, each extended by one interval (what the tick stands for). */
export function breachBands(ticks: Tick[], intervalMs: number): [number, number][] {
  const bands: [number, number][] = [];
  for (const tick of ticks) {
    if (!tick.breach) continue;
    const last = bands.at(-1);
    if (last && tick.at - last[1] <= intervalMs / 2) last[1] = tick.at + intervalMs;
    else bands.push([tick.at, tick.at + intervalMs]);
  }
  return bands;
}
