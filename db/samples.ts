// Counter performance data. Every sample goes to MySQL (counter_samples, with per-minute roll-ups in
// counter_rollups) and to memcached under PyScaler's keys, so tools that read those keep working:
// `ssh_sshcounter.<node>.<counter>` is the breach count (+1 when the comparison holds, 0 when it
// does not, unchanged when the sample failed) and `…<counter>.<YYYYmmddHHMM>` the value (UTC minute),
// both with a TTL of a day. MySQL is the record (a failure throws); memcached is best effort.
import type mysql from 'mysql2/promise';
import type memjs from 'memjs';
import { breaches, type Counter, type CounterKind, type Sample } from '../workflows/triggers.shared.ts';

/** The seed's key prefixes, by counter kind (PyScaler's `<app>_<model>` cache prefix). */
export const MEMCACHED_PREFIXES: Record<CounterKind, string> = {
  ssh: 'ssh_sshcounter.',
  http: 'http_httpcounter.',
  'cf-process': 'cf_cfcounter.',
  'queue-backlog': 'temporal_queuebacklog.',
};
export const MEMCACHED_TTL_SECONDS = 86_400;
const MAX_KEY_BYTES = 250;
const MAX_ERROR_CHARS = 500;

/** `YYYYmmddHHMM` of an ISO time, in UTC (what PyScaler's strftime wrote). */
export function minuteStamp(at: string | Date): string {
  return new Date(at).toISOString().replace(/[-:T]/g, '').slice(0, 12);
}

// memcached keys may not hold spaces or control characters (a CF app name may).
const keyPart = (text: string) => text.replace(/[\s\p{Cc}%]/gu, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** The breach-count key and the value key of one sample. */
export function memcachedKeys(kind: CounterKind, node: string, counter: string, at: string | Date): { count: string; value: string } {
  const count = `${MEMCACHED_PREFIXES[kind]}${keyPart(node)}.${keyPart(counter)}`;
  return { count, value: `${count}.${minuteStamp(at)}` };
}

export interface SampleStoreOptions {
  /** Samples are kept this many days (COUNTER_RETENTION_DAYS); roll-ups `rollupRetentionFactor` times as long. */
  retentionDays: number;
  rollupRetentionFactor?: number;
  /** memcached writes in flight at once, and the longest they may take together. */
  memcachedConcurrency?: number;
  memcachedBudgetMs?: number;
}

export interface RecordResult {
  /** Samples written to MySQL. */
  stored: number;
  /** `unavailable`: memcached could not be reached or was too slow; MySQL has the samples all the same. */
  memcached: 'ok' | 'unavailable';
  memcachedError?: string;
}

export interface Rollup {
  counter: string;
  node: string;
  /** The minute's start (UTC, ISO). */
  minute: string;
  /** Samples with a value, and their min, max, sum and average (null when the minute had only failed ones). */
  count: number;
  min: number | null;
  max: number | null;
  sum: number | null;
  avg: number | null;
  failed: number;
}

export interface SeriesQuery {
  counter: string;
  /** One node, or every node of the counter. */
  node?: string;
  from: Date;
  to: Date;
  /** At most this many rows (default 10,000), oldest first. */
  limit?: number;
}

export interface SampleStore {
  /** Writes `samples` (of `counters`, which give each sample's kind and comparison) to MySQL, then memcached. */
  record(samples: readonly Sample[], counters: readonly Counter[]): Promise<RecordResult>;
  /** record's first half: MySQL, the record (samples and their minutes' roll-ups); throws when MySQL fails. */
  store(samples: readonly Sample[]): Promise<void>;
  /** record's second half: PyScaler's memcached keys, a mirror; never throws (an unavailable memcached is reported). */
  mirror(samples: readonly Sample[], counters: readonly Counter[]): Promise<Pick<RecordResult, 'memcached' | 'memcachedError'>>;
  /** Deletes samples past the retention and roll-ups past theirs; returns how many rows went. */
  prune(now?: Date): Promise<{ samples: number; rollups: number }>;
  /** Samples in [from, to), oldest first. */
  series(query: SeriesQuery): Promise<Sample[]>;
  /** Per-minute roll-ups whose minute is in [from, to), oldest first. */
  rollups(query: SeriesQuery): Promise<Rollup[]>;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const PRUNE_BATCH = 10_000;

/** A memcached failure that says the server is not there (not a refused operation, which memjs names). */
const isConnectionError = (error: unknown) => !(error instanceof Error && error.message.startsWith('MemJS '));

export function createSampleStore(pool: mysql.Pool, memcached: memjs.Client, options: SampleStoreOptions): SampleStore {
  const rollupFactor = options.rollupRetentionFactor ?? 10;
  const concurrency = options.memcachedConcurrency ?? 32;
  const budgetMs = options.memcachedBudgetMs ?? 5000;

  async function writeMysql(samples: readonly Sample[]): Promise<void> {
    const rows = samples.map((s) => [s.counter, s.node, new Date(s.at), s.value, s.value === null ? (s.error ?? 'no value').slice(0, MAX_ERROR_CHARS) : null]);
    // One statement per call; a retried call rewrites the same rows.
    await pool.query('INSERT INTO counter_samples (counter, node, at, value, error) VALUES ? ON DUPLICATE KEY UPDATE value = VALUES(value), error = VALUES(error)', [rows]);
    const times = samples.map((s) => Date.parse(s.at));
    const earliest = times.reduce((a, b) => Math.min(a, b));
    const latest = times.reduce((a, b) => Math.max(a, b));
    const from = new Date(Math.floor(earliest / MINUTE_MS) * MINUTE_MS);
    const to = new Date(Math.floor(latest / MINUTE_MS) * MINUTE_MS + MINUTE_MS);
    // Roll-ups of the minutes this call touched, recomputed from their samples: retries and
    // concurrent calls cannot count a sample twice.
    await pool.query(
      `INSERT INTO counter_rollups (counter, node, minute, count, min, max, sum, failed)
         SELECT counter, node, DATE_FORMAT(at, '%Y-%m-%d %H:%i:00') AS m, COUNT(value), MIN(value), MAX(value), SUM(value), SUM(value IS NULL)
           FROM counter_samples
          WHERE at >= ? AND at < ? AND counter IN (?) AND node IN (?)
          GROUP BY counter, node, m
       ON DUPLICATE KEY UPDATE count = VALUES(count), min = VALUES(min), max = VALUES(max), sum = VALUES(sum), failed = VALUES(failed)`,
      [from, to, [...new Set(samples.map((s) => s.counter))], [...new Set(samples.map((s) => s.node))]],
    );
  }

  /** The memcached writes of one sample: the value, and the breach count moved. */
  function memcachedWrites(sample: Sample, counter: Counter): (() => Promise<unknown>)[] {
    if (sample.value === null) return [];
    const keys = memcachedKeys(counter.kind, sample.node, sample.counter, sample.at);
    if (Buffer.byteLength(keys.value) > MAX_KEY_BYTES) return [];
    const expires = MEMCACHED_TTL_SECONDS;
    const value = sample.value;
    const setValue = () => memcached.set(keys.value, String(value), { expires });
    if (!breaches(value, counter.comparison, counter.threshold)) return [setValue, () => memcached.set(keys.count, '0', { expires })];
    const increment = async () => {
      try {
        await memcached.increment(keys.count, 1, { initial: 1, expires });
      } catch (error) {
        // A count someone overwrote with a non-number: this breach starts it again.
        if (isConnectionError(error)) throw error;
        await memcached.set(keys.count, '1', { expires });
        return;
      }
      // incr keeps the expiry the key was created with; the count lives a day after its last sample, as PyScaler's.
      await memcached.touch(keys.count, expires);
    };
    return [setValue, increment];
  }

  async function writeMemcached(samples: readonly Sample[], counters: readonly Counter[]): Promise<Pick<RecordResult, 'memcached' | 'memcachedError'>> {
    const byName = new Map(counters.map((c) => [c.name, c]));
    // Writes of one key stay in order (a sample's count and value); samples of one key are in time order.
    const chains = new Map<string, (() => Promise<unknown>)[]>();
    for (const sample of [...samples].sort((a, b) => Date.parse(a.at) - Date.parse(b.at))) {
      const counter = byName.get(sample.counter);
      if (!counter) continue;
      const key = `${counter.kind}\n${sample.node}\n${sample.counter}`;
      chains.set(key, [...(chains.get(key) ?? []), ...memcachedWrites(sample, counter)]);
    }
    const work = [...chains.values()].filter((chain) => chain.length > 0);
    let failure: unknown;
    let next = 0;
    const lane = async () => {
      while (failure === undefined && next < work.length) {
        const chain = work[next++]!;
        for (const write of chain) {
          if (failure !== undefined) return;
          try {
            await write();
          } catch (error) {
            // The first sign that memcached is away stops the rest: each would wait its timeout.
            if (isConnectionError(error)) failure = error;
          }
        }
      }
    };
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        failure ??= new Error(`memcached did not take ${work.length} samples' writes within ${budgetMs} ms`);
        resolve();
      }, budgetMs);
    });
    await Promise.race([Promise.all(Array.from({ length: Math.min(concurrency, work.length) }, lane)), budget]);
    clearTimeout(timer);
    return failure === undefined ? { memcached: 'ok' } : { memcached: 'unavailable', memcachedError: failure instanceof Error ? failure.message : String(failure) };
  }

  async function deleteOlder(table: 'counter_samples' | 'counter_rollups', column: 'at' | 'minute', before: Date): Promise<number> {
    let deleted = 0;
    // In batches: a large delete would hold its locks while ticks want to insert.
    for (;;) {
      const [result] = await pool.query<mysql.ResultSetHeader>(`DELETE FROM ${table} WHERE ${column} < ? ORDER BY ${column} LIMIT ${PRUNE_BATCH}`, [before]);
      deleted += result.affectedRows;
      if (result.affectedRows < PRUNE_BATCH) return deleted;
    }
  }

  return {
    ...createSampleReader(pool),
    async record(samples, counters) {
      if (samples.length === 0) return { stored: 0, memcached: 'ok' };
      await writeMysql(samples);
      return { stored: samples.length, ...(await writeMemcached(samples, counters)) };
    },
    async store(samples) {
      if (samples.length) await writeMysql(samples);
    },
    mirror: (samples, counters) => (samples.length ? writeMemcached(samples, counters) : Promise.resolve({ memcached: 'ok' as const })),

    async prune(now = new Date()) {
      const samplesBefore = new Date(now.getTime() - options.retentionDays * DAY_MS);
      const rollupsBefore = new Date(now.getTime() - options.retentionDays * rollupFactor * DAY_MS);
      return { samples: await deleteOlder('counter_samples', 'at', samplesBefore), rollups: await deleteOlder('counter_rollups', 'minute', rollupsBefore) };
    },

  };
}

/** The reads of the performance data (the API's charts need no memcached). */
export function createSampleReader(pool: mysql.Pool): Pick<SampleStore, 'series' | 'rollups'> {
  const range = (query: SeriesQuery, column: string) => ({
    where: `counter = ?${query.node === undefined ? '' : ' AND node = ?'} AND ${column} >= ? AND ${column} < ?`,
    params: [query.counter, ...(query.node === undefined ? [] : [query.node]), query.from, query.to],
  });
  const limitOf = (query: SeriesQuery) => Math.max(1, Math.min(query.limit ?? 10_000, 100_000));


  return {
    async series(query) {
      const { where, params } = range(query, 'at');
      const [rows] = await pool.query<mysql.RowDataPacket[]>(`SELECT counter, node, at, value, error FROM counter_samples WHERE ${where} ORDER BY at, node LIMIT ${limitOf(query)}`, params);
      return rows.map((row) => ({
        counter: row.counter as string,
        node: row.node as string,
        at: (row.at as Date).toISOString(),
        value: row.value === null ? null : Number(row.value),
        ...(row.error === null ? {} : { error: row.error as string }),
      }));
    },

    async rollups(query) {
      const { where, params } = range(query, 'minute');
      const [rows] = await pool.query<mysql.RowDataPacket[]>(`SELECT counter, node, minute, count, min, max, sum, failed FROM counter_rollups WHERE ${where} ORDER BY minute, node LIMIT ${limitOf(query)}`, params);
      return rows.map((row) => {
        const count = Number(row.count);
        const sum = row.sum === null ? null : Number(row.sum);
        return {
          counter: row.counter as string,
          node: row.node as string,
          minute: (row.minute as Date).toISOString(),
          count,
          min: row.min === null ? null : Number(row.min),
          max: row.max === null ? null : Number(row.max),
          sum,
          avg: sum === null || count === 0 ? null : sum / count,
          failed: Number(row.failed),
        };
      });
    },
  };
}
