// Vocabulary of the config cache (the etcd lab's distributed cache), shared by the cache, its HTTP
// API, the UI page, the load test and tests. No workflow runs here: reads and writes are plain HTTP.

/** The seed's route: `/config/<key>`, where the key may contain `/`. */
export const CONFIG_ROUTE = '/config/';

/** Every config response names the instance that served it and the etcd revision its cache reflects. */
export const configCacheHeaders = {
  instance: 'x-instance',
  revision: 'x-cache-revision',
  /** `cache` when a GET was answered from memory, `etcd` when it read etcd. */
  source: 'x-config-source',
} as const;

export type ConfigReadSource = 'cache' | 'etcd';

/**
 * `starting` until the first snapshot and watch are in place, `synced` while the watch runs,
 * `resyncing` after a watch error, a lost connection or a compacted revision. Only a synced
 * cache answers reads from memory; the others read etcd, so no read is older than etcd.
 */
export type ConfigCacheState = 'starting' | 'synced' | 'resyncing' | 'closed';

export interface ConfigCacheStatus {
  instance: string;
  keyPrefix: string;
  state: ConfigCacheState;
  /** The etcd revision the cache reflects in full (its snapshot, then every watch response applied). */
  revision: number;
  keys: number;
  /** Snapshots taken after the first one. */
  resyncs: number;
  lastResync: { at: string; reason: string } | null;
  lastError: string | null;
  /** Watch events applied since the cache started. */
  eventsApplied: number;
}

export const MAX_CONFIG_KEY_BYTES = 1024;

/**
 * A key is the path after `/config/` exactly as sent: no percent-decoding and no `.`/`..`
 * resolution, so `a/../b`, `a%2Fb` and `a/b` are three keys. It is limited to the characters a
 * URL path carries unencoded, so the key a user types in the UI is the one its URL addresses.
 */
export const configKeyPattern = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]+$/;

/** Why a key cannot be used, or undefined when it can. */
export function configKeyProblem(key: string): string | undefined {
  if (key === '') return 'the key is empty: use /config/<key>';
  if (key.length > MAX_CONFIG_KEY_BYTES) return `the key is longer than ${MAX_CONFIG_KEY_BYTES} bytes`;
  if (!configKeyPattern.test(key)) return "the key may contain only letters, digits, / and -._~!$&'()*+,;=:@%";
  return undefined;
}

/** The seed's rule: `use_cache` is true when absent, and only the exact string `true` is true. */
export function useCacheFromQuery(raw: string | undefined): boolean {
  return raw === undefined || raw === 'true';
}
