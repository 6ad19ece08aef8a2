// How a trigger's state moves at each evaluation: a pure function of the trigger, its state, the
// tick's samples and the time, so the tick activity, the dry run and the tests share one definition.
//
//   inactive ─breach→ pending(since) ─held for heldFor→ firing ─cleared, chain ended→ cooldown(until) ─until→ inactive
//                        └─cleared→ inactive
//
// - "Held for" is wall-clock time from the first breaching evaluation (Prometheus `for`).
// - A missing or failed sample neither breaches nor clears: the state stays as it is (PyScaler left
//   its count unchanged; Prometheus would reset a pending alert, which lets one lost sample postpone a
//   scale-out by a whole heldFor). A node without samples for heldFor is reported, once per outage.
// - Hysteresis: once pending or firing, a counter clears only past `clearThreshold` (when set), and
//   the condition counts as held for `keepFiringForMs` after it was last true.
// - One firing per episode: a firing trigger stays firing while the condition holds, so an oscillating
//   signal fires once; it can fire again only after it cleared and its cooldown passed.
// - Circuit breaker: a firing that would be the (maxFirings+1)-th within the window does not run; the
//   trigger disables itself instead (the caller mails).
import { breaches, type Comparison, type NodeCombination, type Sample, type TriggerStateName } from './triggers.shared.ts';

/** What the evaluation needs of a trigger (its stored definition carries more). */
export interface EvaluatedTrigger {
  name: string;
  cluster: string;
  counters: string[];
  combine: NodeCombination;
  /** Overrides every counter's comparison and threshold, when set (both). */
  comparison?: Comparison | null;
  threshold?: number | null;
  intervalMs: number;
  heldForMs: number;
  clearThreshold?: number | null;
  keepFiringForMs: number;
  /** A firing trigger whose condition still holds fires again this long after it fired, once its chain ended (0 or absent: never). */
  repeatAfterMs?: number;
  cooldownMs: number;
  circuitBreaker: { maxFirings: number; windowMs: number };
}

export interface EvaluatedCounter {
  name: string;
  comparison: Comparison;
  threshold: number;
}

/** A trigger's state, kept between ticks (in MySQL). Times are ISO strings. */
export interface TriggerState {
  state: TriggerStateName;
  /** pending: since the first breaching evaluation; firing: since it fired; cooldown: since it began. */
  since: string | null;
  /** cooldown: when it ends. */
  until: string | null;
  /** When the condition was last true (for keepFiringForMs). */
  lastBreachAt: string | null;
  evaluatedAt: string | null;
  /** Whether the chain this firing started is still running. */
  chainRunning: boolean;
  /** Firing times within the circuit breaker's window. */
  firings: string[];
  /** Per node, since when it has had no sample of this trigger's counters. */
  missingSince: Record<string, string>;
  /** Nodes reported unreachable in the current outage (reported once). */
  reported: string[];
  /** The last combined value of each counter (null: no data). */
  values: Record<string, number | null>;
}

export const initialTriggerState = (): TriggerState => ({
  state: 'inactive',
  since: null,
  until: null,
  lastBreachAt: null,
  evaluatedAt: null,
  chainRunning: false,
  firings: [],
  missingSince: {},
  reported: [],
  values: {},
});

export type Condition = 'breach' | 'clear' | 'no-data';

export interface CounterVerdict {
  counter: string;
  condition: Condition;
  /** The combined value (avg/max/min), or for any/all the value of the worst node. */
  value: number | null;
  /** The node that breached worst (any/all), when one did. */
  node: string | null;
  /** Nodes that gave a value. */
  nodes: number;
}

export interface Evaluation {
  state: TriggerState;
  condition: Condition;
  verdicts: CounterVerdict[];
  /** The trigger fired at this evaluation: start its chain. */
  fire: boolean;
  /** The circuit breaker tripped: the trigger disables itself. */
  tripped: boolean;
  /** Nodes newly found without samples for heldFor (report them). */
  unreachable: string[];
  /** What happened, for the UI's dry run and the logs. */
  reason: string;
}

const ms = (iso: string | null) => (iso === null ? NaN : Date.parse(iso));

/** How far a value is past the threshold in the breaching direction (larger is worse). */
function severity(value: number, comparison: Comparison, threshold: number): number {
  return comparison === '<' || comparison === '<=' ? threshold - value : comparison === '=' ? -Math.abs(value - threshold) : value - threshold;
}

/**
 * One counter's condition over the nodes' values. `held`: the trigger is pending or firing, so a
 * clear threshold (hysteresis) decides when it clears.
 */
export function counterVerdict(counter: EvaluatedCounter, combine: NodeCombination, values: Map<string, number>, held: boolean, clearThreshold?: number | null): CounterVerdict {
  const threshold = held && clearThreshold != null && counter.comparison !== '=' ? clearThreshold : counter.threshold;
  const entries = [...values.entries()];
  if (entries.length === 0) return { counter: counter.name, condition: 'no-data', value: null, node: null, nodes: 0 };
  const breach = (value: number) => breaches(value, counter.comparison, threshold);
  if (combine === 'any' || combine === 'all') {
    const worst = entries.reduce((a, b) => (severity(b[1], counter.comparison, threshold) > severity(a[1], counter.comparison, threshold) ? b : a));
    const breaching = entries.filter(([, value]) => breach(value)).length;
    const condition = (combine === 'any' ? breaching > 0 : breaching === entries.length) ? 'breach' : 'clear';
    return { counter: counter.name, condition, value: worst[1], node: condition === 'breach' ? worst[0] : null, nodes: entries.length };
  }
  const numbers = entries.map(([, value]) => value);
  const value = combine === 'avg' ? numbers.reduce((a, b) => a + b, 0) / numbers.length : combine === 'max' ? Math.max(...numbers) : Math.min(...numbers);
  return { counter: counter.name, condition: breach(value) ? 'breach' : 'clear', value, node: null, nodes: entries.length };
}

/** The trigger is due at `now` (its interval has passed since its last evaluation; 10 % early is on time). */
export const isDue = (trigger: Pick<EvaluatedTrigger, 'intervalMs'>, state: TriggerState, now: number) =>
  state.evaluatedAt === null || now - ms(state.evaluatedAt) >= trigger.intervalMs * 0.9;

/**
 * Evaluates `trigger` on one tick's `samples` (of its cluster's `nodes`) at `now`. Pure: the caller
 * stores the returned state, starts the chain when `fire`, disables the trigger when `tripped`.
 */
export function evaluateTrigger(
  trigger: EvaluatedTrigger,
  counters: readonly EvaluatedCounter[],
  previous: TriggerState,
  samples: readonly Sample[],
  nodes: readonly string[],
  now: number,
): Evaluation {
  const at = new Date(now).toISOString();
  const state: TriggerState = { ...previous, firings: [...previous.firings], missingSince: { ...previous.missingSince }, reported: [...previous.reported], evaluatedAt: at };

  // A cooldown that has run out is over before this evaluation looks at the condition.
  if (state.state === 'cooldown' && now >= ms(state.until)) Object.assign(state, { state: 'inactive', since: null, until: null });
  const held = state.state === 'pending' || state.state === 'firing';

  const mine = new Set(trigger.counters);
  const byCounter = new Map<string, Map<string, number>>(trigger.counters.map((name) => [name, new Map()]));
  const sampled = new Set<string>();
  for (const sample of samples) {
    if (!mine.has(sample.counter) || sample.value === null || !Number.isFinite(sample.value)) continue;
    byCounter.get(sample.counter)!.set(sample.node, sample.value);
    sampled.add(sample.node);
  }

  const verdicts = trigger.counters.map((name) => {
    const defined = counters.find((c) => c.name === name);
    const counter = defined && trigger.comparison != null && trigger.threshold != null ? { ...defined, comparison: trigger.comparison, threshold: trigger.threshold } : defined;
    if (!counter) return { counter: name, condition: 'no-data' as const, value: null, node: null, nodes: 0 };
    return counterVerdict(counter, trigger.combine, byCounter.get(name)!, held, trigger.clearThreshold);
  });
  state.values = Object.fromEntries(verdicts.map((v) => [v.counter, v.value]));

  // Any counter breaching breaches (PyScaler's OR); all clear clears; otherwise there is no verdict.
  let condition: Condition = verdicts.some((v) => v.condition === 'breach') ? 'breach' : verdicts.every((v) => v.condition === 'clear') ? 'clear' : 'no-data';
  if (condition === 'breach') state.lastBreachAt = at;
  else if (condition === 'clear' && held && trigger.keepFiringForMs > 0 && now - ms(state.lastBreachAt) < trigger.keepFiringForMs) condition = 'breach';

  // Nodes without any sample of this trigger's counters: reported once they have been so for heldFor.
  const unreachable: string[] = [];
  const reportAfter = Math.max(trigger.heldForMs, trigger.intervalMs);
  for (const node of Object.keys(state.missingSince)) if (!nodes.includes(node) || sampled.has(node)) delete state.missingSince[node];
  state.reported = state.reported.filter((node) => node in state.missingSince || (nodes.includes(node) && !sampled.has(node)));
  for (const node of nodes) {
    if (sampled.has(node)) continue;
    state.missingSince[node] ??= at;
    if (now - ms(state.missingSince[node]!) >= reportAfter && !state.reported.includes(node)) {
      state.reported.push(node);
      unreachable.push(node);
    }
  }

  const result = (reason: string, fire = false, tripped = false): Evaluation => ({ state, condition, verdicts, fire, tripped, unreachable, reason });

  if (condition === 'no-data') return result('no data: the state stays as it was');
  switch (state.state) {
    case 'inactive':
      if (condition === 'clear') return result('clear');
      Object.assign(state, { state: 'pending', since: at });
      if (trigger.heldForMs > 0) return result('breach: pending');
      return fire(state, trigger, now, result);
    case 'pending':
      if (condition === 'clear') {
        Object.assign(state, { state: 'inactive', since: null });
        return result('cleared before heldFor: inactive');
      }
      if (now - ms(state.since) < trigger.heldForMs) return result(`breach held for ${now - ms(state.since)} ms of ${trigger.heldForMs} ms: pending`);
      return fire(state, trigger, now, result);
    case 'firing':
      if (condition === 'breach') {
        if (state.chainRunning) return result('firing: the chain runs');
        // Step scaling (Ceilometer's repeat_actions, an ASG alarm that stays in ALARM): again once the last step had time to act.
        const repeatAfter = trigger.repeatAfterMs ?? 0;
        if (repeatAfter > 0 && now - ms(state.since) >= repeatAfter) return fire(state, trigger, now, result);
        return result(repeatAfter > 0 ? `firing: the condition still holds; fires again ${repeatAfter} ms after it fired` : 'firing: the condition still holds (one firing per episode)');
      }
      if (state.chainRunning) return result('cleared: the chain still runs, cooldown starts when it ends');
      return startCooldown(state, trigger, now, result);
    case 'cooldown':
      return result(`cooldown until ${state.until}`);
  }
}

function fire(state: TriggerState, trigger: EvaluatedTrigger, now: number, result: (reason: string, fire?: boolean, tripped?: boolean) => Evaluation): Evaluation {
  const at = new Date(now).toISOString();
  const { maxFirings, windowMs } = trigger.circuitBreaker;
  state.firings = state.firings.filter((firing) => now - ms(firing) < windowMs);
  if (state.firings.length >= maxFirings) {
    Object.assign(state, { state: 'inactive', since: null });
    return result(`circuit breaker: ${state.firings.length} firings within ${windowMs} ms; the trigger disables itself`, false, true);
  }
  state.firings.push(at);
  Object.assign(state, { state: 'firing', since: at, chainRunning: true });
  return result('fired: the chain starts', true);
}

function startCooldown(state: TriggerState, trigger: EvaluatedTrigger, now: number, result: (reason: string) => Evaluation): Evaluation {
  if (trigger.cooldownMs === 0) {
    Object.assign(state, { state: 'inactive', since: null, until: null });
    return result('cleared: inactive (no cooldown)');
  }
  Object.assign(state, { state: 'cooldown', since: new Date(now).toISOString(), until: new Date(now + trigger.cooldownMs).toISOString() });
  return result(`cleared: cooldown until ${state.until}`);
}

/**
 * The trigger's chain has ended. A firing trigger stays firing until an evaluation sees the condition
 * clear, and its cooldown starts then: a chain's end alone never re-arms a trigger whose condition holds.
 */
export const chainEnded = (previous: TriggerState): TriggerState => ({ ...previous, chainRunning: false });
