// Collecting counters: one call takes every counter the given nodes need, once. All of a node's SSH
// counters run in one login (one generated script, each counter in its own subshell under its own
// timeout); each distinct HTTP URL is fetched once; each CF app's process stats are read once and
// recorded under the pseudo-node `cf:<app>`. Nodes are worked on a few at a time, the whole call has
// a deadline, and a counter that could not be read is a failed sample (value null, with the reason),
// never an exception: a missing sample neither breaches nor clears.
import proto from '@temporalio/proto';
import type { temporal } from '@temporalio/proto';
import { isLoopbackHost } from '../../config.ts';
import { DEFAULT_FOUNDATION } from '../../workflows/cfConverge.shared.ts';
import type { SshTarget } from '../../workflows/nodes.shared.ts';
import type { Counter, Sample } from '../../workflows/triggers.shared.ts';
import { CfApiError, type CfClient, type ProcessStats } from '../cf/client.ts';
import type { SshRunner } from '../nodes/ssh.ts';
import {
  batchOutputBytes,
  batchScript,
  counterRunValue,
  newBoundary,
  numberAtPointer,
  parseBatchOutput,
  parsePrometheusText,
  selectPrometheusValue,
  type PromSample,
} from './counterFormats.ts';

// CommonJS package: named imports do not resolve under ESM.
const { TaskQueueKind, TaskQueueType } = proto.temporal.api.enums.v1;

type SshCounter = Extract<Counter, { kind: 'ssh' }>;
type HttpCounter = Extract<Counter, { kind: 'http' }>;
type CfProcessCounter = Extract<Counter, { kind: 'cf-process' }>;
type QueueBacklogCounter = Extract<Counter, { kind: 'queue-backlog' }>;

/** A task queue's activity backlog: approximate tasks waiting, and the oldest one's wait in seconds. */
export interface QueueBacklog {
  count: number;
  ageSeconds: number;
}
/** Reads a task queue's backlog (createQueueBacklogReader: Temporal's DescribeTaskQueue with stats). */
export type QueueBacklogReader = (taskQueue: string, signal: AbortSignal) => Promise<QueueBacklog>;

/** A CF app by names, as a cf-process counter gives it. */
export interface CfAppRef {
  foundation?: string;
  org: string;
  space: string;
  app: string;
}

/** The web process's per-instance stats of an app (CC v3 `GET /v3/apps/:guid/processes/web/stats`). */
export type CfProcessStatsReader = (app: CfAppRef, signal: AbortSignal) => Promise<ProcessStats[]>;

export interface CollectTimeouts {
  /** One SSH counter's script (timeout(1) on the node). */
  counterMs: number;
  /** One HTTP GET, or one CF stats read. */
  httpMs: number;
  /** The whole call, unless the request sets its own. */
  overallMs: number;
}

export const defaultCollectTimeouts: CollectTimeouts = { counterMs: 10_000, httpMs: 5000, overallMs: 30_000 };

export interface CounterCollectorDeps {
  ssh: SshRunner;
  fetch?: typeof fetch;
  /** Needed only for cf-process counters (createCfProcessStatsReader). */
  cfStats?: CfProcessStatsReader;
  /** Needed only for queue-backlog counters (createQueueBacklogReader). */
  queueBacklog?: QueueBacklogReader;
  /** Hosts HTTP counters may call besides loopback names (COUNTER_ALLOWED_HOSTS), compared case-insensitively. */
  allowedHosts: readonly string[];
  timeouts?: Partial<CollectTimeouts>;
  /** Nodes worked on at once. */
  parallelism?: number;
  /** Largest HTTP answer read, in bytes. */
  maxHttpBytes?: number;
  now?: () => Date;
}

export interface CollectRequest {
  nodes: SshTarget[];
  counters: Counter[];
  timeoutMs?: number;
}

export interface CounterCollector {
  /** Every counter on every node (cf-process counters once, under `cf:<app>`); rejects only when `signal` aborts. */
  collect(request: CollectRequest, signal?: AbortSignal): Promise<Sample[]>;
}

/** The pseudo-node a cf-process counter's samples are recorded under. */
export const cfPseudoNode = (app: string) => `cf:${app}`;
/** The pseudo-node a queue-backlog counter's samples are recorded under. */
export const queuePseudoNode = (taskQueue: string) => `queue:${taskQueue}`;

/** Renders `{host}` and `{node}` (URL-encoded; an IPv6 host in brackets). */
export function renderCounterUrl(template: string, node: Pick<SshTarget, 'host' | 'node'>): string {
  const host = node.host.includes(':') && !node.host.startsWith('[') ? `[${node.host}]` : encodeURIComponent(node.host);
  return template.replace(/\{host\}/g, host).replace(/\{node\}/g, encodeURIComponent(node.node));
}

/** Why an HTTP counter may not call `url`, or undefined when it may: loopback names and `allowedHosts` only. */
export function refusedCounterUrl(url: string, allowedHosts: readonly string[]): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${url} is not a URL`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `${url} is not http(s)`;
  const host = parsed.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  const allowed = isLoopbackHost(host) || allowedHosts.some((entry) => entry.toLowerCase().replace(/^\[(.*)\]$/, '$1') === host);
  return allowed ? undefined : `host ${host} is not in COUNTER_ALLOWED_HOSTS`;
}

/** Runs `work` over `items`, at most `limit` at a time, results in order (work must not reject). */
async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, lane));
  return results;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** An HTTP answer, read once per URL and parsed at most once per format. */
interface HttpAnswer {
  text?: string;
  error?: string;
  json?: { document: unknown } | { error: string };
  prometheus?: { samples: PromSample[] } | { error: string };
}

async function readBounded(response: Response, limit: number): Promise<string> {
  const tooLarge = () => new Error(`the answer is larger than ${limit} bytes`);
  if (Number(response.headers.get('content-length') ?? 0) > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  // A fetch without a stream (the CF client's fast fetch) is read whole, then checked.
  if (!response.body || typeof response.body.getReader !== 'function') {
    const text = await response.text();
    if (Buffer.byteLength(text) > limit) throw tooLarge();
    return text;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function createCounterCollector(deps: CounterCollectorDeps): CounterCollector {
  const timeouts = { ...defaultCollectTimeouts, ...deps.timeouts };
  const fetchFn = deps.fetch ?? fetch;
  const parallelism = deps.parallelism ?? 8;
  const maxHttpBytes = deps.maxHttpBytes ?? 4 * 1024 * 1024;
  const now = deps.now ?? (() => new Date());
  const sample = (counter: string, node: string, result: { value: number } | { error: string }): Sample =>
    'value' in result ? { counter, node, at: now().toISOString(), value: result.value } : { counter, node, at: now().toISOString(), value: null, error: result.error };

  async function sshSamples(node: SshTarget, counters: SshCounter[], signal: AbortSignal, stopped: () => string): Promise<Sample[]> {
    if (counters.length === 0) return [];
    const failAll = (error: string) => counters.map((c) => sample(c.name, node.node, { error }));
    const boundary = newBoundary();
    const scripts = counters.map((c) => ({ script: c.script, timeoutMs: timeouts.counterMs }));
    let result;
    try {
      result = await deps.ssh.run(node, 'sh -s', {
        stdin: batchScript(scripts, boundary),
        // timeout(1) ends each script; the margin covers the login and its -k grace.
        timeoutMs: timeouts.counterMs + 5000,
        maxOutputBytes: batchOutputBytes(counters.length, boundary),
        signal,
      });
    } catch (error) {
      return failAll(signal.aborted ? stopped() : messageOf(error));
    }
    const parsed = parseBatchOutput(result.stdout, boundary, counters.length);
    if (parsed.setupError) return failAll(`the node could not run counters (${parsed.setupError})`);
    return counters.map((counter, index) => {
      const run = parsed.runs.get(index);
      if (run) return sample(counter.name, node.node, counterRunValue(run, timeouts.counterMs));
      const why = result.timedOut
        ? `the SSH command did not finish within ${timeouts.counterMs + 5000} ms`
        : `no result from the node (exit ${result.exitCode ?? result.signal}${result.stderr.trim() ? `: ${result.stderr.trim().split('\n')[0]!.slice(0, 200)}` : ''})`;
      return sample(counter.name, node.node, { error: why });
    });
  }

  return {
    async collect(request, signal) {
      signal?.throwIfAborted();
      const overallMs = request.timeoutMs ?? timeouts.overallMs;
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(), overallMs);
      const callSignal = signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal;
      const stopped = () => (signal?.aborted ? 'the collection was cancelled' : `the collection did not finish within ${overallMs} ms`);

      const sshCounters = request.counters.filter((c): c is SshCounter => c.kind === 'ssh');
      const httpCounters = request.counters.filter((c): c is HttpCounter => c.kind === 'http');
      const cfCounters = request.counters.filter((c): c is CfProcessCounter => c.kind === 'cf-process');
      const queueCounters = request.counters.filter((c): c is QueueBacklogCounter => c.kind === 'queue-backlog');
      const answers = new Map<string, Promise<HttpAnswer>>();

      const answerFor = (url: string): Promise<HttpAnswer> => {
        let answer = answers.get(url);
        if (!answer) {
          answer = (async (): Promise<HttpAnswer> => {
            try {
              const response = await fetchFn(url, { signal: AbortSignal.any([callSignal, AbortSignal.timeout(timeouts.httpMs)]), redirect: 'manual', headers: { accept: 'application/json, text/plain;version=0.0.4;q=0.9, */*;q=0.1' } });
              // A redirect could lead outside the allowed hosts: it is not followed.
              if (response.status < 200 || response.status >= 300) {
                await response.body?.cancel().catch(() => undefined);
                return { error: `${url} answered HTTP ${response.status}` };
              }
              return { text: await readBounded(response, maxHttpBytes) };
            } catch (error) {
              if (callSignal.aborted) return { error: stopped() };
              const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${timeouts.httpMs} ms` : messageOf((error as Error).cause ?? error);
              return { error: `GET ${url}: ${reason}` };
            }
          })();
          answers.set(url, answer);
        }
        return answer;
      };

      async function httpSample(counter: HttpCounter, node: SshTarget): Promise<Sample> {
        const url = renderCounterUrl(counter.url, node);
        const refused = refusedCounterUrl(url, deps.allowedHosts);
        if (refused) return sample(counter.name, node.node, { error: `refused: ${refused}` });
        const answer = await answerFor(url);
        if (answer.text === undefined) return sample(counter.name, node.node, { error: answer.error ?? 'no answer' });
        if (counter.format === 'json') {
          answer.json ??= (() => {
            try {
              return { document: JSON.parse(answer.text) as unknown };
            } catch {
              return { error: `${url} did not answer JSON` };
            }
          })();
          return sample(counter.name, node.node, 'error' in answer.json ? answer.json : numberAtPointer(answer.json.document, counter.jsonPointer ?? ''));
        }
        answer.prometheus ??= (() => {
          try {
            return { samples: parsePrometheusText(answer.text) };
          } catch (error) {
            return { error: `${url} did not answer Prometheus text (${messageOf(error)})` };
          }
        })();
        if ('error' in answer.prometheus) return sample(counter.name, node.node, answer.prometheus);
        if (!counter.metric) return sample(counter.name, node.node, { error: 'the counter names no metric' });
        return sample(counter.name, node.node, selectPrometheusValue(answer.prometheus.samples, counter.metric, counter.labels));
      }

      async function nodeSamples(node: SshTarget): Promise<Sample[]> {
        if (callSignal.aborted) return [...sshCounters, ...httpCounters].map((c) => sample(c.name, node.node, { error: stopped() }));
        const [ssh, http] = await Promise.all([sshSamples(node, sshCounters, callSignal, stopped), Promise.all(httpCounters.map((c) => httpSample(c, node)))]);
        // In the order the counters were given.
        const byCounter = new Map([...ssh, ...http].map((s) => [s.counter, s]));
        return request.counters.filter((c) => c.kind === 'ssh' || c.kind === 'http').map((c) => byCounter.get(c.name)!);
      }

      async function cfSamples(): Promise<Sample[]> {
        const apps = new Map<string, CfProcessCounter[]>();
        for (const counter of cfCounters) {
          const key = JSON.stringify([counter.foundation ?? DEFAULT_FOUNDATION, counter.org, counter.space, counter.app]);
          apps.set(key, [...(apps.get(key) ?? []), counter]);
        }
        const groups = await mapBounded([...apps.values()], parallelism, async (counters) => {
          const ref = counters[0]!;
          const node = cfPseudoNode(ref.app);
          if (!deps.cfStats) return counters.map((c) => sample(c.name, node, { error: 'no CF foundation is configured for counters' }));
          let stats: ProcessStats[];
          try {
            stats = await deps.cfStats(ref, AbortSignal.any([callSignal, AbortSignal.timeout(timeouts.httpMs)]));
          } catch (error) {
            const why = callSignal.aborted ? stopped() : (error as Error).name === 'TimeoutError' ? `no answer within ${timeouts.httpMs} ms` : messageOf(error);
            return counters.map((c) => sample(c.name, node, { error: `process stats of ${ref.org}/${ref.space}/${ref.app}: ${why}` }));
          }
          return counters.map((c) => sample(c.name, node, cfMetric(stats, c.metric)));
        });
        return groups.flat();
      }

      // Each distinct queue is described once per call, whatever the number of nodes.
      async function queueSamples(): Promise<Sample[]> {
        const queues = new Map<string, QueueBacklogCounter[]>();
        for (const counter of queueCounters) queues.set(counter.taskQueue, [...(queues.get(counter.taskQueue) ?? []), counter]);
        const groups = await mapBounded([...queues.entries()], parallelism, async ([taskQueue, counters]) => {
          const node = queuePseudoNode(taskQueue);
          if (!deps.queueBacklog) return counters.map((c) => sample(c.name, node, { error: 'no Temporal client is configured for queue-backlog counters' }));
          let backlog: QueueBacklog;
          try {
            backlog = await deps.queueBacklog(taskQueue, AbortSignal.any([callSignal, AbortSignal.timeout(timeouts.httpMs)]));
          } catch (error) {
            const why = callSignal.aborted ? stopped() : (error as Error).name === 'TimeoutError' ? `no answer within ${timeouts.httpMs} ms` : messageOf(error);
            return counters.map((c) => sample(c.name, node, { error: `backlog of task queue ${taskQueue}: ${why}` }));
          }
          return counters.map((c) => sample(c.name, node, { value: c.metric === 'age-seconds' ? backlog.ageSeconds : backlog.count }));
        });
        return groups.flat();
      }

      try {
        const [perNode, cf, queues] = await Promise.all([
          sshCounters.length + httpCounters.length > 0 ? mapBounded(request.nodes, parallelism, nodeSamples) : [],
          cfSamples(),
          queueSamples(),
        ]);
        signal?.throwIfAborted();
        return [...perNode.flat(), ...cf, ...queues];
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** CPU percent averaged over running instances, memory bytes summed over them, or how many run. */
export function cfMetric(stats: readonly ProcessStats[], metric: CfProcessCounter['metric']): { value: number } | { error: string } {
  const running = stats.filter((s) => s.state === 'RUNNING');
  switch (metric) {
    case 'instances':
      return { value: running.length };
    case 'memory':
      return { value: running.reduce((sum, s) => sum + (s.usage?.mem ?? 0), 0) };
    case 'cpu': {
      const cpus = running.map((s) => s.usage?.cpu).filter((cpu): cpu is number => typeof cpu === 'number' && Number.isFinite(cpu));
      if (cpus.length === 0) return { error: `no running instance reports CPU (${stats.length} instances, ${running.length} running)` };
      return { value: (cpus.reduce((sum, cpu) => sum + cpu, 0) / cpus.length) * 100 };
    }
  }
}

/**
 * Reads process stats through the foundation's CF client, resolving org/space/app names to the
 * app's guid once; a guid that stops existing (the app was recreated) is resolved again.
 */
export function createCfProcessStatsReader(clientFor: (foundation: string, signal: AbortSignal) => CfClient): CfProcessStatsReader {
  const guids = new Map<string, string>();
  return async (ref, signal) => {
    const foundation = ref.foundation ?? DEFAULT_FOUNDATION;
    const client = clientFor(foundation, signal);
    const key = JSON.stringify([foundation, ref.org, ref.space, ref.app]);
    const cached = guids.get(key);
    if (cached) {
      try {
        return await client.webStats(cached);
      } catch (error) {
        if (!(error instanceof CfApiError && error.status === 404)) throw error;
        guids.delete(key);
      }
    }
    const found = await client.findAppByNames(ref);
    if ('missing' in found) throw new Error(found.missing);
    guids.set(key, found.app.guid);
    return client.webStats(found.app.guid);
  };
}

/** What the reader needs of a Temporal client: its workflow service (Client.workflowService). */
export interface TaskQueueDescriber {
  describeTaskQueue(request: temporal.api.workflowservice.v1.IDescribeTaskQueueRequest): Promise<temporal.api.workflowservice.v1.IDescribeTaskQueueResponse>;
}

/** Seconds of a protobuf Duration (seconds may be a Long). */
const durationSeconds = (duration: { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined) => (duration ? Number(duration.seconds?.toString() ?? 0) + (duration.nanos ?? 0) / 1e9 : 0);

/**
 * Reads a task queue's activity backlog with DescribeTaskQueue `reportStats` (Temporal server 1.28+
 * in the default API mode; the stats are the server's approximations, summed over partitions).
 * `suffix` (FLEET_TASK_QUEUE_SUFFIX) is appended to the counter's queue name, as the workers do.
 */
export function createQueueBacklogReader(service: TaskQueueDescriber, namespace: string, suffix = ''): QueueBacklogReader {
  return async (taskQueue, signal) => {
    signal.throwIfAborted();
    const answer = await Promise.race([
      service.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue + suffix, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        reportStats: true,
      }),
      new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true })),
    ]);
    if (!answer.stats) throw new Error('the server reported no task queue stats (it needs Temporal server 1.28 or later)');
    return { count: Number(answer.stats.approximateBacklogCount ?? 0), ageSeconds: durationSeconds(answer.stats.approximateBacklogAge) };
  };
}
