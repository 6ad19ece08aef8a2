// chaos: the real `npm start` (its supervisor included) on free ports in a temporary data dir, with 4
// API instances. A mixed workload goes through the HTTP API as users send it (an exactly-once request
// run of 20,000 calls, a CF convergence of 200 apps, 3 node deployments, config writes through the 4
// instances, a CPU-load switch ON then OFF) while the main worker, one API instance, the Temporal dev
// server, MariaDB, etcd and memcached are SIGKILLed one after another, in a seeded random order at
// seeded random moments. Each recovery is timed from the kill until a new process has taken over (a
// new worker: once it polls) and /readyz answers ready. At the end, every outcome is checked against
// the system that holds the truth. docs/benchmarks.md#chaos says how to read the result.
import { EXAMPLE_SCALE_IN, EXAMPLE_SCALE_OUT } from '../scripts/localFleet.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { RowDataPacket } from 'mysql2';
import { hostEnv, loadConfig, type Config } from '../config.ts';
import { createMysqlPool } from '../db/clients.ts';
import { createAwsClients } from '../activities/nodes/aws.ts';
import { createCfClient } from '../activities/cf/client.ts';
import { foundationsFromConfig } from '../activities/cf/foundations.ts';
import { connectClient } from '../temporal/connection.ts';
import { findFreePortRange } from '../scripts/processes.ts';
import { runStart, type Started } from '../scripts/npmStart.ts';
import { freeStackPorts, readLockedProcesses } from '../scripts/stack.ts';
import { mintToken } from '../scripts/token.ts';
import { appName, DEFAULT_FOUNDATION } from '../workflows/cfConverge.shared.ts';
import type { CpuLoadStatus } from '../workflows/cpuLoad.shared.ts';
import { REQUEST_RUN_TASK_QUEUE } from '../workflows/requestRun.shared.ts';
import { deployNodeWorkflowId } from '../workflows/nodes.shared.ts';
import { digestsAgainstEtcd, statusOf } from './configCache.ts';

const KILLS = ['worker', 'api-instance', 'temporal', 'mariadb', 'etcd', 'memcached'] as const;
type KillKind = (typeof KILLS)[number];
/** The process the stack's lock names for each kind (API instances are not in it: the API process forks them). */
const lockedName: Record<Exclude<KillKind, 'api-instance'>, string> = { worker: 'worker-1', temporal: 'temporal', mariadb: 'mariadb', etcd: 'etcd', memcached: 'memcached' };

const { TaskQueueType } = proto.temporal.api.enums.v1; // CommonJS package: named imports do not resolve under ESM

const INSTANCES = 4;
const CALLS = 20_000;
/** Low enough that the run lasts through the kills (it is a workload here, not a throughput test). */
const REQUEST_CONCURRENCY = 4;
const CF_APPS_PER_KIND = 100;
const CF_PREFIX = 'chaos-';
const CF_CONCURRENCY = 2;
const DEPLOYMENTS = ['chaos-1', 'chaos-2', 'chaos-3'];
const CONFIG_KEYS = 20;
const CPU_TARGET = 'chaos';
/** Everything, workload and kills, must be done by then; the bench then checks what it has. */
const WORKLOAD_DEADLINE_MS = 10 * 60_000;
const RECOVERY_LIMIT_MS = 120_000;

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** mulberry32: a small seeded PRNG, so a run's kill order and moments can be replayed with --seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 23)}] ${line}`);

/** The API as a client sees it: a call that meets a restart (no connection, 502–504) is sent again until the deadline. */
function apiClient(base: string, token: string, deadline: number) {
  let retries = 0;
  async function send(method: string, path: string, body?: unknown, expect = [200, 201, 202, 204]): Promise<unknown> {
    for (;;) {
      let failure: string;
      try {
        const response = await fetch(`${base}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
        const text = await response.text();
        if (expect.includes(response.status)) return text ? (JSON.parse(text) as unknown) : null;
        if (![502, 503, 504].includes(response.status)) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
        failure = `${response.status}`;
      } catch (error) {
        if ((error as Error).message.includes(' answered ')) throw error;
        failure = (error as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`${method} ${path} still failing at the deadline: ${failure}`);
      retries++;
      await sleep(250);
    }
  }
  return { send, retries: () => retries };
}

interface Closed {
  status: string;
  /** When it started, in seconds since `since`. */
  startedAtS: number | null;
  /** When it closed, in seconds since `since` (null while still running). */
  closedAtS: number | null;
}

/** A workflow's status once it has closed (or RUNNING at the deadline); errors while Temporal is down are waited out. */
async function closedStatus(temporal: Client, workflowId: string, deadline: number, since: number): Promise<Closed> {
  for (;;) {
    try {
      const { status, startTime, closeTime } = await temporal.workflow.getHandle(workflowId).describe();
      const seconds = (time: Date) => round((time.getTime() - since) / 1000, 1);
      if (status.name !== 'RUNNING' || Date.now() > deadline) return { status: status.name, startedAtS: seconds(startTime), closedAtS: closeTime ? seconds(closeTime) : null };
    } catch (error) {
      if (Date.now() > deadline) return { status: `unknown (${(error as Error).message})`, startedAtS: null, closedAtS: null };
    }
    await sleep(1000);
  }
}

interface Kill {
  kind: KillKind;
  pid: number;
  /** Seconds from the kill until a new process has taken over and /readyz answers ready; null if not within the limit. */
  recovery_s: number | null;
  /** /readyz answered not ready (or not at all) at least once meanwhile. */
  saw_unready: boolean;
  /** The kill until /readyz answered ready for good, taken literally: 0 when it never answered otherwise. */
  readyz_s: number | null;
  at_s: number;
  request_count_at_kill: number | null;
}

export async function chaosBenchmark(args: string[] = []): Promise<Record<string, unknown>> {
  const seedArg = args.indexOf('--seed');
  const seed = seedArg >= 0 ? Number(args[seedArg + 1]) : Math.floor(Math.random() * 2 ** 31);
  if (!Number.isInteger(seed)) throw new Error('--seed takes a whole number');
  log(`seed ${seed} (replay the same kill order and moments with: npm run bench -- chaos --seed ${seed})`);
  const random = seededRandom(seed);

  const dataDir = mkdtempSync(join(tmpdir(), 'bench-chaos-'));
  const instanceBasePort = await findFreePortRange(INSTANCES);
  const env = {
    ...(await freeStackPorts()),
    FLEET_DATA_DIR: dataDir,
    API_INSTANCES: String(INSTANCES),
    CONFIG_CACHE_INSTANCE_BASE_PORT: String(instanceBasePort),
    // One load slot is enough to see the switch work on 2 cores; an OFF target's workflow ends a minute after the last switch.
    CPU_LOAD_WORKERS: '1',
    CPU_LOAD_IDLE_MINUTES: '1',
  };
  const config = loadConfig(hostEnv(env));
  const api = `http://${config.api.host}:${config.api.port}`;
  const instanceUrls = Array.from({ length: INSTANCES }, (_, i) => `http://${config.api.host}:${instanceBasePort + i}`);

  log(`Starting npm start in ${dataDir} (API ${api}, instances on ${instanceBasePort}–${instanceBasePort + INSTANCES - 1})…`);
  const started = runStart(env);
  const echo = (chunk: Buffer) => chunk.toString().split('\n').filter(Boolean).forEach((line) => log(`  npm start | ${line}`));
  started.child.stdout!.on('data', echo);
  started.child.stderr!.on('data', echo);
  try {
    await untilStarted(started, 180_000);
    return await underChaos(config, { api, instanceUrls, dataDir, random, seed });
  } finally {
    await stopStart(started);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function untilStarted(started: Started, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!started.output().includes('Press Ctrl-C to stop.')) {
    if (started.child.exitCode !== null) throw new Error(`npm start exited (${started.child.exitCode}) before it was ready`);
    if (Date.now() > deadline) throw new Error(`npm start was not ready within ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

/** Ctrl-C, as a user stops it; killed outright if it has not stopped within a minute. */
async function stopStart(started: Started): Promise<void> {
  if (started.child.exitCode !== null || started.child.signalCode !== null) return;
  started.child.kill('SIGINT');
  const stopped = await Promise.race([started.exit.then(() => true), sleep(60_000, undefined, { ref: false }).then(() => false)]);
  if (!stopped) {
    log('npm start did not stop within 60 s of SIGINT: killing it');
    started.child.kill('SIGKILL');
    await started.exit;
  }
}

interface ChaosContext {
  api: string;
  instanceUrls: string[];
  dataDir: string;
  random: () => number;
  seed: number;
}

async function underChaos(config: Config, ctx: ChaosContext): Promise<Record<string, unknown>> {
  const benchStart = performance.now();
  const startedAt = Date.now();
  const elapsed = () => round((performance.now() - benchStart) / 1000, 1);
  const deadline = Date.now() + WORKLOAD_DEADLINE_MS;
  const token = await mintToken(config, 'bench-chaos', 'operator');
  const client = apiClient(ctx.api, token, deadline);
  const temporal = await connectClient(config);
  const mysql = createMysqlPool(config, { connectionLimit: 2 });
  const aws = createAwsClients(config.aws);
  try {
    const requestCount = async (runId: string) => {
      const [rows] = await mysql.query<RowDataPacket[]>('SELECT current_request_count AS n FROM request_recorder WHERE run_id = ?', [runId]);
      return Number(rows[0]?.n ?? 0);
    };

    // The seeded autoscaling triggers on web would deploy and remove nodes of their own while the load
    // is ON and the workload runs: quiet here, where every node must be one of the bench's deployments.
    for (const name of [EXAMPLE_SCALE_OUT, EXAMPLE_SCALE_IN]) await client.send('POST', `/api/triggers/${name}/disable`, undefined, [200, 404]);

    // The run and the convergence start before the kills and last through them; a deployment takes
    // about 15 s, so one starts before the first, third and fifth kill; the load is switched OFF before the third.
    const run = (await client.send('POST', '/api/request-runs', { calls: CALLS, concurrency: REQUEST_CONCURRENCY, mode: 'exactly-once' })) as { runId: string; workflowId: string };
    log(`request run ${run.runId}: ${CALLS} exactly-once calls at concurrency ${REQUEST_CONCURRENCY}`);
    const kinds = [
      { kind: 'proxy', count: CF_APPS_PER_KIND, instances: 1, env: { GOPACKAGENAME: 'example-apps/proxy' } },
      { kind: 'tick', count: CF_APPS_PER_KIND, instances: 1, env: { GOPACKAGENAME: 'example-apps/tick' } },
    ];
    // 20 ms per CF request and 2 apps at a time: the convergence then lasts through several kills.
    await fetch(`${config.cf.apiUrl}/__sim/config`, { method: 'PUT', body: JSON.stringify({ latencyMs: 20 }) });
    const convergence = (await client.send('POST', '/api/cf-convergences', { prefix: CF_PREFIX, kinds, concurrency: CF_CONCURRENCY })) as { workflowId: string };
    log(`CF convergence ${convergence.workflowId}: ${2 * CF_APPS_PER_KIND} apps, ${CF_CONCURRENCY} at a time`);
    const switchedOn = (await client.send('PUT', `/api/cpu-load/${CPU_TARGET}`, { state: 'ON', ttlSeconds: 300 })) as CpuLoadStatus & { workflowId: string };
    log(`CPU load ${CPU_TARGET} switched ${switchedOn.state}`);

    const deploymentIds: string[] = [];
    const beforeKill = async (index: number) => {
      if (index % 2 === 0 && index / 2 < DEPLOYMENTS.length) {
        const deploymentId = DEPLOYMENTS[index / 2]!;
        // The deployment ID is its idempotency key: a retry after a lost answer finds the same deployment (409 once it has run).
        await client.send('POST', '/api/clusters/web/deployments', { deploymentId }, [202, 409]);
        deploymentIds.push(deploymentId);
        log(`node deployment ${deploymentId} on cluster web started`);
      }
      if (index === 2) log(`CPU load ${CPU_TARGET} switched ${((await client.send('PUT', `/api/cpu-load/${CPU_TARGET}`, { state: 'OFF' })) as CpuLoadStatus).state}`);
    };

    let killsDone = false;
    const workflows = {
      requestRun: closedStatus(temporal, run.workflowId, deadline, startedAt),
      cfConverge: closedStatus(temporal, convergence.workflowId, deadline, startedAt),
    };
    const configWrites = writeConfigUntil(ctx.instanceUrls, () => killsDone, deadline);
    const kills = (async () => {
      try {
        return await killEach(ctx, temporal, { runId: run.runId, requestCount, elapsed, beforeKill });
      } finally {
        killsDone = true;
      }
    })();

    const killed = await kills;
    // An OFF target's workflow ends by itself a minute (CPU_LOAD_IDLE_MINUTES) after the last switch.
    const cpuLoad = closedStatus(temporal, switchedOn.workflowId, deadline, startedAt);
    const deploymentsClosing = Promise.all(deploymentIds.map((id) => closedStatus(temporal, deployNodeWorkflowId('web', id), deadline, startedAt)));
    const [requestRunClosed, cfClosed, deploymentsClosed, cpuClosed, writes] = await Promise.all([workflows.requestRun, workflows.cfConverge, deploymentsClosing, cpuLoad, configWrites]);
    log(
      `workload done at ${elapsed()} s: request run ${requestRunClosed.status}, CF ${cfClosed.status}, deployments ${deploymentsClosed.map((d) => d.status).join('/')}, CPU load ${cpuClosed.status}`,
    );
    /** What a workload went through: the kinds killed while it ran. */
    const exposure = (closed: Closed) => ({
      status: closed.status,
      started_at_s: closed.startedAtS,
      closed_at_s: closed.closedAtS,
      through_kills: killed.filter((k) => k.at_s >= (closed.startedAtS ?? 0) && (closed.closedAtS === null || k.at_s < closed.closedAtS)).map((k) => k.kind),
    });

    // The truth, system by system.
    const requests = await checkRequestRun(mysql, run.runId);
    const apps = await checkCfApps(config);
    const nodes = await checkNodes(mysql, aws, config);
    const instances = await digestsAgainstEtcd(config, config.configCache.keyPrefix, () => Promise.all(ctx.instanceUrls.map(statusOf)), 15_000);
    const values = await checkConfigValues(ctx.instanceUrls, writes.expected);
    const cpuFinal = (await client.send('GET', `/api/cpu-load/${CPU_TARGET}`)) as CpuLoadStatus;
    const cpuResult = cpuClosed.status === 'COMPLETED' ? ((await temporal.workflow.getHandle(switchedOn.workflowId).result()) as CpuLoadStatus).state : null;
    const executions = await listExecutions(temporal);
    const notCompleted = executions.filter((e) => e.status !== 'COMPLETED');
    for (const e of notCompleted) log(`workflow ${e.workflowId} (${e.type}) is ${e.status}`);

    const recoveries = killed.map((k) => k.recovery_s);
    const result = {
      seed: ctx.seed,
      kills: killed.map((k) => k.kind),
      // Calls not counted, apps not there, deployments that left no active node.
      lost: requests.lost + apps.missing.length + Math.max(0, DEPLOYMENTS.length - nodes.active),
      duplicated: requests.duplicated + apps.duplicates,
      leaked_instances: nodes.leaked.length,
      workflows_failed: notCompleted.length,
      digests_equal: instances.inconsistent === 0 && values.mismatches === 0,
      cpu_load_off: cpuFinal.state === 'OFF' && (cpuResult ?? 'OFF') === 'OFF',
      max_recovery_s: recoveries.some((r) => r === null) ? null : Math.max(...(recoveries as number[])),
      recovery_s: Object.fromEntries(killed.map((k) => [k.kind, k.recovery_s])),
      // The kill until /readyz answered ready again, literally (an instance or worker gone can leave it green).
      max_readyz_s: killed.some((k) => k.readyz_s === null) ? null : Math.max(...killed.map((k) => k.readyz_s!)),
      kill_details: killed,
      request_run: { calls: CALLS, concurrency: REQUEST_CONCURRENCY, ...exposure(requestRunClosed), ...requests },
      cf_converge: { apps: 2 * CF_APPS_PER_KIND, concurrency: CF_CONCURRENCY, ...exposure(cfClosed), found: apps.found, missing: apps.missing.length, duplicates: apps.duplicates, unexpected: apps.unexpected },
      nodes: {
        deployments: deploymentsClosed.map(exposure),
        active: nodes.active,
        running_instances: nodes.running,
        active_without_running_instance: nodes.unbacked,
        leaked: nodes.leaked,
        inactive_rows: nodes.inactiveRows,
      },
      config_cache: {
        instances: INSTANCES,
        keys: CONFIG_KEYS,
        rounds: writes.rounds,
        writes: writes.writes,
        write_retries: writes.retries,
        etcd_keys: instances.keys,
        inconsistent_instances: instances.inconsistent,
        value_mismatches: values.mismatches,
      },
      cpu_load: { ...exposure(cpuClosed), final_state_api: cpuFinal.state, final_state_workflow: cpuResult, ended_off: cpuFinal.state === 'OFF' && (cpuResult ?? 'OFF') === 'OFF' },
      workflows: { total: executions.length, not_completed: notCompleted.map((e) => `${e.workflowId}: ${e.status}`) },
      api_retries: client.retries(),
      wall_s: elapsed(),
    };
    return result;
  } finally {
    aws.destroy();
    await mysql.end();
    await temporal.connection.close();
  }
}

/** One SIGKILL of each kind in a seeded order, each a seeded 1–5 s after the previous recovery (the first 3–8 s in). */
interface KillHooks {
  runId: string;
  requestCount(runId: string): Promise<number>;
  elapsed(): number;
  /** Workload steps timed by the kills (started just before kill `index`). */
  beforeKill(index: number): Promise<void>;
}

async function killEach(ctx: ChaosContext, temporal: Client, hooks: KillHooks): Promise<Kill[]> {
  const { runId, requestCount, elapsed } = hooks;
  const order = shuffled(KILLS, ctx.random);
  log(`kill order: ${order.join(', ')}`);
  const kills: Kill[] = [];
  await sleep(3000 + ctx.random() * 5000);
  for (const [index, kind] of order.entries()) {
    await hooks.beforeKill(index);
    const victim = await victimOf(kind, ctx, temporal);
    const countAtKill = await requestCount(runId).catch(() => null);
    const killedAt = performance.now();
    const atSeconds = elapsed();
    process.kill(victim.pid, 'SIGKILL');
    log(`SIGKILL ${victim.name} (pid ${victim.pid}) at ${atSeconds} s; request run at ${countAtKill ?? '?'} of ${CALLS}`);
    const { recoverySeconds, sawUnready, readyzSeconds } = await recovery(victim, killedAt, ctx);
    log(`  ${kind}: ${recoverySeconds === null ? `not recovered within ${RECOVERY_LIMIT_MS / 1000} s` : `ready again after ${recoverySeconds.toFixed(2)} s`}${sawUnready ? '' : ' (/readyz never answered not ready)'}`);
    kills.push({ kind, pid: victim.pid, recovery_s: recoverySeconds === null ? null : round(recoverySeconds), saw_unready: sawUnready, readyz_s: readyzSeconds === null ? null : round(readyzSeconds), at_s: atSeconds, request_count_at_kill: countAtKill });
    await sleep(1000 + ctx.random() * 4000);
  }
  return kills;
}

interface Victim {
  name: string;
  pid: number;
  /** True once another process does its work (errors while it is down count as false). */
  replaced(): Promise<boolean>;
}

/**
 * The process to kill, and how to tell it has been replaced: a new PID in the stack's lock (a worker
 * also polling: the dead one's pollers stay listed a while); an API instance, not in the lock, a new
 * PID answering on its own port.
 */
async function victimOf(kind: KillKind, ctx: ChaosContext, temporal: Client): Promise<Victim> {
  if (kind !== 'api-instance') {
    const name = lockedName[kind];
    const pid = readLockedProcesses(ctx.dataDir).get(name)!;
    return {
      name,
      pid,
      async replaced() {
        const now = readLockedProcesses(ctx.dataDir).get(name);
        return now !== undefined && now !== pid && (kind !== 'worker' || (await polls(temporal, now)));
      },
    };
  }
  const index = Math.floor(ctx.random() * ctx.instanceUrls.length);
  const url = ctx.instanceUrls[index]!;
  for (let attempt = 0; ; attempt++) {
    try {
      const { pid } = await statusOf(url);
      return { name: `API instance ${index + 1}`, pid, replaced: async () => (await statusOf(url)).pid !== pid };
    } catch (error) {
      if (attempt > 100) throw new Error(`API instance at ${url} does not answer: ${(error as Error).message}`, { cause: error });
      await sleep(100);
    }
  }
}

/** Polls every 100 ms: recovered once the victim has been replaced and /readyz on the shared port answers ready. */
async function recovery(victim: Victim, killedAt: number, ctx: ChaosContext) {
  let sawUnready = false;
  let replaced = false;
  /** Since when /readyz has answered ready without a break (null while it does not). */
  let readySince: number | null = null;
  while (performance.now() - killedAt < RECOVERY_LIMIT_MS) {
    const tick = sleep(100);
    replaced ||= await victim.replaced().catch(() => false);
    let ready = false;
    try {
      const response = await fetch(`${ctx.api}/readyz`, { signal: AbortSignal.timeout(3000) });
      ready = ((await response.json()) as { status: string }).status === 'ready';
    } catch {
      // no answer: not ready
    }
    if (!ready) {
      sawUnready = true;
      readySince = null;
    } else {
      readySince ??= performance.now();
      if (replaced) {
        const seconds = (at: number) => (at - killedAt) / 1000;
        return { recoverySeconds: seconds(performance.now()), sawUnready, readyzSeconds: sawUnready ? seconds(readySince) : 0 };
      }
    }
    await tick;
  }
  return { recoverySeconds: null, sawUnready, readyzSeconds: null };
}

/** Whether the worker with this PID (its default identity is pid@host) polls the request-run task queue. */
async function polls(temporal: Client, pid: number): Promise<boolean> {
  const { pollers } = await temporal.workflowService.describeTaskQueue({
    namespace: temporal.options.namespace,
    taskQueue: { name: REQUEST_RUN_TASK_QUEUE },
    taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return (pollers ?? []).some((p) => p.identity?.startsWith(`${pid}@`));
}

/**
 * Rounds of writes of CONFIG_KEYS keys, key i of round r through instance (i + r) mod 4, until the
 * kills are done; then a last round that deletes every fifth key and writes the others a final value.
 * A write that meets a restart is sent again (the same value) until acknowledged.
 */
async function writeConfigUntil(urls: string[], done: () => boolean, deadline: number) {
  let writes = 0;
  let retries = 0;
  let rounds = 0;
  const expected = new Map<string, string | null>();
  const write = async (url: string, key: string, value: string | null) => {
    for (;;) {
      try {
        const response = await fetch(`${url}/config/${key}`, { method: value === null ? 'DELETE' : 'PUT', body: value ?? undefined, signal: AbortSignal.timeout(5000) });
        await response.arrayBuffer();
        if (response.status === (value === null ? 204 : 200)) break;
        if (response.status < 500) throw new Error(`config ${key} answered ${response.status}`);
      } catch (error) {
        if ((error as Error).message.startsWith('config ')) throw error;
      }
      if (Date.now() > deadline) throw new Error(`config ${key}: still no write at the deadline`);
      retries++;
      await sleep(100);
    }
    writes++;
    expected.set(key, value);
  };
  const key = (i: number) => `chaos/key-${i}`;
  while (!done()) {
    const r = rounds++;
    await Promise.all(Array.from({ length: CONFIG_KEYS }, (_, i) => write(urls[(i + r) % urls.length]!, key(i), JSON.stringify({ key: i, round: r }))));
    await sleep(200);
  }
  const r = rounds++;
  await Promise.all(Array.from({ length: CONFIG_KEYS }, (_, i) => write(urls[(i + r) % urls.length]!, key(i), i % 5 === 4 ? null : JSON.stringify({ key: i, final: true }))));
  return { writes, retries, rounds, expected };
}

/** Every key read from every instance's memory against its last acknowledged value. */
async function checkConfigValues(urls: string[], expected: Map<string, string | null>) {
  let mismatches = 0;
  for (const url of urls) {
    for (const [key, value] of expected) {
      const text = await (await fetch(`${url}/config/${key}?use_cache=true`)).text();
      if (text !== (value ?? 'null')) {
        mismatches++;
        log(`config ${key} on ${url}: ${text}, expected ${value ?? 'null'}`);
      }
    }
  }
  return { mismatches };
}

async function checkRequestRun(mysql: ReturnType<typeof createMysqlPool>, runId: string) {
  const [counts] = await mysql.query<RowDataPacket[]>('SELECT current_request_count AS n FROM request_recorder WHERE run_id = ?', [runId]);
  const [receipts] = await mysql.query<RowDataPacket[]>('SELECT COUNT(*) AS n, COUNT(DISTINCT seq) AS distinctSeqs FROM request_receipts WHERE run_id = ?', [runId]);
  const count = Number(counts[0]?.n ?? 0);
  const distinct = Number(receipts[0]?.distinctSeqs ?? 0);
  return {
    count,
    receipts: Number(receipts[0]?.n ?? 0),
    lost: Math.max(0, CALLS - distinct),
    // A call counted twice: more counted than distinct calls received, or more receipts than calls.
    duplicated: Math.max(0, count - distinct) + Math.max(0, Number(receipts[0]?.n ?? 0) - distinct),
  };
}

/** The simulator's own listing of the convergence's space: each declared app exactly once. */
async function checkCfApps(config: Config) {
  const cf = createCfClient(foundationsFromConfig(config)[DEFAULT_FOUNDATION]!);
  const org = await cf.findOrganization(`${CF_PREFIX}org`);
  const space = org && (await cf.findSpace(org.guid, `${CF_PREFIX}space`));
  const names = space ? (await cf.listApps(space.guid)).map((a) => a.name) : [];
  const declared = ['proxy', 'tick'].flatMap((kind) => Array.from({ length: CF_APPS_PER_KIND }, (_, i) => appName(CF_PREFIX, kind, i)));
  const present = new Set(names);
  return {
    found: names.length,
    missing: declared.filter((name) => !present.has(name)),
    duplicates: names.length - present.size,
    unexpected: [...present].filter((name) => !declared.includes(name)).length,
  };
}

/** Node rows in MySQL against moto's running instances: a running instance no active node owns has leaked. */
async function checkNodes(mysql: ReturnType<typeof createMysqlPool>, aws: ReturnType<typeof createAwsClients>, config: Config) {
  const [rows] = await mysql.query<RowDataPacket[]>('SELECT name, deployment_id, state, instance_id FROM nodes');
  const active = rows.filter((r) => r.state === 'active' && DEPLOYMENTS.includes(r.deployment_id as string));
  const owned = new Set(active.map((r) => r.instance_id as string));
  const described = await aws.ec2(config.aws.region).send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running'] }] }));
  const running = (described.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!);
  return {
    active: active.length,
    running: running.length,
    leaked: running.filter((id) => !owned.has(id)),
    unbacked: active.filter((r) => !running.includes(r.instance_id as string)).length,
    inactiveRows: rows.filter((r) => r.state !== 'active').map((r) => `${r.name as string}: ${r.state as string}`),
  };
}

/** Every execution in the stack's namespace (a private stack: all of them came from this run). */
async function listExecutions(temporal: Client) {
  const executions: { workflowId: string; type: string; status: string }[] = [];
  for await (const e of temporal.workflow.list()) executions.push({ workflowId: e.workflowId, type: e.type, status: e.status.name });
  return executions;
}
