// Counter and trigger definitions in memory, refusing what the MySQL model's foreign keys refuse (an
// unknown cluster or counter, a counter in use), for the API's unit tests; test/triggers.test.ts
// checks the MySQL model itself. A recording scheduler stands in for the Temporal schedule sync.
import { TriggerModelError, type StoredCounter, type StoredTrigger, type TriggerModel } from '../../../db/triggers.ts';
import type { TriggerScheduler } from '../../../services/triggers.ts';
import type { Counter, Trigger } from '../../../workflows/triggers.shared.ts';

export function memoryTriggerModel(clusters: string[] = ['web']) {
  const counters = new Map<string, StoredCounter>();
  const triggers = new Map<string, StoredTrigger>();
  const now = () => new Date().toISOString();
  const byName = <T extends { name: string }>(map: Map<string, T>) => [...map.values()].sort((a, b) => a.name.localeCompare(b.name));
  // Copies, as rows read back from MySQL would be.
  const copy = <T>(value: T): T => structuredClone(value);
  const users = (counter: string) => byName(triggers).filter((t) => t.counters.includes(counter)).map((t) => t.name);

  const model: TriggerModel = {
    clusterExists: async (name) => clusters.includes(name),
    listCounters: async () => copy(byName(counters)),
    getCounter: async (name) => copy(counters.get(name)),
    listCountersByName: async (names) => copy(byName(counters).filter((c) => names.includes(c.name))),
    async putCounter(counter: Counter) {
      const before = counters.get(counter.name);
      counters.set(counter.name, { ...copy(counter), createdAt: before?.createdAt ?? now(), updatedAt: now() });
      return { created: !before };
    },
    triggersUsingCounter: async (name) => users(name),
    async deleteCounter(name) {
      if (users(name).length > 0) throw new TriggerModelError('InUse', `Counter ${name} is read by trigger(s) ${users(name).join(', ')}.`, users(name));
      return counters.delete(name);
    },
    listTriggers: async () => copy(byName(triggers)),
    listTriggersOfCluster: async (cluster) => copy(byName(triggers).filter((t) => t.cluster === cluster)),
    getTrigger: async (name) => copy(triggers.get(name)),
    async putTrigger(trigger: Trigger) {
      if (!clusters.includes(trigger.cluster)) throw new TriggerModelError('UnknownCluster', `No cluster named ${trigger.cluster}.`, [trigger.cluster]);
      const missing = trigger.counters.filter((c) => !counters.has(c));
      if (missing.length > 0) throw new TriggerModelError('UnknownCounter', `No counter named ${missing.join(', ')}.`, missing);
      const before = triggers.get(trigger.name);
      triggers.set(trigger.name, { ...copy(trigger), createdAt: before?.createdAt ?? now(), updatedAt: now() });
      return { created: !before, previousCluster: before?.cluster };
    },
    async deleteTrigger(name) {
      const before = triggers.get(name);
      triggers.delete(name);
      return before;
    },
    async setTriggerEnabled(name, enabled) {
      const trigger = triggers.get(name);
      if (!trigger) return undefined;
      trigger.enabled = enabled;
      return copy(trigger);
    },
  };
  return { model, counters, triggers };
}

/** A scheduler that records the clusters it is asked to sync, in order. */
export function recordingScheduler() {
  const synced: string[] = [];
  const scheduler: TriggerScheduler = {
    sync: async (cluster) => {
      synced.push(cluster);
    },
  };
  return { scheduler, synced };
}
