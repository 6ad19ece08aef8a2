// The config cache's limits (CONFIG_CACHE_MAX_KEYS, CONFIG_CACHE_MAX_TOTAL_BYTES) and etcd's space
// quota, through PUT /config/<key>: the real ConfigCache over a fake etcd that records every write.
import { describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { ConfigCache } from '../../services/configCache.ts';
import type { ErrorBody } from '../../api/errors.ts';
import { stubApp } from './support/stubApp.ts';

/** An etcd that keeps puts and deletes in a map; `refuse` makes every put fail with that message. */
function fakeEtcd(options: { refuse?: string } = {}) {
  const data = new Map<string, string>();
  let revision = 1;
  const etcd = {
    put: (key: string) => ({
      value: (value: string) => ({
        exec: async () => {
          if (options.refuse) throw new Error(options.refuse);
          data.set(key, value);
          return { header: { revision: String(++revision) } };
        },
      }),
    }),
    getAll: () => ({
      prefix: (prefix: string) => ({
        exec: async () => ({
          header: { revision: String(revision) },
          kvs: [...data].filter(([key]) => key.startsWith(prefix)).map(([key, value]) => ({ key: Buffer.from(key), value: Buffer.from(value), mod_revision: String(revision) })),
        }),
      }),
    }),
    delete: () => ({
      key: (key: string) => ({
        exec: async () => {
          const deleted = data.delete(key);
          return { header: { revision: String(++revision) }, deleted: deleted ? '1' : '0' };
        },
      }),
    }),
  } as unknown as Etcd3;
  return { etcd, data };
}

function appWithCache(limits: { maxKeys: number; maxTotalBytes: number }, options: { refuse?: string } = {}) {
  const { etcd, data } = fakeEtcd(options);
  const cache = new ConfigCache({ etcd, keyPrefix: '/p/', instance: 'unit', limits });
  return { app: stubApp({ configCache: cache }).app, data, cache };
}

const put = (value: string) => ({ method: 'PUT', body: value, headers: { 'content-type': 'application/json' } });

describe('config cache limits', () => {
  it('refuses a new key past CONFIG_CACHE_MAX_KEYS with 507, writing nothing; existing keys still change, and a delete makes room', async () => {
    const { app, data } = appWithCache({ maxKeys: 2, maxTotalBytes: 1_000_000 });
    expect((await app.request('/config/a', put('1'))).status).toBe(200);
    expect((await app.request('/config/b', put('2'))).status).toBe(200);

    const refused = await app.request('/config/c', put('3'));
    expect(refused.status).toBe(507);
    const body = (await refused.json()) as ErrorBody & { error: { setting: string; limit: string; max: number } };
    expect(body.error).toMatchObject({ code: 'insufficient_storage', limit: 'keys', setting: 'CONFIG_CACHE_MAX_KEYS', max: 2 });
    expect(body.error.message).toMatch(/holds 2 keys, its limit \(CONFIG_CACHE_MAX_KEYS=2\)/);
    expect([...data.keys()]).toEqual(['/p/a', '/p/b']);

    expect((await app.request('/config/a', put('"changed"'))).status).toBe(200);
    expect(data.get('/p/a')).toBe('"changed"');
    expect((await app.request('/config/b', { method: 'DELETE' })).status).toBe(204);
    expect((await app.request('/config/c', put('3'))).status).toBe(200);
    expect(data.get('/p/c')).toBe('3');
  });

  it('refuses a key or a bigger value past CONFIG_CACHE_MAX_TOTAL_BYTES with 507, writing nothing; a smaller value passes', async () => {
    // Key + value bytes: "a" + 8 = 9, "b" + 8 = 9.
    const { app, data, cache } = appWithCache({ maxKeys: 100, maxTotalBytes: 20 });
    expect((await app.request('/config/a', put('"123456"'))).status).toBe(200);
    expect((await app.request('/config/b', put('"123456"'))).status).toBe(200);
    expect(cache.totalBytes).toBe(18);

    const newKey = await app.request('/config/c', put('12'));
    expect(newKey.status).toBe(507);
    expect((await newKey.json()) as ErrorBody).toMatchObject({ error: { code: 'insufficient_storage', limit: 'bytes', setting: 'CONFIG_CACHE_MAX_TOTAL_BYTES', max: 20 } });
    const bigger = await app.request('/config/a', put('"123456789"'));
    expect(bigger.status).toBe(507);
    expect(((await bigger.json()) as ErrorBody).error.message).toMatch(/holds 18 bytes of keys and values; 3 more would pass its limit \(CONFIG_CACHE_MAX_TOTAL_BYTES=20\)/);
    expect(Object.fromEntries(data)).toEqual({ '/p/a': '"123456"', '/p/b': '"123456"' });

    expect((await app.request('/config/a', put('"1234567"'))).status).toBe(200);
    expect((await app.request('/config/a', put('1'))).status).toBe(200);
    expect(cache.totalBytes).toBe(11);
    expect((await app.request('/config/c', put('"1234"'))).status).toBe(200);
    expect(data.get('/p/c')).toBe('"1234"');
    expect(await (await app.request('/api/config-cache')).json()).toMatchObject({ keys: 3, bytes: 18, limits: { maxKeys: 100, maxTotalBytes: 20 } });
  });

  it('answers 507 naming ETCD_QUOTA_BYTES when etcd refuses a write for its space quota, and 503 for other etcd failures', async () => {
    const full = appWithCache({ maxKeys: 100, maxTotalBytes: 1_000_000 }, { refuse: 'etcdserver: mvcc: database space exceeded' });
    const refused = await full.app.request('/config/a', put('1'));
    expect(refused.status).toBe(507);
    expect((await refused.json()) as ErrorBody).toMatchObject({ error: { code: 'insufficient_storage', setting: 'ETCD_QUOTA_BYTES' } });

    const down = appWithCache({ maxKeys: 100, maxTotalBytes: 1_000_000 }, { refuse: 'connect ECONNREFUSED' });
    const unavailable = await down.app.request('/config/a', put('1'));
    expect(unavailable.status).toBe(503);
    expect(((await unavailable.json()) as ErrorBody).error.code).toBe('etcd_unavailable');
  });

  it('tells the editor on the Config cache page when a save would pass a limit, writing nothing', async () => {
    const { app, data } = appWithCache({ maxKeys: 1, maxTotalBytes: 1_000_000 });
    expect((await app.request('/config/a', put('1'))).status).toBe(200);
    const form = new URLSearchParams({ key: 'b', value: '2', filter: '' });
    const page = await app.request('/ui/config-cache', { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('its limit (CONFIG_CACHE_MAX_KEYS=1)');
    expect([...data.keys()]).toEqual(['/p/a']);
  });
});
