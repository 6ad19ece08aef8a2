// The tick activity with stub stores: the samples are in MySQL before the tick commits, while the
// memcached mirror runs beside the evaluation (at 1,000 triggers it was a third of the tick).
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { createTickActivities } from '../../activities/triggers/tick.ts';
import type { TriggerStateStore } from '../../db/triggerStates.ts';
import { initialTriggerState } from '../../workflows/triggerEvaluation.shared.ts';
import type { Counter, Sample, Trigger } from '../../workflows/triggers.shared.ts';

const counter: Counter = { name: 'cpu-busy', kind: 'http', comparison: '>', threshold: 70, format: 'json', jsonPointer: '/value', url: 'http://{host}:9/v' };
const trigger: Trigger = {
  name: 'scale-out', cluster: 'web', counters: ['cpu-busy'], combine: 'avg', intervalMs: 10_000, heldForMs: 10_000, keepFiringForMs: 0, cooldownMs: 0, enabled: true,
  circuitBreaker: { maxFirings: 5, windowMs: 3600_000 }, chain: [],
};

describe('evaluateTriggerTick', () => {
  it('stores the samples before committing, and commits without waiting for the memcached mirror', async () => {
    const order: string[] = [];
    let releaseMirror!: () => void;
    const mirrorHeld = new Promise<void>((resolve) => (releaseMirror = resolve));
    const states = {
      tickOutcome: async () => undefined,
      states: async (names: readonly string[]) => new Map(names.map((n) => [n, initialTriggerState()])),
      commitTick: async (_cluster: string, _tick: string, names: readonly string[], evaluate: Parameters<TriggerStateStore['commitTick']>[3]) => {
        order.push('commit');
        // The mirror is still writing: the commit did not wait for it. Let it finish now.
        releaseMirror();
        return evaluate(new Map(names.map((n) => [n, initialTriggerState()]))).result([]);
      },
    } as unknown as TriggerStateStore;
    const activities = createTickActivities({
      definitions: { listTriggersOfCluster: async () => [trigger], listCountersByName: async () => [counter], setTriggerEnabled: async () => undefined },
      states,
      activeNodes: async () => [{ node: 'web01', host: '127.0.0.1', port: 22, user: 'u', keyRef: 'k' }],
      collector: { collect: async (): Promise<Sample[]> => [{ counter: 'cpu-busy', node: 'web01', at: new Date().toISOString(), value: 80 }] },
      samples: {
        store: async () => void order.push('store'),
        mirror: async () => {
          order.push('mirror started');
          await mirrorHeld;
          order.push('mirror done');
        },
        prune: async () => undefined,
      },
    });
    const outcome = await new MockActivityEnvironment().run(activities.evaluateTriggerTick, { cluster: 'web', tickId: 'tick-1' });
    expect(outcome).toMatchObject({ evaluated: 1, samples: 1 });
    expect(order).toEqual(['store', 'mirror started', 'commit', 'mirror done']);
  });
});
