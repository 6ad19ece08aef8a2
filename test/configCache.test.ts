import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { serve, type ServerType } from '@hono/node-server';
import type { App } from '../server/app.ts';
import { createConfigCacheEtcdClient } from '../db/clients.ts';
import type { ErrorBody } from '../api/errors.ts';
import { configDigest, type ConfigCache } from '../services/configCache.ts';
import { findFreePort } from '../scripts/processes.ts';
import { runConfigCacheLoad } from '../bench/configCacheLoad.ts';
import { cacheFactory, cachedValues, cachePolling, uniqueKeyPrefix } from './support/configCache.ts';
import { useStack } from './support/fixture.ts';
import { testConfig } from './support/stack.ts';

const put = (value: string, method = 'PUT') => ({ method, body: value, headers: { 'content-type': 'application/json' } });

/** A request exactly as written: no client-side `..` resolution or percent-encoding. */
function rawRequest(port: number, method: string, path: string, body?: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: text, headers: res.headers }));
    });
    req.once('error', reject);
    req.end(body);
  });
}

describe('config cache: the seed API on one instance (real etcd)', () => {
  const prefix = uniqueKeyPrefix();
  const caches = cacheFactory(testConfig());
  let cache: ConfigCache;
  let app: App;
  let server: ServerType;
  let port: number;

  // The cache comes first: the stack's app serves it, and it closes after the stack.
  beforeAll(async () => {
    cache = caches.open(prefix, 'a', { maxValueBytes: 1024 });
    await cache.whenSynced();
  });
  afterAll(() => caches.closeAll());
  const stack = useStack({ workers: false, app: () => ({ configCache: cache }) });
  const { env } = stack;
  const etcdValue = (key: string) => env.clients.etcd.get(prefix + key).string();

  beforeAll(async () => {
    app = stack.app;
    port = await findFreePort();
    // app.fetch itself (not a wrapper), so the node server hands it the raw request target.
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port });
  });
  afterAll(() => server?.close());

  it('PUT echoes the value, GET answers it from memory or etcd, a missing key is 200 null, DELETE is 204', async () => {
    const written = await app.request('/config/feature/checkout', put('{"enabled": true, "big": 12345678901234567890}'));
    expect(written.status).toBe(200);
    expect(await written.text()).toBe('{"enabled": true, "big": 12345678901234567890}');
    expect(written.headers.get('x-instance')).toBe('a');
    expect(Number(written.headers.get('x-cache-revision'))).toBeGreaterThan(0);
    expect(await etcdValue('feature/checkout')).toBe('{"enabled": true, "big": 12345678901234567890}');

    for (const [query, source] of [['', 'cache'], ['?use_cache=true', 'cache'], ['?use_cache=false', 'etcd'], ['?use_cache=True', 'etcd'], ['?use_cache=1', 'etcd']]) {
      const read = await app.request(`/config/feature/checkout${query}`);
      expect(read.status).toBe(200);
      expect(read.headers.get('x-config-source'), query).toBe(source);
      expect(read.headers.get('content-type')).toMatch(/^application\/json/);
      // As written, digits and all: JSON.parse would round the big number.
      expect(await read.text()).toBe('{"enabled": true, "big": 12345678901234567890}');
    }

    const missing = await app.request('/config/feature/nothing-here');
    expect(missing.status).toBe(200);
    expect(await missing.text()).toBe('null');

    const posted = await app.request('/config/feature/checkout', put('"via POST"', 'POST'));
    expect(posted.status).toBe(200);
    expect(await (await app.request('/config/feature/checkout')).json()).toBe('via POST');

    const deleted = await app.request('/config/feature/checkout', { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');
    expect(deleted.headers.get('x-instance')).toBe('a');
    expect(await (await app.request('/config/feature/checkout')).text()).toBe('null');
    expect(await etcdValue('feature/checkout')).toBeNull();
    expect((await app.request('/config/feature/checkout', { method: 'DELETE' })).status).toBe(204);

    const patched = await app.request('/config/feature/checkout', { method: 'PATCH', body: '{}' });
    expect(patched.status).toBe(405);
    expect(patched.headers.get('allow')).toContain('PUT');
    expect(((await patched.json()) as ErrorBody).error.code).toBe('method_not_allowed');

    const status = (await (await app.request('/api/config-cache')).json()) as Record<string, unknown>;
    expect(status).toMatchObject({ instance: 'a', keyPrefix: prefix, state: 'synced', resyncs: 0 });
    expect(status.rssBytes).toBeGreaterThan(0);
  });

  it('answers bad input in the API error shape: invalid JSON 400, an oversized value 413, a bad key 400', async () => {
    const expectError = async (response: Response, status: number, code: string) => {
      expect(response.status).toBe(status);
      expect(response.headers.get('x-instance')).toBe('a');
      const body = (await response.json()) as ErrorBody;
      expect(body.error.code).toBe(code);
      return body.error;
    };
    expect((await expectError(await app.request('/config/bad', put('{"a": ')), 400, 'invalid_json')).message).toMatch(/not valid JSON/);
    await expectError(await app.request('/config/bad', put('{"a": 1} trailing')), 400, 'invalid_json');
    await expectError(await app.request('/config/bad', put('')), 400, 'invalid_json');

    // This cache takes values up to 1024 bytes: exactly that is fine, one more is 413.
    const fits = JSON.stringify('x'.repeat(1022));
    expect((await app.request('/config/big', put(fits))).status).toBe(200);
    expect((await expectError(await app.request('/config/big', put(JSON.stringify('x'.repeat(1023)))), 413, 'payload_too_large')).message).toMatch(/1024 bytes/);
    // Over the app-wide 1 MiB limit: still a 413 that names the instance.
    await expectError(await app.request('/config/big', put(JSON.stringify('x'.repeat(1_100_000)))), 413, 'payload_too_large');
    expect(await etcdValue('big')).toBe(fits);

    expect((await expectError(await app.request('/config/', put('1')), 400, 'validation_failed')).field).toBe('key');
    const badKey = await rawRequest(port, 'PUT', '/config/a"b', '1');
    expect(badKey.status).toBe(400);
    expect((JSON.parse(badKey.body) as ErrorBody).error).toMatchObject({ code: 'validation_failed', field: 'key' });
    await expectError(await app.request(`/config/${'k'.repeat(1025)}`), 400, 'validation_failed');
  });

  it('keeps odd keys as plain keys: `..`, `.` and %2F are never resolved, decoded or let out of the prefix', async () => {
    const oddKeys = ['a/../b', '../../outside', 'x/./y', 'a%2Fb', '%2e%2e/escape', 'double//slash', 'trailing/'];
    for (const [index, key] of oddKeys.entries()) {
      const written = await rawRequest(port, 'PUT', `/config/${key}`, String(index));
      expect(written.status, key).toBe(200);
      expect(await etcdValue(key), key).toBe(String(index));
      const read = await rawRequest(port, 'GET', `/config/${key}?use_cache=true`);
      expect(read.body, key).toBe(String(index));
    }
    // None of them landed on the key a path resolution or decoding would have made of it.
    for (const resolved of ['b', 'outside', 'x/y', 'a/b', 'escape', 'double/slash']) expect(await etcdValue(resolved), resolved).toBeNull();
    expect(await env.clients.etcd.get(prefix.replace(/[^/]+\/$/, '') + 'outside').string()).toBeNull();
    expect((await rawRequest(port, 'DELETE', '/config/a/../b')).status).toBe(204);
    expect(await etcdValue('a/../b')).toBeNull();
    expect(await etcdValue('../../outside')).toBe('1');
  });

  it('reads a value another tool wrote as JSON text, or as a JSON string when it is not JSON', async () => {
    await env.clients.etcd.put(`${prefix}written/elsewhere`).value('plain text, not JSON');
    const read = await vi.waitFor(async () => {
      const response = await app.request('/config/written/elsewhere');
      const text = await response.text();
      expect(text, 'the foreign value').not.toBe('null');
      return text;
    }, cachePolling);
    expect(JSON.parse(read)).toBe('plain text, not JSON');
  });
});

describe('config cache: several instances in step (real etcd, one client each)', () => {
  const { env } = useStack({ workers: false });
  const caches = cacheFactory(env.config);
  afterAll(() => caches.closeAll());

  const openInstances = async (prefix: string, count: number) => {
    const opened = Array.from({ length: count }, (_, i) => caches.open(prefix, `i${i + 1}`));
    await Promise.all(opened.map((c) => c.whenSynced()));
    return opened;
  };

  it('shows a write on one instance at once on the writer and within milliseconds on the others', async () => {
    const [writer, ...others] = await openInstances(uniqueKeyPrefix(), 4);
    const lags: number[] = [];
    for (let i = 0; i < 20; i++) {
      const value = JSON.stringify({ round: i });
      await writer!.put('flags/rollout', value);
      const acked = performance.now();
      // Read-your-writes: the writing instance answers from memory with the new value, no wait.
      expect(await writer!.get('flags/rollout', { useCache: true })).toEqual({ json: value, source: 'cache' });
      await Promise.all(
        others.map(async (other) => {
          await expect.poll(async () => (await other.get('flags/rollout', { useCache: true })).json, { timeout: 2000, interval: 1, message: `round ${i} on ${other.instance}` }).toBe(value);
          lags.push(performance.now() - acked);
        }),
      );
    }
    lags.sort((a, b) => a - b);
    expect(lags.at(-1)).toBeLessThan(500);
    console.log(`cross-instance propagation over ${lags.length} reads: p50 ${lags[Math.floor(lags.length / 2)]!.toFixed(1)} ms, max ${lags.at(-1)!.toFixed(1)} ms`);
  });

  it('propagates deletes to every instance', async () => {
    const instances = await openInstances(uniqueKeyPrefix(), 3);
    await instances[0]!.put('doomed', '"here"');
    await instances[0]!.put('kept', '"here too"');
    await expect.poll(() => cachedValues(instances, 'doomed'), { ...cachePolling, message: 'the value everywhere' }).toEqual(instances.map(() => '"here"'));
    const { deleted } = await instances[2]!.delete('doomed');
    expect(deleted).toBe(true);
    expect((await instances[2]!.get('doomed', { useCache: true })).json).toBeNull();
    await expect.poll(() => cachedValues(instances, 'doomed'), { ...cachePolling, message: 'the delete everywhere' }).toEqual(instances.map(() => null));
    expect(await cachedValues(instances, 'kept')).toEqual(['"here too"', '"here too"', '"here too"']);
    expect(instances.map((c) => c.status().keys)).toEqual([1, 1, 1]);
  });

  it('converges on etcd’s final value when two instances write the same key at once', async () => {
    const prefix = uniqueKeyPrefix();
    const [a, b, observer] = await openInstances(prefix, 3);
    const writes = (writer: ConfigCache, name: string) =>
      (async () => {
        for (let i = 0; i < 40; i++) {
          if (i % 10 === 9) await writer.delete('contended');
          else await writer.put('contended', JSON.stringify(`${name}-${i}`));
        }
      })();
    await Promise.all([writes(a!, 'a'), writes(b!, 'b')]);
    const final = await env.clients.etcd.get(`${prefix}contended`).exec();
    const finalJson = final.kvs[0]?.value.toString() ?? null;
    const finalRevision = Number(final.header.revision);
    await vi.waitFor(async () => {
      expect(await cachedValues([a!, b!, observer!], 'contended'), 'every instance on etcd’s final value').toEqual([finalJson, finalJson, finalJson]);
      expect([a!, b!, observer!].every((c) => c.revision >= finalRevision), 'every instance at etcd’s final revision').toBe(true);
    }, cachePolling);
    expect((await a!.list()).entries.map((e) => e.json)).toEqual(finalJson === null ? [] : [finalJson]);
    // The digests say the same of everything each instance holds: exactly what etcd has.
    const listing = await env.clients.etcd.getAll().prefix(prefix).exec();
    const etcdDigest = configDigest(listing.kvs.map((kv) => ({ key: kv.key.toString().slice(prefix.length), revision: Number(kv.mod_revision) })));
    expect([a!.digest(), b!.digest(), observer!.digest()]).toEqual([etcdDigest, etcdDigest, etcdDigest]);
  });

  it('resyncs when its watch would replay a compacted revision, and ends on the latest values', async () => {
    const prefix = uniqueKeyPrefix();
    await env.clients.etcd.put(`${prefix}setting`).value('"v0"');
    // The first snapshot is held back until history after it is compacted: the watch from the
    // snapshot's revision + 1 cannot be replayed, as for an instance that stalled that long.
    const etcd = createConfigCacheEtcdClient(env.config);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let snapshots = 0;
    let snapshotTaken!: () => void;
    const firstSnapshot = new Promise<void>((resolve) => (snapshotTaken = resolve));
    const getAll = etcd.getAll.bind(etcd);
    etcd.getAll = () => {
      const builder = getAll();
      const exec = builder.exec.bind(builder);
      builder.exec = async () => {
        const response = await exec();
        if (snapshots++ === 0) {
          snapshotTaken();
          await held;
        }
        return response;
      };
      return builder;
    };
    const lagging = caches.open(prefix, 'lagging', { etcd });
    await firstSnapshot;
    for (let i = 1; i <= 5; i++) await env.clients.etcd.put(`${prefix}setting`).value(`"v${i}"`);
    await env.clients.etcd.put(`${prefix}added`).value('"new"');
    const { header } = await env.clients.etcd.get(`${prefix}setting`).exec();
    await env.clients.etcd.kv.compact({ revision: header.revision, physical: true });
    release();

    await lagging.whenSynced(10_000);
    expect(lagging.status().resyncs).toBeGreaterThanOrEqual(1);
    expect(lagging.status().lastResync?.reason).toMatch(/compacted/);
    expect(await lagging.get('setting', { useCache: true })).toEqual({ json: '"v5"', source: 'cache' });
    expect((await lagging.get('added', { useCache: true })).json).toBe('"new"');

    // And it keeps following writes after the resync.
    await env.clients.etcd.put(`${prefix}setting`).value('"v6"');
    await expect.poll(async () => (await lagging.get('setting', { useCache: true })).json, cachePolling).toBe('"v6"');
  });

  it('keeps its watch when etcd compacts history it has already applied', async () => {
    const prefix = uniqueKeyPrefix();
    const [first, second] = await openInstances(prefix, 2);
    for (let i = 0; i < 5; i++) await first!.put('counter', String(i));
    await expect.poll(() => cachedValues([first!, second!], 'counter'), cachePolling).toEqual(['4', '4']);
    const { header } = await env.clients.etcd.get(`${prefix}counter`).exec();
    await env.clients.etcd.kv.compact({ revision: header.revision, physical: true });
    await first!.put('counter', '5');
    await expect.poll(() => cachedValues([first!, second!], 'counter'), cachePolling).toEqual(['5', '5']);
    expect([first!.status().resyncs, second!.status().resyncs]).toEqual([0, 0]);
  });
});

describe('config-cache load test', () => {
  it('counts the stale reads of a cache that never invalidates (the seed’s student solutions)', async () => {
    // Reads through a cache that keeps the first value it saw: the values change every round, so it shows.
    const store = new Map<string, string>();
    const cached = new Map<string, string>();
    const naive = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const url = new URL(request.url!, 'http://x');
        const key = url.pathname;
        if (url.pathname === '/api/config-cache') return response.end('{}');
        if (request.method === 'PUT') store.set(key, body);
        if (request.method === 'DELETE') {
          store.delete(key);
          response.statusCode = 204;
          return response.end();
        }
        if (request.method === 'GET' && url.searchParams.get('use_cache') === 'true') {
          if (!cached.has(key) && store.has(key)) cached.set(key, store.get(key)!);
          return response.end(cached.get(key) ?? store.get(key) ?? 'null');
        }
        response.end(request.method === 'PUT' ? body : (store.get(key) ?? 'null'));
      });
    });
    await new Promise<void>((resolve) => naive.listen(0, '127.0.0.1', resolve));
    try {
      const result = await runConfigCacheLoad({
        targets: [`http://127.0.0.1:${(naive.address() as AddressInfo).port}`],
        users: 4,
        durationMs: 1000,
        maxRequests: 5000,
        thinkTimeMs: { min: 0, max: 0 },
        keyPath: 'load_tests',
        staleAfterMs: 0,
      });
      expect(result.staleReads).toBeGreaterThan(0);
      expect(result.failures).toBe(result.staleReads);
      expect(result.examples[0]).toMatch(/^GET \?use_cache=true: stale: .* answered ".*" \d+ ms after ".*" was written$/);
      // The users that read etcd (use_cache=false) see every round's value.
      expect(result.byRequest.find((r) => r.name === 'GET ?use_cache=false')!.failures).toBe(0);
    } finally {
      naive.close();
    }
  });
});
