// config-cache: the config API as the stack runs it (server/main.ts, N cluster instances, each also
// on its own port), on a private stack. In one run:
//   1. 8 instances: cached against uncached GET throughput (autocannon, alternating rounds), then
//      propagation lag: a write through one instance until the 7 others answer it from memory.
//   2. 64 instances: start-up, the seed's Locust mix with changing values (stale reads counted),
//      the same mix with no pauses, then every instance's digest against etcd's, and memory.
import autocannon from 'autocannon';
import { Agent, request } from 'undici';
import { loadConfig, type Config } from '../config.ts';
import { createConfigCacheEtcdClient } from '../db/clients.ts';
import { configDigest } from '../services/configCache.ts';
import { findFreePort, findFreePortRange, waitUntilHealthy } from '../scripts/processes.ts';
import { startAppProcess } from '../scripts/stack.ts';
import { startPrivateStack } from './privateStack.ts';
import type { ConfigCacheStatus } from '../services/configCache.shared.ts';
import { formatLoadResult, runConfigCacheLoad } from './configCacheLoad.ts';

const KEY_PREFIX = '/bench/config/';

export type InstanceStatus = ConfigCacheStatus & { digest: string; pid: number; rssBytes: number };

interface Instances {
  shared: string;
  urls: string[];
  startSeconds: number;
  statuses(): Promise<InstanceStatus[]>;
  stop(): Promise<void>;
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** GET /api/config-cache of one instance (on its own port). */
export async function statusOf(url: string): Promise<InstanceStatus> {
  return (await (await fetch(`${url}/api/config-cache`, { signal: AbortSignal.timeout(5000) })).json()) as InstanceStatus;
}

/** server/main.ts with `count` instances, each also on its own port; resolves when every cache is in step. */
async function startInstances(base: Config, count: number): Promise<Instances> {
  const [apiPort, basePort] = [await findFreePort(), await findFreePortRange(count)];
  const config = loadConfig({
    ...base.env,
    API_PORT: String(apiPort),
    API_INSTANCES: String(count),
    CONFIG_CACHE_KEY_PREFIX: KEY_PREFIX,
    CONFIG_CACHE_INSTANCE_BASE_PORT: String(basePort),
  });
  const urls = Array.from({ length: count }, (_, i) => `http://127.0.0.1:${basePort + i}`);
  console.log(`Starting server/main.ts with ${count} instances (ports ${basePort}–${basePort + count - 1})…`);
  const started = performance.now();
  const api = startAppProcess(`api-${count}`, 'server/main.ts', config, config.env);
  const statuses = () => Promise.all(urls.map(statusOf));
  await waitUntilHealthy(`${count} API instances`, async () => (await statuses()).every((s) => s.state === 'synced'), { timeoutMs: 300_000, intervalMs: 500, process: api });
  const startSeconds = (performance.now() - started) / 1000;
  console.log(`  all ${count} in step after ${startSeconds.toFixed(1)} s`);
  return { shared: `http://127.0.0.1:${apiPort}`, urls, startSeconds, statuses, stop: () => api.stop(30_000) };
}

/** Requests per second and latency of GET /config/<key> from memory and from etcd, alternating rounds on the shared port. */
async function throughput(instances: Instances) {
  const value = JSON.stringify({ service: 'checkout', timeoutsMs: { connect: 250, read: 2000 }, retries: 3, regions: ['eu-de', 'us-south'], flags: { beta: true } });
  await fetch(`${instances.urls[0]}/config/bench/throughput`, { method: 'PUT', body: value });
  const rounds: Record<'cached' | 'uncached', { rps: number; p50: number; p99: number }[]> = { cached: [], uncached: [] };
  // A short unmeasured round of each first: eight fresh processes have their code to compile.
  for (const cached of [true, false]) await autocannon({ url: `${instances.shared}/config/bench/throughput?use_cache=${cached}`, connections: 32, duration: 2 });
  for (let i = 0; i < 3; i++) {
    for (const mode of ['cached', 'uncached'] as const) {
      const outcome = await autocannon({ url: `${instances.shared}/config/bench/throughput?use_cache=${mode === 'cached'}`, connections: 32, duration: 4 });
      if (outcome.non2xx > 0 || outcome.errors > 0) throw new Error(`${mode} GETs failed: ${outcome.non2xx} non-2xx, ${outcome.errors} errors`);
      rounds[mode].push({ rps: outcome.requests.average, p50: outcome.latency.p50, p99: outcome.latency.p99 });
      console.log(`  ${mode.padEnd(8)} round ${i + 1}: ${Math.round(outcome.requests.average)} req/s, p50 ${outcome.latency.p50} ms, p99 ${outcome.latency.p99} ms`);
    }
  }
  const summary = (mode: 'cached' | 'uncached') => ({
    rps: Math.round(median(rounds[mode].map((r) => r.rps))),
    p50: median(rounds[mode].map((r) => r.p50)),
    p99: median(rounds[mode].map((r) => r.p99)),
  });
  return { cached: summary('cached'), uncached: summary('uncached') };
}

/**
 * Writes (every fifth a delete) through one instance after another; after each acknowledgement the
 * other instances are read with use_cache=true, back to back, until they answer the new value.
 */
async function propagation(instances: Instances, writes: number) {
  const agent = new Agent({ connections: 2, keepAliveTimeout: 30_000 });
  const send = async (url: string, method: string, body?: string) => {
    const response = await request(url, { method, body, dispatcher: agent });
    return { status: response.statusCode, text: await response.body.text() };
  };
  const lags: number[] = [];
  let unseen = 0;
  try {
    for (let i = 0; i < writes; i++) {
      const writer = i % instances.urls.length;
      const url = (index: number) => `${instances.urls[index]}/config/bench/propagation`;
      const deleting = i % 5 === 4;
      const expected = deleting ? 'null' : JSON.stringify({ write: i, at: Date.now() });
      const written = await send(url(writer), deleting ? 'DELETE' : 'PUT', deleting ? undefined : expected);
      if (written.status !== (deleting ? 204 : 200)) throw new Error(`write ${i} answered ${written.status} ${written.text}`);
      const acked = performance.now();
      await Promise.all(
        instances.urls.map(async (_, reader) => {
          if (reader === writer) return;
          for (;;) {
            if ((await send(`${url(reader)}?use_cache=true`, 'GET')).text === expected) return void lags.push(performance.now() - acked);
            if (performance.now() - acked > 5000) return void unseen++;
          }
        }),
      );
    }
  } finally {
    await agent.close();
  }
  lags.sort((a, b) => a - b);
  return { samples: lags.length, unseen, p50: percentile(lags, 50), p99: percentile(lags, 99), max: lags.at(-1)! };
}

/**
 * Every instance's digest against etcd's own listing of `keyPrefix`, waiting up to `waitMs` for
 * stragglers. Also the chaos benchmark's check.
 */
export async function digestsAgainstEtcd(config: Config, keyPrefix: string, statuses: () => Promise<InstanceStatus[]>, waitMs = 5000) {
  const etcd = createConfigCacheEtcdClient(config);
  try {
    const listing = await etcd.getAll().prefix(keyPrefix).exec();
    const expected = configDigest(listing.kvs.map((kv) => ({ key: kv.key.toString().slice(keyPrefix.length), revision: Number(kv.mod_revision) })));
    const deadline = Date.now() + waitMs;
    let current = await statuses();
    while (current.some((s) => s.digest !== expected) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      current = await statuses();
    }
    return { expected, keys: listing.kvs.length, revision: Number(listing.header.revision), inconsistent: current.filter((s) => s.digest !== expected).length, statuses: current };
  } finally {
    etcd.close();
  }
}

const megabytes = (bytes: number) => round(bytes / 1024 / 1024);

export async function configCacheBenchmark(): Promise<Record<string, unknown>> {
  console.log('Starting a private stack (Temporal, MariaDB, memcached, etcd)…');
  const { config, stop } = await startPrivateStack('config-cache', { CPU_LOAD_WORKERS: '0', FRACTAL_WORKERS: '0' }, false);
  try {
    const eight = await startInstances(config, 8);
    let get: Awaited<ReturnType<typeof throughput>>;
    let lag: Awaited<ReturnType<typeof propagation>>;
    let eightRss: number;
    try {
      console.log('GET throughput on the shared port, from memory (use_cache=true) and from etcd (use_cache=false), 32 connections, 3 × 4 s each:');
      get = await throughput(eight);
      console.log('Propagation across 8 instances (300 writes, every fifth a delete)…');
      lag = await propagation(eight, 300);
      console.log(`  ${lag.samples} reads: p50 ${lag.p50.toFixed(2)} ms, p99 ${lag.p99.toFixed(2)} ms, max ${lag.max.toFixed(2)} ms; never seen within 5 s: ${lag.unseen}`);
      eightRss = median((await eight.statuses()).map((s) => s.rssBytes));
    } finally {
      await eight.stop();
    }

    const sixtyFour = await startInstances(config, 64);
    try {
      // The seed's Locust users (wait 0.5–2 s), 8 per instance where the seed ran 40 on 4 instances,
      // started at 64 a second (the seed: 10) rather than in one burst of writes.
      console.log('Load: the seed’s mix (PUT, 20 GETs, DELETE) with changing values, 512 users (64 more a second) over the 64 instance ports, 40 s…');
      const load = await runConfigCacheLoad({
        targets: sixtyFour.urls,
        users: 512,
        spawnRatePerSecond: 64,
        durationMs: 40_000,
        maxRequests: 500_000,
        thinkTimeMs: { min: 500, max: 2000 },
        keyPath: 'load_tests',
        staleAfterMs: 1000,
      });
      console.log(formatLoadResult(load));
      console.log('Stress: the same mix with no pause, 128 users, 15 s…');
      const stress = await runConfigCacheLoad({
        targets: sixtyFour.urls,
        users: 128,
        durationMs: 15_000,
        maxRequests: 500_000,
        thinkTimeMs: { min: 0, max: 0 },
        keyPath: 'stress_tests',
        staleAfterMs: 1000,
      });
      console.log(formatLoadResult(stress));
      const check = await digestsAgainstEtcd(config, KEY_PREFIX, sixtyFour.statuses);
      console.log(`After the load: ${64 - check.inconsistent} of 64 instances hold exactly etcd's ${check.keys} keys at revision ${check.revision}.`);
      const rss = check.statuses.map((s) => s.rssBytes);
      return {
        instances: 64,
        cached_rps: get.cached.rps,
        uncached_rps: get.uncached.rps,
        ratio: round(get.cached.rps / get.uncached.rps, 2),
        cached_p50_ms: get.cached.p50,
        cached_p99_ms: get.cached.p99,
        uncached_p50_ms: get.uncached.p50,
        uncached_p99_ms: get.uncached.p99,
        propagation_instances: 8,
        propagation_p50_ms: round(lag.p50, 2),
        propagation_p99_ms: round(lag.p99, 2),
        propagation_max_ms: round(lag.max, 2),
        propagation_unseen: lag.unseen,
        stale_reads: load.staleReads + stress.staleReads,
        load_users: 512,
        load_requests: load.requests,
        load_rps: load.requestsPerSecond,
        load_failures: load.failures,
        stress_requests: stress.requests,
        stress_rps: stress.requestsPerSecond,
        stress_failures: stress.failures,
        stress_lagging_reads: stress.laggingReads,
        stress_max_lagging_ms: stress.maxLaggingMs,
        inconsistent_instances: check.inconsistent,
        start_s_64: round(sixtyFour.startSeconds),
        rss_mb_per_instance: megabytes(median(rss)),
        rss_mb_max: megabytes(Math.max(...rss)),
        rss_mb_per_instance_at_8: megabytes(eightRss),
      };
    } finally {
      await sixtyFour.stop();
    }
  } finally {
    await stop();
  }
}
