// The seed's Locust mix against the config API: each user PUTs its key once, GETs it 20 times and
// DELETEs it, then starts over; half the users read with use_cache=true, half with false. Unlike the
// seed, every round writes a new value, so a cache that missed a write or a delete answers with an
// old one, and that read is counted. Requests go round-robin over the targets, so reads land on
// other instances than the write. Bounded in time and count; loopback targets only.
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { ConfigError, loadConfig } from '../config.ts';
import { CONFIG_ROUTE } from '../services/configCache.shared.ts';

export interface ConfigCacheLoadOptions {
  /** Base URLs (http://127.0.0.1:PORT) of the instances, or of the shared API port. */
  targets: string[];
  users: number;
  durationMs: number;
  maxRequests: number;
  /** Pause before each request, drawn between min and max (Locust's `between(0.5, 2.0)` is 500–2000). */
  thinkTimeMs: { min: number; max: number };
  /** Where under /config/ the users' keys live (the seed's `load_tests`). */
  keyPath: string;
  /**
   * A read that answers an older value this long after the write was acknowledged is stale (a
   * failure); sooner, the write is still propagating to that instance, and the read is "lagging".
   */
  staleAfterMs: number;
  readsPerRound?: number;
  /** Users started per second, as Locust's hatch rate (the seed used 10); all at once when absent. */
  spawnRatePerSecond?: number;
}

export interface RequestStats {
  name: string;
  requests: number;
  failures: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface ConfigCacheLoadResult {
  targets: number;
  users: number;
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  /** Errors, unexpected statuses, wrong echoes and stale reads. */
  failures: number;
  staleReads: number;
  laggingReads: number;
  /** The longest a lagging read came after its write's acknowledgement. */
  maxLaggingMs: number;
  rounds: number;
  byRequest: RequestStats[];
  /** The first few failures, described. */
  examples: string[];
}

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Load goes to this machine only. */
export function assertLoopbackTargets(targets: string[]): void {
  if (targets.length === 0) throw new ConfigError('No targets to send load to.');
  for (const target of targets) {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new ConfigError(`${JSON.stringify(target)} is not a URL: give http://127.0.0.1:PORT.`);
    }
    if (url.protocol !== 'http:' || !loopbackHosts.has(url.hostname)) {
      throw new ConfigError(`${target} is not on this machine: the load test only sends to http://127.0.0.1 (or localhost).`);
    }
  }
}

/** Each target serves the config API (its status answers), so a typo or a stopped stack fails at once. */
async function assertTargetsAnswer(targets: string[]): Promise<void> {
  for (const target of targets) {
    const url = `${target.replace(/\/$/, '')}/api/config-cache`;
    const ok = await fetch(url, { signal: AbortSignal.timeout(5000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (!ok) throw new ConfigError(`${target} does not serve the config API (${url} did not answer 200): is the stack running there?`);
  }
}

const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const randomLetters = (length: number) => Array.from({ length }, () => letters[Math.floor(Math.random() * letters.length)]).join('');

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

export async function runConfigCacheLoad(options: ConfigCacheLoadOptions): Promise<ConfigCacheLoadResult> {
  assertLoopbackTargets(options.targets);
  const targets = options.targets.map((t) => t.replace(/\/$/, ''));
  const readsPerRound = options.readsPerRound ?? 20;
  const agent = new Agent({ keepAliveTimeout: 30_000, headersTimeout: 10_000, bodyTimeout: 10_000, connections: Math.max(4, Math.ceil((options.users * 2) / targets.length)) });
  const durations = new Map<string, number[]>();
  const failuresByName = new Map<string, number>();
  const requestsByName = new Map<string, number>();
  const examples: string[] = [];
  let requests = 0;
  let staleReads = 0;
  let laggingReads = 0;
  let maxLaggingMs = 0;
  let rounds = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const stopped = () => performance.now() >= deadline || requests >= options.maxRequests;

  const fail = (name: string, description: string) => {
    failuresByName.set(name, (failuresByName.get(name) ?? 0) + 1);
    if (examples.length < 10) examples.push(`${name}: ${description}`);
  };
  const think = async () => {
    const { min, max } = options.thinkTimeMs;
    const ms = min + Math.random() * (max - min);
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  };
  const send = async (name: string, method: string, url: string, body?: string) => {
    requests++;
    requestsByName.set(name, (requestsByName.get(name) ?? 0) + 1);
    const sentAt = performance.now();
    try {
      const response = await request(url, { method, body, headers: body ? { 'content-type': 'application/json' } : {}, dispatcher: agent });
      const text = await response.body.text();
      const list = durations.get(name) ?? [];
      list.push(performance.now() - sentAt);
      durations.set(name, list);
      return { status: response.statusCode, text, sentAt, instance: response.headers['x-instance'] };
    } catch (error) {
      fail(name, `${method} ${url}: ${(error as Error).message}`);
      return undefined;
    }
  };

  const user = async (index: number) => {
    if (options.spawnRatePerSecond) await new Promise((resolve) => setTimeout(resolve, (index / options.spawnRatePerSecond!) * 1000));
    const useCache = index % 2 === 0;
    const readName = `GET ?use_cache=${useCache}`;
    const key = `${options.keyPath}/${randomLetters(64)}`;
    let turn = index;
    const nextTarget = () => targets[turn++ % targets.length]!;
    while (!stopped()) {
      rounds++;
      const value = `${randomLetters(32)}-${rounds}`;
      const body = JSON.stringify({ test: value });
      await think();
      const put = await send('PUT', 'PUT', `${nextTarget()}${CONFIG_ROUTE}${key}`, body);
      if (put && (put.status !== 200 || put.text !== body)) fail('PUT', `answered ${put.status} ${put.text.slice(0, 120)}`);
      const written = put?.status === 200;
      const ackedAt = performance.now();
      for (let read = 0; read < readsPerRound && written && !stopped(); read++) {
        await think();
        const get = await send(readName, 'GET', `${nextTarget()}${CONFIG_ROUTE}${key}?use_cache=${useCache}`);
        if (!get) continue;
        if (get.status !== 200) {
          fail(readName, `answered ${get.status} ${get.text.slice(0, 120)}`);
          continue;
        }
        let seen: unknown;
        try {
          seen = (JSON.parse(get.text) as { test?: unknown } | null)?.test;
        } catch {
          seen = get.text;
        }
        if (seen === value) continue;
        const afterAckMs = get.sentAt - ackedAt;
        if (afterAckMs < options.staleAfterMs) {
          laggingReads++;
          maxLaggingMs = Math.max(maxLaggingMs, afterAckMs);
        } else {
          staleReads++;
          fail(readName, `stale: instance ${String(get.instance)} answered ${JSON.stringify(seen)} ${Math.round(afterAckMs)} ms after ${JSON.stringify(value)} was written`);
        }
      }
      await think();
      const removed = await send('DELETE', 'DELETE', `${nextTarget()}${CONFIG_ROUTE}${key}`);
      if (removed && removed.status !== 204) fail('DELETE', `answered ${removed.status} ${removed.text.slice(0, 120)}`);
    }
  };

  try {
    await Promise.all(Array.from({ length: options.users }, (_, index) => user(index)));
  } finally {
    await agent.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const byRequest = ['PUT', 'GET ?use_cache=true', 'GET ?use_cache=false', 'DELETE'].map((name): RequestStats => {
    const sorted = [...(durations.get(name) ?? [])].sort((a, b) => a - b);
    return {
      name,
      requests: requestsByName.get(name) ?? 0,
      failures: failuresByName.get(name) ?? 0,
      p50Ms: round2(percentile(sorted, 50)),
      p99Ms: round2(percentile(sorted, 99)),
      maxMs: round2(sorted.at(-1) ?? 0),
    };
  });
  return {
    targets: targets.length,
    users: options.users,
    seconds: round2(seconds),
    requests,
    requestsPerSecond: Math.round(requests / seconds),
    failures: [...failuresByName.values()].reduce((a, b) => a + b, 0),
    staleReads,
    laggingReads,
    maxLaggingMs: round2(maxLaggingMs),
    rounds,
    byRequest,
    examples,
  };
}

/** A Locust-like table of the result, one line per request type. */
export function formatLoadResult(result: ConfigCacheLoadResult): string {
  const rows = result.byRequest.map((r) => `${r.name.padEnd(22)} ${String(r.requests).padStart(9)} ${String(r.failures).padStart(9)} ${String(r.p50Ms).padStart(9)} ${String(r.p99Ms).padStart(9)} ${String(r.maxMs).padStart(9)}`);
  return [
    `${'request'.padEnd(22)} ${'# reqs'.padStart(9)} ${'# fails'.padStart(9)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)} ${'max ms'.padStart(9)}`,
    ...rows,
    `${result.requests} requests in ${result.seconds} s (${result.requestsPerSecond}/s) from ${result.users} users over ${result.targets} targets, ${result.rounds} rounds;` +
      ` stale reads ${result.staleReads}, lagging reads ${result.laggingReads} (longest ${result.maxLaggingMs} ms after the write), failures ${result.failures}`,
    ...result.examples.map((e) => `  ${e}`),
  ].join('\n');
}

const usage = `npm run load -- config-cache [options]
  --targets URL,URL…   instances to load (default: every instance port when CONFIG_CACHE_INSTANCE_BASE_PORT is set, else the API port)
  --users N            simulated users, half with use_cache=true (default 40, at most 1000)
  --seconds N          how long (default 30, at most 600)
  --max-requests N     stop after this many requests (default 200000, at most 1000000)
  --think-ms MIN-MAX   pause before each request (default 500-2000, Locust's between(0.5, 2.0))
  --spawn-rate N       users started per second (default 10, the seed's hatch rate; 0 starts all at once)
  --stale-after-ms N   an old value read this long after the write is stale (default 1000)
  --key-path PATH      keys go under /config/PATH/ (default load_tests)`;

function wholeNumber(raw: string | undefined, name: string, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > max) throw new ConfigError(`--${name} must be a whole number up to ${max}.\n${usage}`);
  return Number(raw);
}

/** `npm run load -- config-cache …`: exits 1 when any request failed or any read was stale. */
export async function configCacheLoadCli(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      targets: { type: 'string' },
      users: { type: 'string' },
      seconds: { type: 'string' },
      'max-requests': { type: 'string' },
      'think-ms': { type: 'string' },
      'spawn-rate': { type: 'string' },
      'stale-after-ms': { type: 'string' },
      'key-path': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const config = loadConfig();
  const { instanceBasePort } = config.configCache;
  const host = config.api.host === 'localhost' ? 'localhost' : '127.0.0.1';
  const defaultTargets =
    instanceBasePort === undefined
      ? [`http://${host}:${config.api.port}`]
      : Array.from({ length: config.api.instances }, (_, i) => `http://${host}:${instanceBasePort + i}`);
  const think = /^(\d+)(?:-(\d+))?$/.exec(values['think-ms'] ?? '500-2000');
  if (!think || Number(think[2] ?? think[1]) < Number(think[1])) throw new ConfigError(`--think-ms must look like 500-2000.\n${usage}`);
  const options: ConfigCacheLoadOptions = {
    targets: values.targets ? values.targets.split(',').map((t) => t.trim()) : defaultTargets,
    users: Math.max(1, wholeNumber(values.users, 'users', 40, 1000)),
    durationMs: Math.max(1, wholeNumber(values.seconds, 'seconds', 30, 600)) * 1000,
    maxRequests: wholeNumber(values['max-requests'], 'max-requests', 200_000, 1_000_000),
    thinkTimeMs: { min: Number(think[1]), max: Number(think[2] ?? think[1]) },
    spawnRatePerSecond: wholeNumber(values['spawn-rate'], 'spawn-rate', 10, 10_000) || undefined,
    staleAfterMs: wholeNumber(values['stale-after-ms'], 'stale-after-ms', 1000, 60_000),
    keyPath: (values['key-path'] ?? 'load_tests').replace(/^\/+|\/+$/g, ''),
  };
  assertLoopbackTargets(options.targets);
  await assertTargetsAnswer(options.targets);
  console.log(`Config-cache load: ${options.users} users for up to ${options.durationMs / 1000} s against ${options.targets.join(', ')}`);
  const result = await runConfigCacheLoad(options);
  console.log(formatLoadResult(result));
  console.log(JSON.stringify({ load: 'config-cache', ...result }));
  return result.failures > 0 || result.staleReads > 0 ? 1 : 0;
}
