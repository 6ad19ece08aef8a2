// The config cache as the stack runs it: server/main.ts with three cluster instances, each also on
// its own port (CONFIG_CACHE_INSTANCE_BASE_PORT), against the test stack's etcd.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { hostEnv, projectRoot } from '../config.ts';
import type { ConfigCacheStatus } from '../services/configCache.shared.ts';
import { findFreePort, findFreePortRange } from '../scripts/processes.ts';
import { runConfigCacheLoad } from '../bench/configCacheLoad.ts';
import { cachePolling, uniqueKeyPrefix } from './support/configCache.ts';

const INSTANCES = 3;

describe('config cache across API processes (server/main.ts, 3 instances)', () => {
  let api: ChildProcess;
  let exited: Promise<unknown>;
  let output = '';
  let shared: string;
  let instanceUrls: string[];
  const prefix = uniqueKeyPrefix();

  beforeAll(async () => {
    const [apiPort, basePort] = [await findFreePort(), await findFreePortRange(INSTANCES)];
    shared = `http://127.0.0.1:${apiPort}`;
    instanceUrls = Array.from({ length: INSTANCES }, (_, i) => `http://127.0.0.1:${basePort + i}`);
    api = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'server/main.ts')], {
      cwd: projectRoot,
      env: hostEnv({
        ...inject('stackEnv'),
        API_PORT: String(apiPort),
        API_INSTANCES: String(INSTANCES),
        CONFIG_CACHE_INSTANCE_BASE_PORT: String(basePort),
        CONFIG_CACHE_KEY_PREFIX: prefix,
        CPU_LOAD_WORKERS: '0',
        FRACTAL_WORKERS: '0',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    api.stdout!.on('data', (data: Buffer) => (output += data.toString()));
    api.stderr!.on('data', (data: Buffer) => (output += data.toString()));
    exited = new Promise((resolve) => api.once('exit', resolve));
    await vi.waitFor(
      async () => {
        if (api.exitCode !== null) throw new Error(`server/main.ts exited:\n${output}`);
        const states = await Promise.all(instanceUrls.map(async (url) => ((await (await fetch(`${url}/api/config-cache`)).json()) as ConfigCacheStatus).state));
        expect(states, 'every instance in step on its own port').toEqual(instanceUrls.map(() => 'synced'));
      },
      { timeout: 60_000, interval: 100 },
    );
  });
  afterAll(async () => {
    api?.kill('SIGTERM');
    await exited;
  });

  it('addresses each instance on its own port; a write through one is read from memory on the others', async () => {
    const statuses = await Promise.all(instanceUrls.map(async (url) => (await (await fetch(`${url}/api/config-cache`)).json()) as ConfigCacheStatus & { pid: number; rssBytes: number }));
    expect(statuses.map((s) => s.instance)).toEqual(['1', '2', '3']);
    expect(new Set(statuses.map((s) => s.pid)).size).toBe(INSTANCES);
    expect(statuses.every((s) => s.keyPrefix === prefix && s.rssBytes > 0)).toBe(true);

    const written = await fetch(`${instanceUrls[0]}/config/service/timeouts`, { method: 'PUT', body: '{"connectMs": 250}' });
    expect(written.status).toBe(200);
    expect(written.headers.get('x-instance')).toBe('1');
    for (const [index, url] of instanceUrls.entries()) {
      const read = await vi.waitFor(async () => {
        const response = await fetch(`${url}/config/service/timeouts`);
        expect(await response.text(), `the write on instance ${index + 1}`).toBe('{"connectMs": 250}');
        return response;
      }, cachePolling);
      expect(read.headers.get('x-instance')).toBe(String(index + 1));
      expect(read.headers.get('x-config-source')).toBe('cache');
      expect(Number(read.headers.get('x-cache-revision'))).toBeGreaterThan(0);
    }

    expect((await fetch(`${instanceUrls[2]}/config/service/timeouts`, { method: 'DELETE' })).status).toBe(204);
    for (const url of instanceUrls) {
      await expect.poll(async () => (await fetch(`${url}/config/service/timeouts`)).text(), { ...cachePolling, message: `the delete on ${url}` }).toBe('null');
    }
    // The shared port (the cluster's) serves the same API from any instance.
    const viaShared = await fetch(`${shared}/config/service/timeouts?use_cache=false`);
    expect(await viaShared.text()).toBe('null');
    expect(['1', '2', '3']).toContain(viaShared.headers.get('x-instance'));
  });

  it('passes a short load test of the seed’s mix with no stale read', async () => {
    const result = await runConfigCacheLoad({
      targets: instanceUrls,
      users: 6,
      // Bounded by count, not time: a busy machine sends them more slowly, never fewer.
      durationMs: 60_000,
      maxRequests: 600,
      thinkTimeMs: { min: 0, max: 2 },
      keyPath: 'load_tests',
      staleAfterMs: 1000,
    });
    expect(result.examples).toEqual([]);
    expect(result).toMatchObject({ failures: 0, staleReads: 0 });
    expect(result.requests).toBeGreaterThanOrEqual(600);
    expect(result.byRequest.find((r) => r.name === 'GET ?use_cache=true')!.requests).toBeGreaterThan(100);
    // Afterwards every instance holds the same keys at the same revisions.
    await expect.poll(async () => {
      const digests = await Promise.all(instanceUrls.map(async (url) => ((await (await fetch(`${url}/api/config-cache`)).json()) as { digest: string }).digest));
      return new Set(digests).size;
    }, { ...cachePolling, message: 'equal digests' }).toBe(1);
  });

  // A new instance process starts under tsx: on a busy 2-core machine that can take tens of seconds.
  it('replaces an instance that dies, on its own port and number, while the others keep serving', { timeout: 90_000 }, async () => {
    const status = async (url: string) => (await (await fetch(url + '/api/config-cache')).json()) as ConfigCacheStatus & { pid: number };
    const killed = await status(instanceUrls[1]!);
    process.kill(killed.pid, 'SIGKILL');
    let servedMeanwhile = 0;
    await vi.waitFor(
      async () => {
        if ((await fetch(`${shared}/healthz`).catch(() => undefined))?.ok) servedMeanwhile++;
        // On a timeout, the API's own log says what the replacement did.
        const fresh = await status(instanceUrls[1]!).catch((error: Error) => {
          throw new Error(`instance 2 does not answer (${error.message}); the API's log:\n${output.slice(-3000)}`);
        });
        expect(fresh.pid, output.slice(-3000)).not.toBe(killed.pid);
        expect(fresh, output.slice(-3000)).toMatchObject({ instance: '2', state: 'synced' });
      },
      { timeout: 60_000, interval: 100 },
    );
    expect(api.exitCode, output).toBeNull();
    expect(servedMeanwhile).toBeGreaterThan(0);
    expect(output).toContain('API instance 2 exited (SIGKILL); restarting it in 0.5 s (restart 1 of 5 in 5 min)');
    expect(await Promise.all(instanceUrls.map(async (url) => (await status(url)).instance))).toEqual(['1', '2', '3']);
  });
});
