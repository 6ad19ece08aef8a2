// One tick of a cluster's triggers: collect every counter the due triggers need (one collection per
// node), record the samples, evaluate each due trigger and commit the states and firings. The tick is
// keyed by its workflow run: a retried activity returns the committed outcome and fires nothing twice.
import { Context } from '@temporalio/activity';
import type { SshTarget } from '../../workflows/nodes.shared.ts';
import { evaluateTrigger, isDue, type Evaluation, type TriggerState } from '../../workflows/triggerEvaluation.shared.ts';
import { clusterWideCounterKinds, triggerChainWorkflowId, type Counter, type FiringContext, type Sample, type Trigger } from '../../workflows/triggers.shared.ts';
import type { NewFiring, TriggerStateStore } from '../../db/triggerStates.ts';

/** The definitions a tick reads (db/triggers.ts). */
export interface TriggerDefinitions {
  listTriggersOfCluster(cluster: string): Promise<Trigger[]>;
  listCountersByName(names: string[]): Promise<Counter[]>;
  setTriggerEnabled(name: string, enabled: boolean): Promise<unknown>;
}

export interface CounterCollector {
  collect(request: { nodes: SshTarget[]; counters: Counter[]; timeoutMs?: number }, signal?: AbortSignal): Promise<Sample[]>;
}

export interface SampleRecorder {
  /** MySQL, the record: done before the tick commits (a failure retries the tick, samples and all). */
  store(samples: Sample[]): Promise<unknown>;
  /** PyScaler's memcached keys: written while the tick evaluates and commits; never throws. */
  mirror(samples: Sample[], counters: Counter[]): Promise<unknown>;
  /** Deletes samples past their retention. */
  prune(now?: Date): Promise<unknown>;
}

/** Samples past their retention are deleted by a tick at most this often (per worker process). */
const PRUNE_EVERY_MS = 3600_000;

export interface TickDependencies {
  definitions: TriggerDefinitions;
  states: TriggerStateStore;
  /** The cluster's active nodes as SSH targets (the fleet model's activeNodeTargets). */
  activeNodes(cluster: string): Promise<SshTarget[]>;
  collector: CounterCollector;
  samples: SampleRecorder;
  /** Brings the cluster's schedule in step after the circuit breaker disabled triggers (it pauses with none enabled). */
  syncSchedule?(cluster: string): Promise<void>;
  /** The time (tests pass a clock). */
  now?: () => number;
}

/** A chain to start: the firing's ID (its row holds the chain and context). */
export interface ChainStart {
  trigger: string;
  firingId: number;
  workflowId: string;
}

export interface TickOutcome {
  tickId: string;
  at: string;
  /** Triggers evaluated (due and enabled) of those defined on the cluster. */
  evaluated: number;
  triggers: number;
  nodes: number;
  samples: number;
  failedSamples: number;
  fire: ChainStart[];
  /** Triggers whose circuit breaker tripped: they are disabled now. */
  tripped: string[];
  /** Nodes without samples for a trigger's heldFor, by trigger. */
  unreachable: { trigger: string; nodes: string[] }[];
}

/** A dry run's answer: what the trigger would do now, and the samples it saw. */
export interface TriggerPreview {
  trigger: string;
  at: string;
  samples: Sample[];
  evaluation: Pick<Evaluation, 'condition' | 'verdicts' | 'fire' | 'tripped' | 'reason'> & { state: TriggerState };
}

/** A scheduled tick older than this is evaluated at its real time (a tick that waited so long is no longer on its schedule). */
const MAX_SCHEDULED_LAG_MS = 60_000;

/**
 * The time a tick evaluates at: its scheduled time when it has one (so consecutive ticks are exactly an
 * interval apart and a condition held for heldFor fires at the tick heldFor after the first breach, not
 * one interval later because this tick's collection took a little less time than the first one's), else now.
 */
export function tickTime(scheduledAt: string | undefined, now: number): number {
  const scheduled = scheduledAt ? Date.parse(scheduledAt) : NaN;
  return Number.isFinite(scheduled) && scheduled <= now && now - scheduled <= MAX_SCHEDULED_LAG_MS ? scheduled : now;
}

/**
 * The nodes whose samples a trigger expects: none when all its counters are cluster-wide (cf-process,
 * queue-backlog: one value under a pseudo-node), so its cluster's nodes are not reported unreachable.
 */
export function sampledNodes(trigger: Pick<Trigger, 'counters'>, counters: readonly Counter[], nodes: readonly string[]): readonly string[] {
  const perNode = trigger.counters.some((name) => {
    const counter = counters.find((c) => c.name === name);
    return !counter || !clusterWideCounterKinds.includes(counter.kind);
  });
  return perNode ? nodes : [];
}

export function createTickActivities(deps: TickDependencies) {
  const now = deps.now ?? Date.now;
  let prunedAt = 0;
  /** The cluster's active nodes (or the named ones of them), and their samples of `counters`: one collection per node. */
  const collectOn = async (cluster: string, counters: Counter[], only?: string[]): Promise<{ nodes: SshTarget[]; samples: Sample[] }> => {
    const nodes = (await deps.activeNodes(cluster)).filter((node) => !only || only.includes(node.node));
    const samples = nodes.length && counters.length ? await deps.collector.collect({ nodes, counters }, Context.current().cancellationSignal) : [];
    return { nodes, samples };
  };
  return {
    /** Samples counters now, recording nothing: the counter editor's test against one node. */
    async sampleCounters(request: { cluster: string; counters: Counter[]; nodes?: string[] }): Promise<Sample[]> {
      return (await collectOn(request.cluster, request.counters, request.nodes)).samples;
    },

    /** Evaluates one trigger on fresh samples from its state, committing nothing: what would fire, and why. */
    async previewTrigger(request: { trigger: Trigger }): Promise<TriggerPreview> {
      const { trigger } = request;
      const counters = await deps.definitions.listCountersByName(trigger.counters);
      const { nodes, samples } = await collectOn(trigger.cluster, counters);
      const state = (await deps.states.states([trigger.name])).get(trigger.name)!;
      const at = now();
      const { condition, verdicts, fire, tripped, reason, state: next } = evaluateTrigger(trigger, counters, state, samples, sampledNodes(trigger, counters, nodes.map((n) => n.node)), at);
      return { trigger: trigger.name, at: new Date(at).toISOString(), samples, evaluation: { condition, verdicts, fire, tripped, reason, state: next } };
    },

    /** `scheduledAt`: the schedule's time for this tick (the evaluation's clock; see tickTime). */
    async evaluateTriggerTick(request: { cluster: string; tickId: string; scheduledAt?: string }): Promise<TickOutcome> {
      const { cluster, tickId } = request;
      const committed = await deps.states.tickOutcome<TickOutcome>(cluster, tickId);
      if (committed) return committed;

      const triggers = (await deps.definitions.listTriggersOfCluster(cluster)).filter((t) => t.enabled);
      const startedAt = tickTime(request.scheduledAt, now());
      const previous = await deps.states.states(triggers.map((t) => t.name));
      const due = triggers.filter((t) => isDue(t, previous.get(t.name)!, startedAt));
      const counterNames = [...new Set(due.flatMap((t) => t.counters))];
      const counters = counterNames.length ? await deps.definitions.listCountersByName(counterNames) : [];
      const { nodes, samples } = due.length ? await collectOn(cluster, counters) : { nodes: [], samples: [] };
      if (samples.length) await deps.samples.store(samples);
      // The memcached mirror (thousands of writes at scale) does not hold up the evaluation.
      const mirroring = samples.length ? deps.samples.mirror(samples, counters) : undefined;

      // Scheduled: the tick's time; otherwise the time after collection, as before.
      const at = request.scheduledAt ? startedAt : now();
      const nodeNames = nodes.map((n) => n.node);
      const tripped: string[] = [];
      const committing = deps.states.commitTick<TickOutcome>(cluster, tickId, due.map((t) => t.name), (locked) => {
        const states = new Map<string, TriggerState>();
        const firings: NewFiring[] = [];
        const unreachable: TickOutcome['unreachable'] = [];
        for (const trigger of due) {
          const evaluation = evaluateTrigger(trigger, counters, locked.get(trigger.name)!, samples, sampledNodes(trigger, counters, nodeNames), at);
          states.set(trigger.name, evaluation.state);
          if (evaluation.tripped) tripped.push(trigger.name);
          if (evaluation.unreachable.length) unreachable.push({ trigger: trigger.name, nodes: evaluation.unreachable });
          if (!evaluation.fire) continue;
          const worst = evaluation.verdicts.find((v) => v.condition === 'breach');
          const context: FiringContext = {
            trigger: trigger.name,
            cluster,
            cause: 'schedule',
            firedAt: new Date(at).toISOString(),
            values: Object.fromEntries(evaluation.verdicts.map((v) => [v.counter, v.value])),
            node: worst?.node ?? null,
          };
          firings.push({ context, chain: trigger.chain, chainWorkflowId: triggerChainWorkflowId(cluster, trigger.name) });
        }
        return {
          states,
          firings,
          result: (ids) => ({
            tickId,
            at: new Date(at).toISOString(),
            evaluated: due.length,
            triggers: triggers.length,
            nodes: nodes.length,
            samples: samples.length,
            failedSamples: samples.filter((s) => s.value === null).length,
            fire: firings.map((f, i) => ({ trigger: f.context.trigger, firingId: ids[i]!, workflowId: f.chainWorkflowId })),
            tripped,
            unreachable,
          }),
        };
      });
      const [outcome] = await Promise.all([committing, mirroring]);
      // Disabling is idempotent, so a retry after the commit repeats it harmlessly.
      for (const name of outcome.tripped) await deps.definitions.setTriggerEnabled(name, false);
      if (outcome.tripped.length) await deps.syncSchedule?.(cluster);
      if (now() - prunedAt >= PRUNE_EVERY_MS) {
        prunedAt = now();
        await deps.samples.prune(new Date(prunedAt));
      }
      return outcome;
    },
  };
}

export type TickActivities = ReturnType<typeof createTickActivities>;
