// Counter and trigger definitions in MySQL. A definition is stored as the JSON the API parsed (so a
// decimal threshold reads back exactly as given); a trigger's counters are also rows of
// trigger_counters, whose foreign keys refuse a counter in use being deleted and a trigger naming a
// counter that does not exist, however requests interleave.
import type mysql from 'mysql2/promise';
import { inTransaction as inPoolTransaction } from './transaction.ts';
import type { Counter, CounterBody, Trigger, TriggerBody } from '../workflows/triggers.shared.ts';

export const triggerModelErrorCodes = ['UnknownCluster', 'UnknownCounter', 'InUse'] as const;
export type TriggerModelErrorCode = (typeof triggerModelErrorCodes)[number];

/** A definition the model refuses; `names` are the counters or triggers concerned. */
export class TriggerModelError extends Error {
  override name = 'TriggerModelError';
  constructor(
    readonly code: TriggerModelErrorCode,
    message: string,
    readonly names: string[] = [],
  ) {
    super(message);
  }
}

/** A definition as stored: when it was created and last changed. */
export interface Stored {
  createdAt: string;
  updatedAt: string;
}
export type StoredCounter = Counter & Stored;
export type StoredTrigger = Trigger & Stored;

type Row = mysql.RowDataPacket;

const iso = (value: Date | string) => (value instanceof Date ? value.toISOString() : new Date(value).toISOString());
// MariaDB's JSON is LONGTEXT: the driver hands it back as a string.
const json = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T;
const stamps = (row: Row): Stored => ({ createdAt: iso(row.created_at), updatedAt: iso(row.updated_at) });

const counterFrom = (row: Row): StoredCounter => ({ name: row.name as string, ...json<CounterBody>(row.definition), ...stamps(row) });

function triggerFrom(row: Row): StoredTrigger {
  const definition = json<Omit<TriggerBody, 'cluster' | 'enabled'>>(row.definition);
  return { name: row.name as string, cluster: row.cluster as string, enabled: Boolean(row.enabled), ...definition, ...stamps(row) };
}

const quoted = (names: string[]) => names.map((n) => JSON.stringify(n)).join(', ');

export function createTriggerModel(pool: mysql.Pool) {
  const inTransaction = <T>(work: (connection: mysql.PoolConnection) => Promise<T>) => inPoolTransaction(pool, work);

  async function triggersUsing(queryable: mysql.Pool | mysql.PoolConnection, counter: string): Promise<string[]> {
    const [rows] = await queryable.query<Row[]>('SELECT trigger_name FROM trigger_counters WHERE counter_name = ? ORDER BY trigger_name', [counter]);
    return rows.map((r) => r.trigger_name as string);
  }

  return {
    async clusterExists(name: string): Promise<boolean> {
      const [rows] = await pool.query<Row[]>('SELECT 1 FROM clusters WHERE name = ?', [name]);
      return rows.length > 0;
    },

    async listCounters(): Promise<StoredCounter[]> {
      const [rows] = await pool.query<Row[]>('SELECT * FROM counters ORDER BY name');
      return rows.map(counterFrom);
    },

    async getCounter(name: string): Promise<StoredCounter | undefined> {
      const [[row]] = await pool.query<Row[]>('SELECT * FROM counters WHERE name = ?', [name]);
      return row ? counterFrom(row) : undefined;
    },

    /** The named counters that exist (the tick's one read of what it samples), in name order. */
    async listCountersByName(names: readonly string[]): Promise<StoredCounter[]> {
      if (names.length === 0) return [];
      const [rows] = await pool.query<Row[]>('SELECT * FROM counters WHERE name IN (?) ORDER BY name', [[...new Set(names)]]);
      return rows.map(counterFrom);
    },

    /** Creates or replaces a counter; `created` says which. */
    async putCounter(counter: Counter): Promise<{ created: boolean }> {
      const { name, ...definition } = counter;
      const columns = { kind: counter.kind, definition: JSON.stringify(definition) };
      // Affected rows cannot tell (mysql2 asks for found rows: an unchanged row counts as 1, as an insert does).
      return inTransaction(async (connection) => {
        const [[before]] = await connection.query<Row[]>('SELECT name FROM counters WHERE name = ? FOR UPDATE', [name]);
        if (before) await connection.query('UPDATE counters SET ? WHERE name = ?', [columns, name]);
        else await connection.query('INSERT INTO counters SET ?', [{ name, ...columns }]);
        return { created: !before };
      });
    },

    /** The triggers that read a counter, by name. */
    triggersUsingCounter: (name: string): Promise<string[]> => triggersUsing(pool, name),

    /** Deletes a counter no trigger reads (`InUse` naming them otherwise); false when there was none. */
    async deleteCounter(name: string): Promise<boolean> {
      try {
        const [result] = await pool.query<mysql.ResultSetHeader>('DELETE FROM counters WHERE name = ?', [name]);
        return result.affectedRows > 0;
      } catch (error) {
        if ((error as { code?: string }).code !== 'ER_ROW_IS_REFERENCED_2') throw error;
        const users = await triggersUsing(pool, name);
        throw new TriggerModelError('InUse', `Counter ${name} is read by trigger(s) ${quoted(users)}: change or delete them first.`, users);
      }
    },

    async listTriggers(): Promise<StoredTrigger[]> {
      const [rows] = await pool.query<Row[]>('SELECT * FROM triggers ORDER BY name');
      return rows.map(triggerFrom);
    },

    /** A cluster's triggers, enabled or not, in name order (the tick's read). */
    async listTriggersOfCluster(cluster: string): Promise<StoredTrigger[]> {
      const [rows] = await pool.query<Row[]>('SELECT * FROM triggers WHERE cluster = ? ORDER BY name', [cluster]);
      return rows.map(triggerFrom);
    },

    async getTrigger(name: string): Promise<StoredTrigger | undefined> {
      const [[row]] = await pool.query<Row[]>('SELECT * FROM triggers WHERE name = ?', [name]);
      return row ? triggerFrom(row) : undefined;
    },

    /**
     * Creates or replaces a trigger and its counter links in one transaction. `UnknownCluster` or
     * `UnknownCounter` (naming the missing ones) refuse it; `previousCluster` is the cluster it was on
     * before (undefined when created), so both clusters' schedules can be brought up to date.
     */
    async putTrigger(trigger: Trigger): Promise<{ created: boolean; previousCluster: string | undefined }> {
      const { name, cluster, enabled, ...definition } = trigger;
      return inTransaction(async (connection) => {
        const [clusters] = await connection.query<Row[]>('SELECT name FROM clusters WHERE name = ? LOCK IN SHARE MODE', [cluster]);
        if (clusters.length === 0) throw new TriggerModelError('UnknownCluster', `No cluster named ${JSON.stringify(cluster)}.`, [cluster]);
        // Shared locks keep the counters from being deleted before the links are in.
        const [found] = await connection.query<Row[]>('SELECT name FROM counters WHERE name IN (?) LOCK IN SHARE MODE', [trigger.counters]);
        const missing = trigger.counters.filter((c) => !found.some((r) => r.name === c));
        if (missing.length > 0) throw new TriggerModelError('UnknownCounter', `No counter named ${quoted(missing)}.`, missing);
        const [[before]] = await connection.query<Row[]>('SELECT cluster FROM triggers WHERE name = ? FOR UPDATE', [name]);
        const columns = { cluster, enabled, definition: JSON.stringify(definition) };
        if (before) await connection.query('UPDATE triggers SET ? WHERE name = ?', [columns, name]);
        else await connection.query('INSERT INTO triggers SET ?', [{ name, ...columns }]);
        await connection.query('DELETE FROM trigger_counters WHERE trigger_name = ?', [name]);
        await connection.query('INSERT INTO trigger_counters (trigger_name, counter_name) VALUES ?', [[...new Set(trigger.counters)].map((c) => [name, c])]);
        return { created: !before, previousCluster: before?.cluster as string | undefined };
      });
    },

    /** Deletes a trigger (its counter links go with it); the deleted trigger, or undefined when there was none. */
    async deleteTrigger(name: string): Promise<StoredTrigger | undefined> {
      return inTransaction(async (connection) => {
        const [[row]] = await connection.query<Row[]>('SELECT * FROM triggers WHERE name = ? FOR UPDATE', [name]);
        if (!row) return undefined;
        await connection.query('DELETE FROM triggers WHERE name = ?', [name]);
        return triggerFrom(row);
      });
    },

    /** Enables or disables a trigger; the trigger as it is now, or undefined when there is none. */
    async setTriggerEnabled(name: string, enabled: boolean): Promise<StoredTrigger | undefined> {
      await pool.query('UPDATE triggers SET enabled = ? WHERE name = ?', [enabled, name]);
      const [[row]] = await pool.query<Row[]>('SELECT * FROM triggers WHERE name = ?', [name]);
      return row ? triggerFrom(row) : undefined;
    },
  };
}

export type TriggerModel = ReturnType<typeof createTriggerModel>;
