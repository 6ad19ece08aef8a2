// The config cache of one API instance: every value under the key prefix, in memory, kept in step
// with etcd. It takes a snapshot of the prefix, then watches from the snapshot's revision + 1 and
// applies each put and delete in order. A lost connection, a watch error or a compacted revision
// drops the watch and starts over from a fresh snapshot; until that is in place, reads go to etcd,
// so a read never answers with a value older than etcd's. Writes are applied here at once (at the
// revision etcd gave them), so the instance that wrote a value reads it back immediately.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Etcd3, IKeyValue, IResponseHeader, IWatchResponse, Watcher } from 'etcd3';
import type { ConfigCacheState, ConfigCacheStatus, ConfigReadSource } from './configCache.shared.ts';
import { ServiceError } from './errors.ts';

/** A value as JSON text (what GET answers), or undefined for a key known to be deleted at `revision`. */
interface Stored {
  json: string | undefined;
  revision: number;
}

export interface ConfigEntry {
  key: string;
  json: string;
  /** The etcd revision that wrote this value (its mod_revision). */
  revision: number;
}

export interface ConfigCacheOptions {
  etcd: Etcd3;
  /** Every key lives under it in etcd (the seed's USER_KEY_PREFIX). */
  keyPrefix: string;
  /** Names the instance in responses and logs. */
  instance: string;
  /** Largest value accepted, in bytes (the HTTP route answers 413 above it). */
  maxValueBytes?: number;
  /** Most keys and bytes (keys + values) held; a write past either is refused with 507 before it reaches etcd. */
  limits?: { maxKeys: number; maxTotalBytes: number };
  /** Delays between failed resync attempts: doubled from `initialMs` up to `maxMs`. */
  retry?: { initialMs: number; maxMs: number };
  log?(line: string): void;
}

/** etcd did not answer (down, restarting, timed out): the API reports it as 503. */
export class ConfigStoreUnavailableError extends Error {
  override name = 'ConfigStoreUnavailableError';
}

/**
 * A digest of every key and the revision that wrote its value: two instances with the same digest
 * hold the same values, and one equal to the digest of etcd's own listing is exactly in step.
 */
export function configDigest(entries: Iterable<{ key: string; revision: number }>): string {
  const sorted = [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const hash = createHash('sha256');
  for (const { key, revision } of sorted) hash.update(`${key}\n${revision}\n`);
  return hash.digest('hex').slice(0, 16);
}

/** A watch that etcd neither confirms nor refuses (a hung server) is given up and started again. */
const WATCH_START_TIMEOUT_MS = 10_000;

const errorText = (error: unknown) => (error instanceof Error ? error.message || error.name : String(error));

/** What an entry costs the cache: its key and its value (a deletion costs nothing). */
const sizeOf = (key: string, json: string | undefined) => (json === undefined ? 0 : Buffer.byteLength(key) + Buffer.byteLength(json));

const insufficientStorage = (message: string, details: Record<string, unknown>) => new ServiceError(507, 'insufficient_storage', message, details);

/** Values written by other tools may not be JSON: they are served as a JSON string. */
function asJson(value: Buffer): string {
  const text = value.toString('utf8');
  try {
    JSON.parse(text);
    return text;
  } catch {
    return JSON.stringify(text);
  }
}

export class ConfigCache {
  readonly instance: string;
  readonly keyPrefix: string;
  readonly maxValueBytes: number;
  readonly limits: { maxKeys: number; maxTotalBytes: number };
  readonly #etcd: Etcd3;
  readonly #retry: { initialMs: number; maxMs: number };
  readonly #log: (line: string) => void;
  readonly #entries = new Map<string, Stored>();
  /** Keys whose entry is a deletion, kept until the watch has passed it (then any older event is behind us). */
  readonly #deleted = new Set<string>();
  #revision = 0;
  #totalBytes = 0;
  #clusterId: string | undefined;
  #state: ConfigCacheState = 'starting';
  /** Bumped by every resync: events and outcomes of an older watch are ignored. */
  #generation = 0;
  #watcher: { watcher: Watcher; ended: boolean } | undefined;
  #failures = 0;
  #resyncs = 0;
  #eventsApplied = 0;
  #lastResync: ConfigCacheStatus['lastResync'] = null;
  #lastError: string | null = null;
  #syncedWaiters: (() => void)[] = [];

  constructor(options: ConfigCacheOptions) {
    this.#etcd = options.etcd;
    this.keyPrefix = options.keyPrefix;
    this.instance = options.instance;
    this.maxValueBytes = options.maxValueBytes ?? 64 * 1024;
    this.limits = options.limits ?? { maxKeys: 100_000, maxTotalBytes: 64 * 1024 * 1024 };
    this.#retry = options.retry ?? { initialMs: 50, maxMs: 1000 };
    this.#log = options.log ?? (() => {});
  }

  /** Takes the first snapshot and starts the watch in the background; reads go to etcd until then. */
  start(): this {
    if (this.#generation === 0) this.#resync('start');
    return this;
  }

  get state(): ConfigCacheState {
    return this.#state;
  }

  get revision(): number {
    return this.#revision;
  }

  /** Resolves once the cache answers from memory (at once when it already does). */
  whenSynced(timeoutMs = 30_000): Promise<void> {
    if (this.#state === 'synced') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`config cache ${this.instance} not synced within ${timeoutMs} ms (${this.#lastError ?? this.#state})`)), timeoutMs);
      this.#syncedWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async get(key: string, options: { useCache: boolean }): Promise<{ json: string | null; source: ConfigReadSource }> {
    if (options.useCache && this.#state === 'synced') return { json: this.#entries.get(key)?.json ?? null, source: 'cache' };
    const response = await this.#call(() => this.#etcd.get(this.keyPrefix + key).exec());
    const kv = response.kvs[0];
    const json = kv ? asJson(kv.value) : undefined;
    // What etcd just said is at least as new as the cache: a later cached read cannot go back in time.
    this.#applyObserved(key, json, kv ? Number(kv.mod_revision) : Number(response.header.revision));
    return { json: json ?? null, source: 'etcd' };
  }

  /**
   * Writes JSON text (already validated and within maxValueBytes) and applies it here at its
   * revision. A new key or a bigger value that would take the cache past its limits, or a write
   * etcd refuses for its space quota, is a 507 ServiceError.
   */
  async put(key: string, json: string): Promise<{ revision: number }> {
    this.#ensureRoom(key, json);
    const response = await this.#call(() => this.#etcd.put(this.keyPrefix + key).value(json).exec()).catch((error: Error) => {
      if (!/database space exceeded/.test(errorText(error.cause))) throw error;
      throw insufficientStorage('etcd is over its space quota (ETCD_QUOTA_BYTES) and refuses writes until it is compacted, defragmented and its NOSPACE alarm disarmed.', { setting: 'ETCD_QUOTA_BYTES' });
    });
    const revision = Number(response.header.revision);
    this.#applyObserved(key, json, revision);
    return { revision };
  }

  /** Bytes held: every key and value in memory. */
  get totalBytes(): number {
    return this.#totalBytes;
  }

  #ensureRoom(key: string, json: string): void {
    const { maxKeys, maxTotalBytes } = this.limits;
    const current = this.#entries.get(key)?.json;
    const keys = this.#entries.size - this.#deleted.size;
    if (current === undefined && keys >= maxKeys) {
      throw insufficientStorage(`The config cache holds ${keys} keys, its limit (CONFIG_CACHE_MAX_KEYS=${maxKeys}): delete keys or raise the limit.`, { limit: 'keys', setting: 'CONFIG_CACHE_MAX_KEYS', max: maxKeys });
    }
    const growth = sizeOf(key, json) - sizeOf(key, current);
    if (growth > 0 && this.#totalBytes + growth > maxTotalBytes) {
      throw insufficientStorage(
        `The config cache holds ${this.#totalBytes} bytes of keys and values; ${growth} more would pass its limit (CONFIG_CACHE_MAX_TOTAL_BYTES=${maxTotalBytes}): delete keys or raise the limit.`,
        { limit: 'bytes', setting: 'CONFIG_CACHE_MAX_TOTAL_BYTES', max: maxTotalBytes },
      );
    }
  }

  async delete(key: string): Promise<{ revision: number; deleted: boolean }> {
    const response = await this.#call(() => this.#etcd.delete().key(this.keyPrefix + key).exec());
    const revision = Number(response.header.revision);
    const deleted = Number(response.deleted) > 0;
    // Remembered even when this instance has not seen the key yet: its put may still be on the way.
    this.#applyObserved(key, undefined, revision, { evenIfUnknown: deleted });
    return { revision, deleted };
  }

  /** Entries in key order (from memory when synced, else from etcd), optionally only keys containing `filter`. */
  async list(options: { filter?: string; limit?: number } = {}): Promise<{ entries: ConfigEntry[]; total: number; source: ConfigReadSource }> {
    let entries: ConfigEntry[];
    let source: ConfigReadSource = 'cache';
    if (this.#state === 'synced') {
      entries = [];
      for (const [key, stored] of this.#entries) if (stored.json !== undefined) entries.push({ key, json: stored.json, revision: stored.revision });
    } else {
      source = 'etcd';
      const response = await this.#call(() => this.#etcd.getAll().prefix(this.keyPrefix).exec());
      entries = response.kvs.map((kv) => ({ key: this.#keyOf(kv), json: asJson(kv.value), revision: Number(kv.mod_revision) }));
    }
    const matching = options.filter ? entries.filter((e) => e.key.includes(options.filter!)) : entries;
    matching.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { entries: matching.slice(0, options.limit ?? matching.length), total: matching.length, source };
  }

  status(): ConfigCacheStatus {
    return {
      instance: this.instance,
      keyPrefix: this.keyPrefix,
      state: this.#state,
      revision: this.#revision,
      keys: this.#entries.size - this.#deleted.size,
      bytes: this.#totalBytes,
      limits: this.limits,
      resyncs: this.#resyncs,
      lastResync: this.#lastResync,
      lastError: this.#lastError,
      eventsApplied: this.#eventsApplied,
    };
  }

  /** configDigest of what this instance holds in memory. */
  digest(): string {
    const held: { key: string; revision: number }[] = [];
    for (const [key, stored] of this.#entries) if (stored.json !== undefined) held.push({ key, revision: stored.revision });
    return configDigest(held);
  }

  /** Stops the watch; the etcd client belongs to the caller. */
  async close(): Promise<void> {
    this.#state = 'closed';
    this.#generation++;
    await this.#dropWatcher();
  }

  async #call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw new ConfigStoreUnavailableError(`etcd did not answer: ${errorText(error)}`, { cause: error });
    }
  }

  #keyOf(kv: IKeyValue): string {
    return kv.key.toString('utf8').slice(this.keyPrefix.length);
  }

  #isCurrent(generation: number): boolean {
    return generation === this.#generation && this.#state !== 'closed';
  }

  #resync(reason: string): void {
    if (this.#state === 'closed') return;
    const generation = ++this.#generation;
    // Back off when resyncs follow one another without the cache getting in step between them.
    if (this.#state === 'synced') this.#state = 'resyncing';
    else if (reason !== 'start') this.#failures++;
    if (reason !== 'start') {
      this.#resyncs++;
      this.#lastResync = { at: new Date().toISOString(), reason };
      this.#log(`config cache ${this.instance}: resynchronising (${reason})`);
    }
    void this.#dropWatcher();
    void this.#syncLoop(generation);
  }

  async #syncLoop(generation: number): Promise<void> {
    while (this.#isCurrent(generation)) {
      if (this.#failures > 0) await sleep(Math.min(this.#retry.initialMs * 2 ** (this.#failures - 1), this.#retry.maxMs));
      if (!this.#isCurrent(generation)) return;
      try {
        await this.#snapshotAndWatch(generation);
        return;
      } catch (error) {
        this.#failures++;
        this.#lastError = errorText(error);
      }
    }
  }

  async #snapshotAndWatch(generation: number): Promise<void> {
    await this.#dropWatcher();
    const snapshot = await this.#etcd.getAll().prefix(this.keyPrefix).exec();
    if (!this.#isCurrent(generation)) return;
    const snapshotRevision = Number(snapshot.header.revision);
    this.#replaceWithSnapshot(snapshot.kvs, snapshot.header);

    // Listeners go on before the watch connects (so not `create()`): its first events can arrive
    // in the same tick as the confirmation, and an event nobody hears is a stale cache.
    const watcher = this.#etcd.watch().prefix(this.keyPrefix).startRevision(String(snapshotRevision + 1)).watcher();
    const handle = { watcher, ended: false };
    this.#watcher = handle;
    const connected = new Promise<IWatchResponse | undefined>((resolve) => {
      watcher.once('connected', resolve);
      watcher.once('error', () => resolve(undefined));
      watcher.once('disconnected', () => resolve(undefined));
    });
    watcher.on('data', (response) => {
      if (this.#isCurrent(generation)) this.#applyWatchResponse(response);
    });
    watcher.on('error', (error) => {
      // etcd cancelled the watch and etcd3 has dropped it. A compacted revision comes with no reason.
      handle.ended = true;
      const detail = errorText(error).replace(/^Watcher canceled:\s*/, '');
      if (this.#isCurrent(generation)) this.#resync(`etcd cancelled the watch (${detail || 'no reason given, as for a compacted revision'})`);
    });
    watcher.on('disconnected', (error) => {
      if (this.#isCurrent(generation)) this.#resync(`lost the watch connection: ${errorText(error)}`);
    });

    const created = await Promise.race([connected, sleep(WATCH_START_TIMEOUT_MS, 'timed out' as const, { ref: false })]);
    if (created === 'timed out') throw new Error(`the watch did not start within ${WATCH_START_TIMEOUT_MS / 1000} s`);
    if (!created || !this.#isCurrent(generation)) return;
    // Writes since the snapshot mean the watch must replay history, which etcd refuses (after the
    // confirmation) when compacted. Reading at the snapshot's revision tells now whether it was.
    if (Number(created.header.revision) > snapshotRevision) {
      try {
        await this.#etcd.get(this.keyPrefix).revision(snapshotRevision).exec();
      } catch (error) {
        if (!/compacted/.test(errorText(error))) throw error;
        if (this.#isCurrent(generation)) this.#resync(`the snapshot's revision ${snapshotRevision} was compacted before the watch replayed it`);
        return;
      }
    }
    if (!this.#isCurrent(generation)) return;
    this.#state = 'synced';
    this.#failures = 0;
    this.#lastError = null;
    this.#log(`config cache ${this.instance}: in step with etcd at revision ${this.#revision} (${this.status().keys} keys)`);
    for (const notify of this.#syncedWaiters.splice(0)) notify();
  }

  async #dropWatcher(): Promise<void> {
    const current = this.#watcher;
    this.#watcher = undefined;
    if (!current || current.ended) return;
    current.ended = true;
    try {
      await current.watcher.cancel();
    } catch {
      /* the connection is gone, and the watch with it */
    }
  }

  #replaceWithSnapshot(kvs: IKeyValue[], header: IResponseHeader): void {
    const revision = Number(header.revision);
    // A new or restored cluster numbers revisions afresh: nothing kept from before compares.
    const sameHistory = (this.#clusterId === undefined || this.#clusterId === header.cluster_id) && revision >= this.#revision;
    const newerThanSnapshot = sameHistory ? [...this.#entries].filter(([, stored]) => stored.revision > revision) : [];
    this.#entries.clear();
    this.#deleted.clear();
    this.#totalBytes = 0;
    for (const kv of kvs) this.#store(this.#keyOf(kv), { json: asJson(kv.value), revision: Number(kv.mod_revision) });
    // Writes made here while the snapshot was on its way are newer than it: keep them.
    for (const [key, stored] of newerThanSnapshot) this.#store(key, stored);
    this.#clusterId = header.cluster_id;
    this.#revision = revision;
  }

  #applyWatchResponse(response: IWatchResponse): void {
    for (const event of response.events) {
      const revision = Number(event.kv.mod_revision);
      const key = this.#keyOf(event.kv);
      const current = this.#entries.get(key);
      // Skips what a local write or an etcd read already applied at a newer revision.
      if (current && current.revision >= revision) continue;
      this.#store(key, { json: event.type === 'Put' ? asJson(event.kv.value) : undefined, revision });
      this.#eventsApplied++;
    }
    this.#revision = Math.max(this.#revision, Number(response.header.revision));
    for (const key of this.#deleted) {
      if (this.#entries.get(key)!.revision <= this.#revision) {
        this.#entries.delete(key);
        this.#deleted.delete(key);
      }
    }
  }

  /**
   * Applies what this instance learnt from etcd outside the watch (its own write, a direct read).
   * Only when newer than the watch's position: older news is already applied, or superseded. The
   * absence of a key this instance does not hold changes nothing it answers, and recording it
   * would pile up (reads of missing keys), unless asked to.
   */
  #applyObserved(key: string, json: string | undefined, revision: number, options: { evenIfUnknown?: boolean } = {}): void {
    if (this.#state === 'closed' || revision <= this.#revision) return;
    const current = this.#entries.get(key);
    if (current && current.revision >= revision) return;
    if (json === undefined && !current && !options.evenIfUnknown) return;
    this.#store(key, { json, revision });
  }

  #store(key: string, stored: Stored): void {
    this.#totalBytes += sizeOf(key, stored.json) - sizeOf(key, this.#entries.get(key)?.json);
    this.#entries.set(key, stored);
    if (stored.json === undefined) this.#deleted.add(key);
    else this.#deleted.delete(key);
  }
}
