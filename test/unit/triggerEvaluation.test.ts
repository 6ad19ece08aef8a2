// The trigger state machine (workflows/triggerEvaluation.shared.ts) as a pure function: each
// transition, what a missing sample does, hysteresis, cooldown, the circuit breaker and node reports.
import { describe, expect, it } from 'vitest';
import {
  chainEnded,
  counterVerdict,
  evaluateTrigger,
  initialTriggerState,
  isDue,
  type EvaluatedCounter,
  type EvaluatedTrigger,
  type Evaluation,
  type TriggerState,
} from '../../workflows/triggerEvaluation.shared.ts';
import type { Sample } from '../../workflows/triggers.shared.ts';

const S = 1000;
const cpu: EvaluatedCounter = { name: 'cpu-busy', comparison: '>', threshold: 70 };
const base: EvaluatedTrigger = {
  name: 'scale-out',
  cluster: 'web',
  counters: ['cpu-busy'],
  combine: 'avg',
  intervalMs: 10 * S,
  heldForMs: 30 * S,
  clearThreshold: null,
  keepFiringForMs: 0,
  cooldownMs: 60 * S,
  circuitBreaker: { maxFirings: 5, windowMs: 3600 * S },
};
const nodes = ['web01', 'web02'];
const samplesOf = (values: Record<string, number | null>, counter = 'cpu-busy'): Sample[] =>
  Object.entries(values).map(([node, value]) => ({ counter, node, at: '', value, ...(value === null ? { error: 'exit 1' } : {}) }));

/** Runs evaluations at t = 0, interval, 2 × interval, … with `avg` values (both nodes the same). */
function run(trigger: EvaluatedTrigger, series: (number | null)[], start: TriggerState = initialTriggerState()) {
  let state = start;
  const evaluations: Evaluation[] = [];
  series.forEach((value, i) => {
    const evaluation = evaluateTrigger(trigger, [cpu], state, samplesOf(Object.fromEntries(nodes.map((n) => [n, value]))), nodes, i * trigger.intervalMs);
    evaluations.push(evaluation);
    state = evaluation.state;
  });
  return { evaluations, state, states: evaluations.map((e) => e.state.state), firedAt: evaluations.flatMap((e, i) => (e.fire ? [i] : [])) };
}

describe('evaluateTrigger', () => {
  it('goes inactive → pending → firing once the breach has held for heldFor, in wall-clock time', () => {
    const { states, firedAt, evaluations } = run(base, [50, 80, 80, 80, 80]);
    expect(states).toEqual(['inactive', 'pending', 'pending', 'pending', 'firing']);
    expect(firedAt).toEqual([4]); // pending since t=10 s; fires at t=40 s, 30 s later
    expect(evaluations[1]!.state.since).toBe(new Date(10 * S).toISOString());
    expect(evaluations[4]!.state).toMatchObject({ chainRunning: true, firings: [new Date(40 * S).toISOString()] });
  });

  it('fires at the first breach when heldFor is 0', () => {
    expect(run({ ...base, heldForMs: 0 }, [80]).firedAt).toEqual([0]);
  });

  it('returns to inactive when the condition clears before heldFor', () => {
    expect(run(base, [80, 80, 50, 80, 80, 80]).states).toEqual(['pending', 'pending', 'inactive', 'pending', 'pending', 'pending']);
  });

  it('neither breaches nor clears on a failed or missing sample: pending keeps its since, and heldFor is not restarted', () => {
    const { states, firedAt, evaluations } = run(base, [80, null, null, 80]);
    expect(states).toEqual(['pending', 'pending', 'pending', 'firing']);
    expect(firedAt).toEqual([3]);
    expect(evaluations[1]).toMatchObject({ condition: 'no-data', reason: 'no data: the state stays as it was' });
    // And an inactive trigger does not go pending on no data.
    expect(run(base, [null, null]).states).toEqual(['inactive', 'inactive']);
  });

  it('stays firing while the condition holds, after its chain ended: one firing per episode', () => {
    const fired = run(base, [80, 80, 80, 80]).state;
    const { states, firedAt } = run(base, [80, 80, 80, 80, 80, 80], chainEnded(fired));
    expect(states.every((s) => s === 'firing')).toBe(true);
    expect(firedAt).toEqual([]);
  });

  it('with repeatAfter, fires again while the condition holds, once its chain ended and repeatAfter has passed (step scaling)', () => {
    const stepping = { ...base, repeatAfterMs: 60 * S };
    // Fires at t=30 s (pending since 0); its chain runs through t=50 s, so nothing repeats yet.
    let state = run(stepping, [80, 80, 80, 80]).state;
    const at = (t: number, value = 80) => evaluateTrigger(stepping, [cpu], state, samplesOf({ web01: value, web02: value }), nodes, t * S);
    let evaluation = at(80);
    expect(evaluation.fire).toBe(false); // 50 s after the firing, and its chain still runs
    state = chainEnded(evaluation.state);
    evaluation = at(85);
    expect([evaluation.fire, evaluation.state.state]).toEqual([false, 'firing']); // 55 s: not yet
    state = evaluation.state;
    evaluation = at(90);
    expect([evaluation.fire, evaluation.state.state, evaluation.state.chainRunning]).toEqual([true, 'firing', true]);
    expect(evaluation.state.firings).toEqual([new Date(30 * S).toISOString(), new Date(90 * S).toISOString()]);
    // A repeat that never had a chain end does not fire a third time; a clear after the end cools down.
    state = evaluation.state;
    expect(at(200).fire).toBe(false);
    state = chainEnded(at(200).state);
    expect(at(210, 10).state.state).toBe('cooldown');
  });

  it('goes into cooldown when the condition clears after the chain ended, and is inactive again when it is over', () => {
    let state = run(base, [80, 80, 80, 80]).state; // fired at t=30 s of this run
    // The condition clears while the chain runs: cooldown waits for the chain's end.
    const t0 = 40 * S;
    let evaluation = evaluateTrigger(base, [cpu], state, samplesOf({ web01: 10, web02: 10 }), nodes, t0);
    expect(evaluation.state).toMatchObject({ state: 'firing', chainRunning: true });
    state = chainEnded(evaluation.state);
    evaluation = evaluateTrigger(base, [cpu], state, samplesOf({ web01: 10, web02: 10 }), nodes, t0 + 10 * S);
    expect(evaluation.state).toMatchObject({ state: 'cooldown', until: new Date(t0 + 10 * S + 60 * S).toISOString() });
    // A breach during the cooldown does not go pending …
    evaluation = evaluateTrigger(base, [cpu], evaluation.state, samplesOf({ web01: 90, web02: 90 }), nodes, t0 + 60 * S);
    expect(evaluation.state.state).toBe('cooldown');
    // … and one at its end does, in the same evaluation.
    evaluation = evaluateTrigger(base, [cpu], evaluation.state, samplesOf({ web01: 90, web02: 90 }), nodes, t0 + 70 * S);
    expect(evaluation.state).toMatchObject({ state: 'pending', since: new Date(t0 + 70 * S).toISOString(), until: null });
  });

  it('with a clear threshold, a value between the thresholds keeps a pending trigger pending (hysteresis)', () => {
    const oscillating = [80, 65, 80, 65, 80];
    expect(run({ ...base, clearThreshold: 60 }, oscillating).states).toEqual(['pending', 'pending', 'pending', 'firing', 'firing']);
    expect(run(base, oscillating).states).toEqual(['pending', 'inactive', 'pending', 'inactive', 'pending']);
    // Below the clear threshold it clears.
    expect(run({ ...base, clearThreshold: 60 }, [80, 55]).states).toEqual(['pending', 'inactive']);
  });

  it('with keepFiringFor, a condition counts as held for that long after it was last true', () => {
    const trigger = { ...base, keepFiringForMs: 15 * S };
    expect(run(trigger, [80, 50, 80, 50, 50, 50]).states).toEqual(['pending', 'pending', 'pending', 'firing', 'firing', 'firing']);
    // Cleared for longer than keepFiringFor: inactive.
    expect(run({ ...base, keepFiringForMs: 15 * S }, [80, 50, 50]).states).toEqual(['pending', 'pending', 'inactive']);
  });

  it('fires at most once over 5 minutes of a signal oscillating around the threshold, where a plain threshold fires 15 times', () => {
    const trigger = { ...base, intervalMs: 10 * S, clearThreshold: 60, cooldownMs: 60 * S };
    const series = Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? 75 : 65));
    let state = initialTriggerState();
    let firings = 0;
    series.forEach((value, i) => {
      const evaluation = evaluateTrigger(trigger, [cpu], state, samplesOf({ web01: value, web02: value }), nodes, i * 10 * S);
      if (evaluation.fire) firings++;
      state = evaluation.fire ? chainEnded(evaluation.state) : evaluation.state; // each chain ends at once
    });
    const naive = series.filter((value, i) => value > 70 && (i === 0 || series[i - 1]! <= 70)).length;
    expect(firings).toBe(1);
    expect(naive).toBe(15);
  });

  it('trips the circuit breaker instead of firing more than maxFirings times within the window', () => {
    const trigger = { ...base, heldForMs: 0, cooldownMs: 0, circuitBreaker: { maxFirings: 2, windowMs: 600 * S } };
    let state = initialTriggerState();
    const outcomes: string[] = [];
    // breach, clear, breach, clear, breach: the third firing within 10 minutes trips the breaker.
    [80, 50, 80, 50, 80].forEach((value, i) => {
      const evaluation = evaluateTrigger(trigger, [cpu], state, samplesOf({ web01: value, web02: value }), nodes, i * 10 * S);
      outcomes.push(evaluation.tripped ? 'tripped' : evaluation.fire ? 'fired' : evaluation.state.state);
      state = chainEnded(evaluation.state);
    });
    expect(outcomes).toEqual(['fired', 'inactive', 'fired', 'inactive', 'tripped']);
    expect(state.state).toBe('inactive');
    // Past the window, firings count again.
    const later = evaluateTrigger(trigger, [cpu], state, samplesOf({ web01: 80, web02: 80 }), nodes, 700 * S);
    expect(later).toMatchObject({ fire: true, tripped: false });
  });

  it('reports a node without samples for heldFor once per outage, and again after it came back and went away', () => {
    let state = initialTriggerState();
    const reports: string[][] = [];
    const web02 = [50, null, null, null, null, 50, null, null, null, null];
    web02.forEach((value, i) => {
      const evaluation = evaluateTrigger(base, [cpu], state, samplesOf({ web01: 50, web02: value }), nodes, i * 10 * S);
      reports.push(evaluation.unreachable);
      state = evaluation.state;
    });
    // Missing from t=10 s; reported at t=40 s (heldFor 30 s), once; back at t=50 s; missing from t=60 s, reported at t=90 s.
    expect(reports.map((r, i) => (r.length ? `${i}:${r.join(',')}` : '')).filter(Boolean)).toEqual(['4:web02', '9:web02']);
  });

  it('combines nodes as any, all, avg, max or min, and names the worst node', () => {
    const values = new Map([
      ['web01', 90],
      ['web02', 40],
      ['web03', 50],
    ]);
    expect(counterVerdict(cpu, 'any', values, false)).toMatchObject({ condition: 'breach', value: 90, node: 'web01', nodes: 3 });
    expect(counterVerdict(cpu, 'all', values, false)).toMatchObject({ condition: 'clear', node: null });
    expect(counterVerdict(cpu, 'avg', values, false)).toMatchObject({ condition: 'clear', value: 60 });
    expect(counterVerdict(cpu, 'max', values, false)).toMatchObject({ condition: 'breach', value: 90 });
    expect(counterVerdict(cpu, 'min', values, false)).toMatchObject({ condition: 'clear', value: 40 });
    const low: EvaluatedCounter = { name: 'cpu-idle', comparison: '<', threshold: 20 };
    expect(counterVerdict(low, 'any', new Map([['web01', 30], ['web02', 5]]), false)).toMatchObject({ condition: 'breach', value: 5, node: 'web02' });
    expect(counterVerdict(cpu, 'avg', new Map(), false)).toMatchObject({ condition: 'no-data', value: null });
  });

  it('breaches when any of several counters breaches, and clears only when all are clear', () => {
    const mem: EvaluatedCounter = { name: 'mem-used', comparison: '>=', threshold: 0.9 };
    const trigger = { ...base, counters: ['cpu-busy', 'mem-used'], heldForMs: 0 };
    const at = (cpuValue: number, memValue: number | null) => [...samplesOf({ web01: cpuValue }), ...samplesOf({ web01: memValue }, 'mem-used')];
    expect(evaluateTrigger(trigger, [cpu, mem], initialTriggerState(), at(50, 0.95), ['web01'], 0)).toMatchObject({ condition: 'breach', fire: true });
    expect(evaluateTrigger(trigger, [cpu, mem], initialTriggerState(), at(50, 0.5), ['web01'], 0)).toMatchObject({ condition: 'clear', fire: false });
    expect(evaluateTrigger(trigger, [cpu, mem], initialTriggerState(), at(50, null), ['web01'], 0)).toMatchObject({ condition: 'no-data' });
  });

  it('is due once its interval has passed since the last evaluation', () => {
    const state = { ...initialTriggerState(), evaluatedAt: new Date(0).toISOString() };
    expect(isDue(base, initialTriggerState(), 0)).toBe(true);
    expect(isDue(base, state, 5 * S)).toBe(false);
    expect(isDue(base, state, 9.5 * S)).toBe(true);
  });
});

describe('a trigger’s own comparison and threshold', () => {
  it('override its counters’, so one counter serves a scale-out and a scale-in trigger', () => {
    const scaleIn = { ...base, comparison: '<' as const, threshold: 20, heldForMs: 0 };
    const idle = samplesOf({ web01: 5, web02: 10 });
    expect(evaluateTrigger(scaleIn, [cpu], initialTriggerState(), idle, nodes, 0)).toMatchObject({ condition: 'breach', fire: true });
    expect(evaluateTrigger({ ...base, heldForMs: 0 }, [cpu], initialTriggerState(), idle, nodes, 0)).toMatchObject({ condition: 'clear', fire: false });
  });
});
