// The config cache when etcd goes away: restarted under the instances, or cut off from one of them.
// This file runs its own etcd (the shared test stack's must stay up for the other files).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { hostEnv, type Config } from '../config.ts';
import { createConfigCacheEtcdClient } from '../db/clients.ts';
import { ConfigStoreUnavailableError } from '../services/configCache.ts';
import { findFreePort, type ManagedProcess } from '../scripts/processes.ts';
import { startEtcd } from '../scripts/services.ts';
import { cacheFactory, cachedValues, cachePolling, uniqueKeyPrefix } from './support/configCache.ts';
import { testConfig } from './support/stack.ts';

/**
 * A TCP proxy in front of etcd that partitions the network: `cut` resets every connection and
 * refuses new ones; `silence` keeps them open but lets nothing through, as a partition that resets
 * nothing does.
 */
async function partitionableProxy(target: { host: string; port: number }) {
  const sockets = new Set<Socket>();
  let mode: 'open' | 'cut' | 'silent' = 'open';
  const server: Server = createServer((client) => {
    if (mode === 'cut') return client.destroy();
    client.once('error', () => {});
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    if (mode === 'silent') return client.pause();
    const upstream = connect(target.port, target.host);
    upstream.once('error', () => {});
    sockets.add(upstream);
    upstream.once('close', () => sockets.delete(upstream));
    client.pipe(upstream).pipe(client);
  });
  const port = await findFreePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    cut() {
      mode = 'cut';
      for (const socket of sockets) socket.destroy();
    },
    silence() {
      mode = 'silent';
      for (const socket of sockets) {
        socket.unpipe();
        socket.pause();
      }
    },
    restore() {
      if (mode === 'silent') for (const socket of sockets) socket.destroy();
      mode = 'open';
    },
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

describe('config cache when etcd goes away (its own etcd)', () => {
  let dataDir: string;
  let config: Config;
  let etcdServer: ManagedProcess;
  let caches: ReturnType<typeof cacheFactory>;
  let writer: Etcd3;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'config-cache-etcd-'));
    const [port, peerPort] = [await findFreePort(), await findFreePort()];
    config = testConfig({ ETCD_PORT: String(port), ETCD_PEER_PORT: String(peerPort), FLEET_DATA_DIR: dataDir });
    etcdServer = await startEtcd(config, hostEnv());
    caches = cacheFactory(config);
    writer = createConfigCacheEtcdClient(config);
  });
  afterAll(async () => {
    await caches?.closeAll();
    writer?.close();
    await etcdServer?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('resynchronises every instance after etcd restarts, with no stale value after recovery', async () => {
    const prefix = uniqueKeyPrefix();
    const instances = ['r1', 'r2', 'r3'].map((name) => caches.open(prefix, name));
    await Promise.all(instances.map((c) => c.whenSynced()));
    await instances[0]!.put('limits', '"v1"');
    await instances[0]!.put('doomed', '"soon gone"');
    await expect.poll(() => cachedValues(instances, 'limits'), { ...cachePolling, message: 'v1 everywhere' }).toEqual(instances.map(() => '"v1"'));

    await etcdServer.stop();
    await expect.poll(() => instances.map((c) => c.state), { ...cachePolling, message: 'every instance out of step' }).toEqual(instances.map(() => 'resyncing'));
    // Out of step, a cached read goes to etcd, which is down: an error, never a value from before.
    for (const cache of instances) await expect(cache.get('limits', { useCache: true })).rejects.toBeInstanceOf(ConfigStoreUnavailableError);

    etcdServer = await startEtcd(config, hostEnv());
    const restartedAt = performance.now();
    // Once etcd answers the writer:
    await vi.waitFor(() => writer.put(`${prefix}limits`).value('"v2"'), { ...cachePolling, timeout: 10_000 });
    await writer.delete().key(`${prefix}doomed`);
    await writer.put(`${prefix}added`).value('"after the restart"');

    const seen = new Map<string, string[]>();
    await vi
      .waitFor(async () => {
        let allInStep = true;
        for (const cache of instances) {
          const [limits, doomed, added] = await Promise.all(['limits', 'doomed', 'added'].map(async (key) => (await cache.get(key, { useCache: true })).json));
          seen.set(cache.instance, [...(seen.get(cache.instance) ?? []), limits ?? 'null']);
          allInStep &&= cache.state === 'synced' && limits === '"v2"' && doomed === null && added === '"after the restart"';
        }
        expect(allInStep, 'every instance in step on the new values').toBe(true);
      }, { ...cachePolling, timeout: 10_000 })
      .catch(() => undefined);
    for (const cache of instances) {
      expect(cache.state, cache.instance).toBe('synced');
      expect(cache.status().resyncs, cache.instance).toBeGreaterThanOrEqual(1);
      expect(await cachedValues([cache], 'limits')).toEqual(['"v2"']);
      expect(await cachedValues([cache], 'doomed')).toEqual([null]);
      // Once it has shown v2, an instance never goes back to v1.
      const history = seen.get(cache.instance)!;
      expect(history.slice(history.indexOf('"v2"')), cache.instance).not.toContain('"v1"');
    }
    console.log(`in step again ${Math.round(performance.now() - restartedAt)} ms after etcd was back`);
  });

  it('catches up an instance cut off from etcd (a partition) without ever serving what it missed', async () => {
    const prefix = uniqueKeyPrefix();
    const proxy = await partitionableProxy(config.etcd);
    try {
      const direct = caches.open(prefix, 'direct');
      const behind = caches.open(prefix, 'behind-proxy', { etcd: createConfigCacheEtcdClient({ ...config, etcd: { ...config.etcd, port: proxy.port } }) });
      await Promise.all([direct.whenSynced(), behind.whenSynced()]);
      await direct.put('route', '"blue"');
      await direct.put('doomed', '"here"');
      await expect.poll(async () => (await behind.get('route', { useCache: true })).json, { ...cachePolling, message: 'blue behind the proxy' }).toBe('"blue"');

      proxy.cut();
      await expect.poll(() => behind.state, { ...cachePolling, message: 'the cut-off instance out of step' }).toBe('resyncing');
      await direct.put('route', '"green"');
      await direct.delete('doomed');
      await direct.put('added', '"while cut off"');
      await expect(behind.get('route', { useCache: true })).rejects.toBeInstanceOf(ConfigStoreUnavailableError);

      proxy.restore();
      await vi.waitFor(async () => {
        expect(behind.state, 'the cut-off instance in step again').toBe('synced');
        expect((await behind.get('route', { useCache: true })).json).toBe('"green"');
      }, { ...cachePolling, timeout: 10_000 });
      expect(await cachedValues([behind], 'doomed')).toEqual([null]);
      expect(await cachedValues([behind], 'added')).toEqual(['"while cut off"']);
      expect(behind.status().resyncs).toBeGreaterThanOrEqual(1);
      expect(behind.revision).toBeGreaterThanOrEqual(direct.revision);
    } finally {
      await proxy.close();
    }
  });

  it('notices a silent partition by its keepalive pings, then reads etcd rather than its memory', async () => {
    const prefix = uniqueKeyPrefix();
    const proxy = await partitionableProxy(config.etcd);
    try {
      const direct = caches.open(prefix, 'direct');
      const etcd = createConfigCacheEtcdClient({ ...config, etcd: { ...config.etcd, port: proxy.port } }, { callTimeoutMs: 1000, keepalive: { intervalMs: 5000, timeoutMs: 1000 } });
      const behind = caches.open(prefix, 'behind-silence', { etcd });
      await Promise.all([direct.whenSynced(), behind.whenSynced()]);
      await direct.put('route', '"blue"');
      await expect.poll(async () => (await behind.get('route', { useCache: true })).json, { ...cachePolling, message: 'blue behind the proxy' }).toBe('"blue"');

      proxy.silence();
      const silencedAt = performance.now();
      await direct.put('route', '"green"');
      // Nothing tells it: until a ping goes unanswered it still serves blue (the bound is interval + timeout).
      await expect.poll(() => behind.state, { timeout: 8000, interval: 50, message: 'the silenced instance out of step' }).toBe('resyncing');
      const noticedMs = performance.now() - silencedAt;
      expect(noticedMs).toBeLessThan(7000);
      await expect(behind.get('route', { useCache: true })).rejects.toBeInstanceOf(ConfigStoreUnavailableError);

      proxy.restore();
      await vi.waitFor(async () => {
        expect(behind.state, 'green behind the proxy').toBe('synced');
        expect((await behind.get('route', { useCache: true })).json).toBe('"green"');
      }, { ...cachePolling, timeout: 10_000 });
      console.log(`a silent partition noticed after ${Math.round(noticedMs)} ms`);
    } finally {
      await proxy.close();
    }
  });
});
