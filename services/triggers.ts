// Counter and trigger definitions: requests arrive parsed with the vocabulary's schemas
// (workflows/triggers.shared.ts) and are checked here against what needs config or other rows (an
// http counter's host, a clear threshold against its counter), then stored by the model. Every change
// to a trigger ends with the scheduler bringing its cluster's sampling schedule up to date.
import { TriggerModelError, type StoredCounter, type StoredTrigger, type TriggerModel, type TriggerModelErrorCode } from '../db/triggers.ts';
import type { Counter, CounterBody, Comparison, TriggerBody } from '../workflows/triggers.shared.ts';
import { ServiceError, validationError } from './errors.ts';

/** Keeps a cluster's sampling schedule in step with its triggers (created, updated, paused or deleted to match). */
export interface TriggerScheduler {
  sync(cluster: string): Promise<void>;
}

export interface TriggersServiceDependencies {
  model: TriggerModel;
  scheduler: TriggerScheduler;
  /** Trigger states: a disabled or deleted trigger's is forgotten (it starts inactive when back). */
  states?: { resetState(name: string): Promise<void> };
  /** Hosts an http counter's URL may name (config.counters.allowedHosts). */
  counterAllowedHosts: readonly string[];
}

// Stand-ins for the placeholders while the template is parsed as a URL.
const placeholderHosts: Record<string, string> = { '{host}': 'host.placeholder.invalid', '{node}': 'node.placeholder.invalid' };
const bare = (host: string) => host.toLowerCase().replace(/^\[(.*)\]$/, '$1');

/**
 * What is wrong with an http counter's URL template, or undefined: its host must be one of
 * `allowedHosts`, or be exactly the `{host}` or `{node}` placeholder (the node it stands for is
 * checked when sampling).
 */
export function counterUrlProblem(template: string, allowedHosts: readonly string[]): string | undefined {
  let probe = template;
  for (const [placeholder, stand] of Object.entries(placeholderHosts)) probe = probe.replaceAll(placeholder, stand);
  let host: string;
  try {
    host = bare(new URL(probe).hostname);
  } catch {
    return 'must be an http:// or https:// URL template, such as http://{host}:9100/metrics';
  }
  if (Object.values(placeholderHosts).includes(host)) return undefined;
  if (Object.values(placeholderHosts).some((stand) => host.includes(stand))) return 'a placeholder must be the whole host ({host} or {node}), not part of it';
  if (allowedHosts.some((allowed) => bare(allowed) === host)) return undefined;
  return `host ${host} is not in COUNTER_ALLOWED_HOSTS (${allowedHosts.join(', ')}); use one of those, or {host} for each node`;
}

/**
 * What is wrong with a clear threshold for a counter, or undefined: it must be on the clearing side of
 * the counter's threshold (at or below it for `>`/`>=`, at or above it for `<`/`<=`); `=` has no side.
 */
export function clearThresholdProblem(clearThreshold: number, comparison: Comparison, threshold: number): string | undefined {
  switch (comparison) {
    case '>':
    case '>=':
      return clearThreshold <= threshold ? undefined : `must be at most the counter's threshold ${threshold} (it breaches when ${comparison} ${threshold})`;
    case '<':
    case '<=':
      return clearThreshold >= threshold ? undefined : `must be at least the counter's threshold ${threshold} (it breaches when ${comparison} ${threshold})`;
    case '=':
      return `does not apply to a counter compared with = (use keepFiringForMs)`;
  }
}

/** The model's refusals as API errors: an unknown cluster is 404, an unknown counter named in a body 422, a counter in use 409. */
function serviceErrorOf(error: TriggerModelError): ServiceError {
  const answers: Record<TriggerModelErrorCode, () => ServiceError> = {
    UnknownCluster: () => new ServiceError(404, 'unknown_cluster', error.message),
    UnknownCounter: () => new ServiceError(422, 'unknown_counter', error.message, { field: 'counters', counters: error.names }),
    InUse: () => new ServiceError(409, 'in_use', error.message, { triggers: error.names }),
  };
  return answers[error.code]();
}

async function modelCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof TriggerModelError) throw serviceErrorOf(error);
    throw error;
  }
}

export function createTriggersService(deps: TriggersServiceDependencies) {
  const { model, scheduler } = deps;

  async function requireCounter(name: string): Promise<StoredCounter> {
    const counter = await model.getCounter(name);
    if (!counter) throw new ServiceError(404, 'unknown_counter', `No counter named ${JSON.stringify(name)}.`);
    return counter;
  }

  async function requireTrigger(name: string): Promise<StoredTrigger> {
    const trigger = await model.getTrigger(name);
    if (!trigger) throw new ServiceError(404, 'unknown_trigger', `No trigger named ${JSON.stringify(name)}.`);
    return trigger;
  }

  async function requireCluster(name: string): Promise<void> {
    if (!(await model.clusterExists(name))) throw new ServiceError(404, 'unknown_cluster', `No cluster named ${JSON.stringify(name)}.`);
  }

  function checkCounter(body: CounterBody): void {
    if (body.kind !== 'http') return;
    const problem = counterUrlProblem(body.url, deps.counterAllowedHosts);
    if (problem) throw validationError('url', problem);
  }

  /** A counter's new threshold or comparison must leave the clear thresholds of the triggers reading it on their clearing side. */
  async function checkClearThresholdsOf(counter: Counter): Promise<void> {
    for (const name of await model.triggersUsingCounter(counter.name)) {
      const trigger = await model.getTrigger(name);
      // A trigger with its own comparison and threshold does not depend on the counter's.
      if (trigger?.clearThreshold == null || trigger.comparison != null) continue;
      const problem = clearThresholdProblem(trigger.clearThreshold, counter.comparison, counter.threshold);
      if (problem) {
        throw new ServiceError(409, 'clear_threshold_conflict', `Trigger ${name}'s clearThreshold ${trigger.clearThreshold} ${problem}: change the trigger first.`, { field: 'threshold', triggers: [name] });
      }
    }
  }

  async function checkTrigger(body: TriggerBody): Promise<void> {
    await requireCluster(body.cluster);
    const counters = await model.listCountersByName(body.counters);
    const missing = body.counters.filter((name) => !counters.some((c) => c.name === name));
    if (missing.length > 0) {
      throw new ServiceError(422, 'unknown_counter', `No counter named ${missing.map((n) => JSON.stringify(n)).join(', ')}.`, { field: 'counters', counters: missing });
    }
    // The schema allows a clear threshold with one counter only.
    if (body.clearThreshold != null) {
      const own = body.comparison != null && body.threshold != null ? { comparison: body.comparison, threshold: body.threshold } : counters[0]!;
      const problem = clearThresholdProblem(body.clearThreshold, own.comparison, own.threshold);
      if (problem) throw validationError('clearThreshold', problem);
    }
  }

  return {
    model,

    /** A counter definition held to the same checks as a saved one (its URL's host): for a test before saving. */
    checkedCounter(body: CounterBody): CounterBody {
      checkCounter(body);
      return body;
    },

    listCounters: () => model.listCounters(),
    getCounter: requireCounter,

    /** Creates or replaces a counter; the answer is the counter as stored. */
    async putCounter(name: string, body: CounterBody): Promise<{ counter: StoredCounter; created: boolean }> {
      checkCounter(body);
      const counter: Counter = { name, ...body };
      await checkClearThresholdsOf(counter);
      const { created } = await model.putCounter(counter);
      return { counter: await requireCounter(name), created };
    },

    /** Deletes a counter no trigger reads: 404 when there is none, 409 naming the triggers that read it. */
    async deleteCounter(name: string): Promise<void> {
      if (!(await modelCall(() => model.deleteCounter(name)))) throw new ServiceError(404, 'unknown_counter', `No counter named ${JSON.stringify(name)}.`);
    },

    /** Every trigger, or a cluster's (404 for a cluster that does not exist). */
    async listTriggers(cluster?: string): Promise<StoredTrigger[]> {
      if (cluster === undefined) return model.listTriggers();
      await requireCluster(cluster);
      return model.listTriggersOfCluster(cluster);
    },

    getTrigger: requireTrigger,

    /** Creates or replaces a trigger, then syncs its cluster's schedule (and its old cluster's, when it moved). */
    async putTrigger(name: string, body: TriggerBody): Promise<{ trigger: StoredTrigger; created: boolean }> {
      await checkTrigger(body);
      const { created, previousCluster } = await modelCall(() => model.putTrigger({ name, ...body }));
      await scheduler.sync(body.cluster);
      if (previousCluster !== undefined && previousCluster !== body.cluster) await scheduler.sync(previousCluster);
      return { trigger: await requireTrigger(name), created };
    },

    /** Deletes a trigger (404 when there is none), then syncs its cluster's schedule. */
    async deleteTrigger(name: string): Promise<void> {
      const deleted = await model.deleteTrigger(name);
      if (!deleted) throw new ServiceError(404, 'unknown_trigger', `No trigger named ${JSON.stringify(name)}.`);
      await deps.states?.resetState(name);
      await scheduler.sync(deleted.cluster);
    },

    /** Enables or disables a trigger (404 when there is none), then syncs its cluster's schedule. */
    async setTriggerEnabled(name: string, enabled: boolean): Promise<StoredTrigger> {
      const trigger = await model.setTriggerEnabled(name, enabled);
      if (!trigger) throw new ServiceError(404, 'unknown_trigger', `No trigger named ${JSON.stringify(name)}.`);
      if (!enabled) await deps.states?.resetState(name);
      await scheduler.sync(trigger.cluster);
      return trigger;
    },
  };
}

export type TriggersService = ReturnType<typeof createTriggersService>;
