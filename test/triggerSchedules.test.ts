// A cluster's trigger schedule on the real Temporal dev server: created at the smallest enabled
// interval, updated when the intervals change, paused when no trigger is enabled, and it ticks.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createTriggerScheduler } from '../services/triggerSchedules.ts';
import { TRIGGERS_TASK_QUEUE, triggerTickScheduleId } from '../workflows/triggers.shared.ts';
import { useStack } from './support/fixture.ts';

describe('trigger schedules (services/triggerSchedules.ts)', () => {
  const stack = useStack({ workers: false });
  // A cluster name of this block's own: schedules are per namespace, and test files share one.
  const cluster = `s${stack.suffix.replace(/[^a-z0-9]/g, '').slice(-12)}`;
  let intervals: number[] = [];
  // The cluster's triggers as the scheduler reads them: one enabled trigger per interval, and a disabled one.
  const definitions = { listTriggersOfCluster: async () => [...intervals.map((intervalMs) => ({ enabled: true, intervalMs })), { enabled: false, intervalMs: 1000 }] };
  const scheduler = () => createTriggerScheduler({ temporal: stack.env.client, taskQueue: TRIGGERS_TASK_QUEUE + stack.suffix, definitions });
  afterAll(async () => {
    await scheduler().remove(cluster);
  });

  it('ticks at the smallest enabled interval, follows changes, and pauses with no enabled trigger', async () => {
    expect(await scheduler().describe(cluster)).toBeNull();
    intervals = [3000, 1000];
    await scheduler().sync(cluster);
    expect(await scheduler().describe(cluster)).toMatchObject({ scheduleId: triggerTickScheduleId(cluster), paused: false, intervalMs: 1000 });

    // It starts tick workflows (none runs them here: no worker polls this block's queue).
    await vi.waitFor(async () => {
      const ticks = stack.env.client.workflow.list({ query: `WorkflowType = 'triggerTick' AND TaskQueue = '${TRIGGERS_TASK_QUEUE + stack.suffix}'` });
      let count = 0;
      for await (const tick of ticks) if (tick.workflowId.startsWith(`trigger-tick:${cluster}`)) count++;
      expect(count).toBeGreaterThan(0);
    }, { timeout: 15_000, interval: 500 });

    intervals = [5000];
    await scheduler().sync(cluster);
    expect(await scheduler().describe(cluster)).toMatchObject({ paused: false, intervalMs: 5000 });

    intervals = [];
    await scheduler().sync(cluster);
    expect(await scheduler().describe(cluster)).toMatchObject({ paused: true, note: 'paused: no enabled trigger on this cluster' });

    intervals = [2000];
    await scheduler().sync(cluster);
    expect(await scheduler().describe(cluster)).toMatchObject({ paused: false, intervalMs: 2000 });
    await scheduler().setPaused(cluster, true, 'ops');
    expect(await scheduler().describe(cluster)).toMatchObject({ paused: true, note: 'paused by ops' });
  });
});
