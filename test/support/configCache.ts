// Helpers for config-cache tests: caches with their own etcd clients, unique prefixes, how to poll them.
import { randomUUID } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import type { Config } from '../../config.ts';
import { createConfigCacheEtcdClient } from '../../db/clients.ts';
import { ConfigCache, type ConfigCacheOptions } from '../../services/configCache.ts';

/** Every test writes under its own prefix, so test files sharing the stack's etcd never meet. */
export function uniqueKeyPrefix(): string {
  return `/test-config-${randomUUID().slice(0, 8)}/`;
}

/** How config-cache tests poll what the caches hold: every 10 ms, for up to 5 s unless they say otherwise. */
export const cachePolling = { timeout: 5000, interval: 10 };

/** Caches an API instance would run, each with its own etcd client; `closeAll` stops them. */
export function cacheFactory(config: Config) {
  const opened: { cache: ConfigCache; etcd: Etcd3 }[] = [];
  return {
    /** A started cache; `etcd` replaces its client (a test wraps it to delay or cut calls). */
    open(keyPrefix: string, instance: string, options: Partial<ConfigCacheOptions> = {}): ConfigCache {
      const etcd = options.etcd ?? createConfigCacheEtcdClient(config);
      const cache = new ConfigCache({ keyPrefix, instance, retry: { initialMs: 20, maxMs: 200 }, ...options, etcd }).start();
      opened.push({ cache, etcd });
      return cache;
    },
    async closeAll(): Promise<void> {
      for (const { cache, etcd } of opened.splice(0)) {
        await cache.close();
        etcd.close();
      }
    },
  };
}

/** What every cache answers from memory for `key` (null when missing), once all are in step. */
export async function cachedValues(caches: ConfigCache[], key: string): Promise<(string | null)[]> {
  return Promise.all(caches.map(async (cache) => (await cache.get(key, { useCache: true })).json));
}
