// Each cluster's triggers are evaluated by one Temporal Schedule (`trigger-tick:<cluster>`, visible in
// the Web UI's Schedules page and `temporal schedule list`). It ticks at the smallest interval of the
// cluster's enabled triggers; with none enabled it is paused, so disabling a trigger pauses its
// schedule when it was the last one. Overlapping ticks are skipped: a slow tick never piles up.
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { ServiceError } from './errors.ts';
import { FleetDomain } from '../temporal/searchAttributes.ts';
import { triggerTick } from '../workflows/triggerTick.ts';
import { MIN_INTERVAL_MS, triggerTickScheduleId, triggerTickWorkflowIdPrefix } from '../workflows/triggers.shared.ts';

export interface TriggerSchedulerDependencies {
  temporal: Client;
  /** Where tick workflows run (TRIGGERS_TASK_QUEUE, suffixed in tests). */
  taskQueue: string;
  /** The cluster's triggers (db/triggers.ts): the schedule ticks for the enabled ones. */
  definitions: { listTriggersOfCluster(cluster: string): Promise<{ enabled: boolean; intervalMs: number }[]> };
}

export interface TriggerScheduleView {
  scheduleId: string;
  paused: boolean;
  note: string | null;
  intervalMs: number | null;
  nextTickAt: string | null;
  lastTickAt: string | null;
}

export function createTriggerScheduler(deps: TriggerSchedulerDependencies) {
  const handleOf = (cluster: string) => deps.temporal.schedule.getHandle(triggerTickScheduleId(cluster));

  function optionsFor(cluster: string, everyMs: number): ScheduleOptions {
    return {
      scheduleId: triggerTickScheduleId(cluster),
      spec: { intervals: [{ every: everyMs }] },
      action: {
        type: 'startWorkflow',
        workflowType: triggerTick,
        args: [{ cluster }],
        taskQueue: deps.taskQueue,
        workflowId: triggerTickWorkflowIdPrefix(cluster),
        // A tick is short; one that cannot finish within a few intervals is stuck, and the next one takes over.
        workflowExecutionTimeout: Math.max(60_000, 5 * everyMs),
        typedSearchAttributes: [{ key: FleetDomain, value: 'triggers' }],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: Math.max(60_000, everyMs) },
      state: { paused: false, note: `ticks every ${everyMs} ms: the smallest interval of the cluster's enabled triggers` },
    };
  }

  return {
    /** Makes the cluster's schedule match its enabled triggers (create, update, pause). */
    async sync(cluster: string): Promise<void> {
      const intervals = (await deps.definitions.listTriggersOfCluster(cluster)).filter((t) => t.enabled).map((t) => t.intervalMs);
      const handle = handleOf(cluster);
      if (intervals.length === 0) {
        await handle.pause('paused: no enabled trigger on this cluster').catch((error: unknown) => {
          if (!(error instanceof ScheduleNotFoundError)) throw error;
        });
        return;
      }
      const options = optionsFor(cluster, Math.max(MIN_INTERVAL_MS, Math.min(...intervals)));
      try {
        await deps.temporal.schedule.create(options);
      } catch (error) {
        if (!(error instanceof ScheduleAlreadyRunning)) throw error;
        await handle.update((previous) => ({ ...previous, spec: options.spec, action: options.action, policies: options.policies, state: { ...previous.state, ...options.state } }));
      }
    },

    /** Pauses or resumes a cluster's sampling by hand (the schedule stays; its note says who paused it). */
    async setPaused(cluster: string, paused: boolean, by: string): Promise<void> {
      const handle = handleOf(cluster);
      try {
        if (paused) await handle.pause(`paused by ${by}`);
        else await handle.unpause(`resumed by ${by}`);
      } catch (error) {
        if (error instanceof ScheduleNotFoundError) throw new ServiceError(404, 'no_sampling_schedule', `Cluster ${cluster} has no sampling schedule: it has never had a trigger.`);
        throw error;
      }
    },

    /** The schedule as the UI shows it, or null when the cluster has none. */
    async describe(cluster: string): Promise<TriggerScheduleView | null> {
      try {
        const description = await handleOf(cluster).describe();
        const every = description.spec.intervals?.[0]?.every;
        return {
          scheduleId: description.scheduleId,
          paused: description.state.paused,
          note: description.state.note ?? null,
          intervalMs: typeof every === 'number' ? every : null,
          nextTickAt: description.info.nextActionTimes[0]?.toISOString() ?? null,
          lastTickAt: description.info.recentActions.at(-1)?.takenAt.toISOString() ?? null,
        };
      } catch (error) {
        if (error instanceof ScheduleNotFoundError) return null;
        throw error;
      }
    },

    /** Removes the cluster's schedule (its cluster is gone). */
    async remove(cluster: string): Promise<void> {
      await handleOf(cluster).delete().catch((error: unknown) => {
        if (!(error instanceof ScheduleNotFoundError)) throw error;
      });
    },
  };
}

export type TriggerScheduler = ReturnType<typeof createTriggerScheduler>;
