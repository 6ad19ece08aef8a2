// Vocabulary of the config cache (the etcd lab's distributed cache), shared by the cache, its HTTP
// API, the UI page, the load test and tests. No workflow runs here: reads and writes are plain HTTP.
import * as z from 'zod/mini';

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
  /** Bytes of keys and values held, and the limits a PUT is checked against (CONFIG_CACHE_MAX_KEYS, CONFIG_CACHE_MAX_TOTAL_BYTES). */
  bytes: number;
  limits: { maxKeys: number; maxTotalBytes: number };
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
export const configKeySchema = z.string().check(
  z.minLength(1, 'must not be empty: use /config/<key>'),
  // Only ASCII passes the pattern, so characters are bytes.
  z.maxLength(MAX_CONFIG_KEY_BYTES, `must be at most ${MAX_CONFIG_KEY_BYTES} bytes`),
  z.regex(/^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]+$/, "must contain only letters, digits, / and -._~!$&'()*+,;=:@%"),
);

/** GET /config/<key>'s query, the seed's rule: `use_cache` is true when absent, and only the exact string `true` is true. */
export const configReadQuerySchema = z.pipe(
  z.object({ use_cache: z.optional(z.string()) }),
  z.transform((query) => ({ useCache: query.use_cache === undefined || query.use_cache === 'true' })),
);

/** A value to store (a PUT body, the editor's text): one JSON value, kept as sent but for surrounding blanks. */
export function configValueSchema(maxBytes: number) {
  return z.string().check(
    z.trim(),
    z.minLength(1, 'The value is empty: send one JSON value, e.g. {"enabled": true}.'),
    z.refine((text) => Buffer.byteLength(text) <= maxBytes, `The value is larger than ${maxBytes} bytes.`),
    z.superRefine((text, ctx) => {
      try {
        JSON.parse(text);
      } catch (error) {
        ctx.issues.push({ code: 'custom', input: text, message: `The value is not valid JSON: ${(error as Error).message}` });
      }
    }),
  );
}
