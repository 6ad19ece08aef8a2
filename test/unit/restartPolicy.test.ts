import { describe, expect, it } from 'vitest';
import { backoffDelayMs, decideRestart, givingUpMessage, restartLine, type RestartPolicy } from '../../scripts/restartPolicy.ts';

const policy: RestartPolicy = { maxRestarts: 5, windowMs: 300_000, initialDelayMs: 500, maxDelayMs: 10_000 };

/** Crashes at the given times (ms), each decided on the history the previous decision kept. */
function crashAt(times: number[], with_: RestartPolicy = policy) {
  let history: number[] = [];
  return times.map((now) => {
    const decision = decideRestart(history, now, with_);
    history = decision.crashes;
    return decision;
  });
}

describe('restart policy', () => {
  it('backs off exponentially from the initial delay, capped at the maximum', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => backoffDelayMs(n, policy))).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
    expect(backoffDelayMs(3, { initialDelayMs: 100, maxDelayMs: 250 })).toBe(250);
  });

  it('restarts up to N crashes within the window and refuses the next one', () => {
    const decisions = crashAt([0, 1_000, 2_000, 3_000, 4_000, 5_000]);
    expect(decisions.map((d) => d.restart)).toEqual([true, true, true, true, true, false]);
    expect(decisions.slice(0, 5).map((d) => (d.restart ? [d.restartNumber, d.delayMs] : undefined))).toEqual([
      [1, 500],
      [2, 1000],
      [3, 2000],
      [4, 4000],
      [5, 8000],
    ]);
    expect(decisions[5]!.crashes).toHaveLength(6);
  });

  it('forgets crashes older than the window, so the delay starts small again', () => {
    // Five crashes, then a quiet spell longer than the window: the next crash is restart 1 again.
    const decisions = crashAt([0, 1_000, 2_000, 3_000, 4_000, 4_000 + 300_001]);
    expect(decisions.at(-1)).toMatchObject({ restart: true, restartNumber: 1, delayMs: 500, crashes: [304_001] });
    // A crash exactly one window after an earlier one no longer counts it.
    expect(decideRestart([0, 100], 300_000, policy)).toMatchObject({ restart: true, restartNumber: 2, crashes: [100, 300_000] });
  });

  it('with N = 0, stops at the first crash', () => {
    expect(decideRestart([], 0, { ...policy, maxRestarts: 0 })).toEqual({ restart: false, crashes: [0] });
  });

  it('says what happened in one line, and why it gives up', () => {
    const [first] = crashAt([0]);
    if (!first?.restart) throw new Error('expected a restart');
    expect(restartLine('temporal', 'SIGKILL', first, policy)).toBe('temporal exited (SIGKILL); restarting it in 0.5 s (restart 1 of 5 in 5 min)');
    expect(givingUpMessage('mariadb', 1, 6, policy)).toBe('mariadb crashed 6 times in 5 min (last exit: 1), more than SUPERVISOR_MAX_RESTARTS=5 allows');
  });
});
