// Triggers at work: their state, firings and samples for the pages; a chain run by hand ("Run chain
// now", PyScaler's triggerExecute); dry runs; and a cluster's sampling paused or resumed.
import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Rollup, SampleStore } from '../db/samples.ts';
import type { Firing, TriggerStateStore } from '../db/triggerStates.ts';
import type { StoredTrigger, TriggerModel } from '../db/triggers.ts';
import type { TriggerPreview } from '../activities/triggers/tick.ts';
import { triggerChain } from '../workflows/triggerChain.ts';
import { triggerPreview } from '../workflows/triggerPreview.ts';
import type { TriggerState } from '../workflows/triggerEvaluation.shared.ts';
import { triggerChainWorkflowId, triggerPreviewWorkflowId, type CounterBody, type Sample, type Trigger } from '../workflows/triggers.shared.ts';
import { ServiceError } from './errors.ts';
import type { WorkflowLinks } from './executions.ts';
import type { TriggerScheduler, TriggerScheduleView } from './triggerSchedules.ts';

export interface TriggerRunsDependencies {
  temporal: Client;
  /** Where chains and dry runs run (TRIGGERS_TASK_QUEUE, suffixed in tests). */
  taskQueue: string;
  model: TriggerModel;
  states: TriggerStateStore;
  samples: Pick<SampleStore, 'series' | 'rollups'>;
  scheduler: Pick<TriggerScheduler, 'describe' | 'setPaused'>;
  links: WorkflowLinks;
}

export type FiringView = Firing & { webUiUrl: string | null };

export interface TriggerStatus {
  trigger: StoredTrigger;
  state: TriggerState;
  schedule: TriggerScheduleView | null;
  firings: FiringView[];
}

/** A stored trigger as its schema takes it (no name or timestamps). */
function definitionOf(trigger: StoredTrigger): Omit<Trigger, 'name'> {
  const { name: _name, createdAt: _created, updatedAt: _updated, ...definition } = trigger;
  return definition;
}

export function createTriggerRunsService(deps: TriggerRunsDependencies) {
  const requireTrigger = async (name: string): Promise<StoredTrigger> => {
    const trigger = await deps.model.getTrigger(name);
    if (!trigger) throw new ServiceError(404, 'unknown_trigger', `No trigger named ${JSON.stringify(name)}.`);
    return trigger;
  };
  const firingView = (firing: Firing): FiringView => ({ ...firing, webUiUrl: firing.chainRunId ? deps.links.execution(firing.chainWorkflowId, firing.chainRunId) : null });

  return {
    /** Every trigger with its state (the Triggers page), optionally of one cluster. */
    async overview(cluster?: string): Promise<{ trigger: StoredTrigger; state: TriggerState }[]> {
      const triggers = cluster ? await deps.model.listTriggersOfCluster(cluster) : await deps.model.listTriggers();
      const states = await deps.states.states(triggers.map((t) => t.name));
      return triggers.map((trigger) => ({ trigger, state: states.get(trigger.name)! }));
    },

    async status(name: string): Promise<TriggerStatus> {
      const trigger = await requireTrigger(name);
      const [states, schedule, firings] = await Promise.all([deps.states.states([name]), deps.scheduler.describe(trigger.cluster), deps.states.firings(name, 20)]);
      return { trigger, state: states.get(name)!, schedule, firings: firings.map(firingView) };
    },

    /** The trigger's samples over the last `hours`, per counter (every node's), oldest first. */
    async samples(name: string, hours: number): Promise<{ from: string; to: string; series: Record<string, Sample[]> }> {
      const trigger = await requireTrigger(name);
      const to = new Date();
      const from = new Date(to.getTime() - hours * 3600_000);
      const series = Object.fromEntries(await Promise.all(trigger.counters.map(async (counter) => [counter, await deps.samples.series({ counter, from, to })] as const)));
      return { from: from.toISOString(), to: to.toISOString(), series };
    },

    /** The trigger's per-minute roll-ups over the last `hours`, per counter (every node's), oldest first: a day's chart, the list's sparklines. */
    async minutes(name: string, hours: number): Promise<{ from: string; to: string; series: Record<string, Rollup[]> }> {
      const trigger = await requireTrigger(name);
      const to = new Date();
      const from = new Date(to.getTime() - hours * 3600_000);
      const series = Object.fromEntries(await Promise.all(trigger.counters.map(async (counter) => [counter, await deps.samples.rollups({ counter, from, to })] as const)));
      return { from: from.toISOString(), to: to.toISOString(), series };
    },

    /** Starts the trigger's chain now; 409 while one runs (the workflow ID is the trigger's lock). */
    async runNow(name: string): Promise<{ workflowId: string; runId: string; webUiUrl: string }> {
      const trigger = await requireTrigger(name);
      const workflowId = triggerChainWorkflowId(trigger.cluster, trigger.name);
      try {
        const handle = await deps.temporal.workflow.start(triggerChain, {
          workflowId,
          taskQueue: deps.taskQueue,
          args: [{ cluster: trigger.cluster, trigger: trigger.name }],
          workflowIdConflictPolicy: 'FAIL',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        });
        return { workflowId, runId: handle.firstExecutionRunId, webUiUrl: deps.links.execution(workflowId, handle.firstExecutionRunId) };
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        const running = await deps.temporal.workflow.getHandle(workflowId).describe();
        throw new ServiceError(409, 'chain_running', `Trigger ${name}'s chain is already running: one chain per trigger at a time.`, {
          workflowId,
          webUiUrl: deps.links.execution(workflowId, running.runId),
        });
      }
    },

    /** Evaluates the trigger on fresh samples, changing nothing: what would fire now, and why. */
    async preview(name: string): Promise<TriggerPreview> {
      const trigger = await requireTrigger(name);
      return (await deps.temporal.workflow.execute(triggerPreview, {
        workflowId: triggerPreviewWorkflowId(name, randomUUID()),
        taskQueue: deps.taskQueue,
        args: [{ kind: 'trigger', name, trigger: definitionOf(trigger) }],
        workflowExecutionTimeout: '2 minutes',
      })) as TriggerPreview;
    },

    /** Samples a counter (saved or not) on a cluster's active nodes, recording nothing: the counter editor's test. */
    async testCounter(name: string, request: { cluster: string; counter: CounterBody; nodes?: string[] }): Promise<Sample[]> {
      const result = await deps.temporal.workflow.execute(triggerPreview, {
        workflowId: triggerPreviewWorkflowId(name, randomUUID()),
        taskQueue: deps.taskQueue,
        args: [{ kind: 'counter', cluster: request.cluster, name, counter: request.counter, ...(request.nodes ? { nodes: request.nodes } : {}) }],
        workflowExecutionTimeout: '2 minutes',
      });
      return (result as { samples: Sample[] }).samples;
    },

    sampling: (cluster: string) => deps.scheduler.describe(cluster),
    setSamplingPaused: (cluster: string, paused: boolean, by: string) => deps.scheduler.setPaused(cluster, paused, by),
  };
}

export type TriggerRunsService = ReturnType<typeof createTriggerRunsService>;
