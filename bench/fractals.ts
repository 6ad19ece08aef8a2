// fractals: 200 fractals of 512×512 at 256 iterations, one fixed view and constant, on a private stack
// (2 API instances, the main worker, fractal worker processes the bench starts with 1 or 2 render
// threads). Side by side in the same run: the same render code in a plain loop on a render pool of the
// same number of threads (the direct baseline); 1 fractal worker process against 2 (scale-out); a
// batch through the API with a fractal worker and an API instance SIGKILLed mid-batch (lost and
// duplicated); single fractals on an idle queue (POST to image available). docs/benchmarks.md#fractals.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { RowDataPacket } from 'mysql2';
import type { Config } from '../config.ts';
import { createMysqlPool } from '../db/clients.ts';
import { createRenderPool } from '../activities/fractals/renderPool.ts';
import { createFractalImageStore, createS3Client } from '../activities/fractals/storage.ts';
import { EXAMPLE_SCALE_IN, EXAMPLE_SCALE_OUT } from '../scripts/localFleet.ts';
import { findFreePortRange, type ManagedProcess } from '../scripts/processes.ts';
import { startAppProcess, type Stack } from '../scripts/stack.ts';
import { mintToken } from '../scripts/token.ts';
import { connectClient } from '../temporal/connection.ts';
import { FRACTALS_TASK_QUEUE, fractalWorkflowId, type FractalRecord } from '../workflows/fractals.shared.ts';
import { statusOf } from './configCache.ts';
import { startPrivateStack } from './privateStack.ts';

const { TaskQueueType } = proto.temporal.api.enums.v1; // CommonJS package: named imports do not resolve under ESM

const FRACTALS = 200;
/**
 * The Douady rabbit (c = -0.123 + 0.745i) over [-0.6, 0.6]²: most of the view is inside the filled
 * Julia set, where every pixel runs all 256 iterations, so one render costs about 250 ms of CPU here,
 * 7× the 36 ms of -0.8 + 0.156i over [-1.5, 1.5]² (where a third of it is PNG encoding). The spec fixes
 * the size and iterations; of what it leaves to the bench, this is close to the heaviest render that
 * size allows (every pixel inside: about 270 ms), which is what a fractal farm is for, so the fixed
 * per-fractal cost of the path (Temporal, the workflows, MySQL, S3) is measured against a render
 * worth distributing, not against mostly PNG encoding.
 */
const VIEW = { width: 512, height: 512, iterations: 256, xa: -0.6, xb: 0.6, ya: -0.6, yb: 0.6, cx: -0.123, cy: 0.745 } as const;
const API_INSTANCES = 2;
/** A phase that has not finished by then is reported as it stands (the bench stays bounded). */
const PHASE_TIMEOUT_MS = 180_000;
const CRASH_DRAIN_TIMEOUT_MS = 120_000;
const SINGLE_JOBS = 40;
const CRASH_POST_CONCURRENCY = 4;

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 23)}] ${line}`);
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

interface Bench {
  config: Config;
  stack: Stack;
  api: string;
  instanceUrls: string[];
  temporal: Client;
  mysql: ReturnType<typeof createMysqlPool>;
  send(method: string, path: string, body?: unknown): Promise<Response>;
}

/** Fractal worker processes started by the bench (the stack starts none: FRACTAL_WORKERS=0). */
function fractalWorkers(bench: Bench) {
  const running = new Map<string, ManagedProcess>();
  let started = 0;
  return {
    running,
    /** A new fractal worker process with `threads` render threads, once it polls the render queue. */
    async start(threads: number): Promise<ManagedProcess> {
      const name = `fractal-worker-${++started}`;
      const worker = startAppProcess(name, 'workers/fractalWorker.ts', bench.config, { ...bench.config.env, FRACTAL_WORKER_THREADS: String(threads) });
      running.set(name, worker);
      const deadline = Date.now() + 60_000;
      while (!(await polls(bench, worker.pid))) {
        if (worker.hasExited()) throw new Error(`${name} exited before it polled (log: ${worker.logFile})`);
        if (Date.now() > deadline) throw new Error(`${name} did not poll within 60 s (log: ${worker.logFile})`);
        await sleep(100);
      }
      return worker;
    },
    pids: () => [...running.values()].map((w) => w.pid),
    /** Stops `count` of the running workers (gracefully: a render in progress finishes or is retried elsewhere). */
    async stop(count: number): Promise<void> {
      for (const [name, worker] of [...running.entries()].slice(0, count)) {
        await worker.stop();
        running.delete(name);
      }
    },
    async stopAll(): Promise<void> {
      await Promise.all([...running.values()].map((w) => w.stop()));
      running.clear();
    },
  };
}

/** Whether the fractal worker with this PID (identity fractal-<pid>@host) polls the render queue. */
async function polls(bench: Bench, pid: number): Promise<boolean> {
  const { pollers } = await bench.temporal.workflowService.describeTaskQueue({
    namespace: bench.temporal.options.namespace,
    taskQueue: { name: FRACTALS_TASK_QUEUE + bench.config.taskQueueSuffix },
    taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
  });
  return (pollers ?? []).some((p) => p.identity?.startsWith(`fractal-${pid}@`));
}

/** Seconds of CPU (user + system, every thread) a process has used; 0 once it is gone. */
function cpuSeconds(pid: number): number {
  try {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th, in ticks of 1/100 s (CLK_TCK).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** The stack's processes by kind (API instances are the API process's forks, found on their own ports). */
async function stackProcesses(bench: Bench, fractalWorkerPids: number[]): Promise<Map<number, string>> {
  const kinds = new Map<number, string>();
  for (const p of [...bench.stack.services, ...bench.stack.appProcesses]) {
    const kind = p.name === 'worker-1' ? 'main_worker' : p.name === 'api' ? 'api' : ['temporal', 'mariadb', 'moto'].includes(p.name) ? p.name : 'other_services';
    kinds.set(p.pid, kind);
  }
  for (const url of bench.instanceUrls) kinds.set((await statusOf(url)).pid, 'api');
  for (const pid of fractalWorkerPids) kinds.set(pid, 'fractal_workers');
  return kinds;
}

/** CPU each kind of process used from now until `end()`, in ms per fractal. */
async function cpuMeter(bench: Bench, fractalWorkerPids: number[]) {
  const kinds = await stackProcesses(bench, fractalWorkerPids);
  const before = new Map([...kinds.keys()].map((pid) => [pid, cpuSeconds(pid)]));
  return (fractals: number): Record<string, number> => {
    const used: Record<string, number> = {};
    for (const [pid, kind] of kinds) used[kind] = (used[kind] ?? 0) + cpuSeconds(pid) - before.get(pid)!;
    return Object.fromEntries(Object.entries(used).map(([kind, seconds]) => [kind, round((seconds / fractals) * 1000, 1)]));
  };
}

/** Fractals of a batch done so far (MySQL, the record the API serves). */
async function batchDone(bench: Bench, batchId: string): Promise<number> {
  const [rows] = await bench.mysql.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM fractals WHERE batch_id = ? AND status = 'done'", [batchId]);
  return Number(rows[0]?.n ?? 0);
}

/**
 * A batch of `tasks` fractals through the product's path (POST /v1/fractal-batches → fractalBatch →
 * one fractal workflow each → render on a fractal worker → PNG in S3 → record done): from the POST
 * until the last record is done.
 */
interface Phase {
  perSecond: number;
  seconds: number;
  /** Mean render time (pixels and PNG) the workers recorded. */
  renderMs: number;
  /** Render time over the phase's wall time × render threads: how busy the threads were. */
  threadBusy: number;
  /** CPU ms per fractal by kind of process. */
  cpuMsPerFractal: Record<string, number>;
}

function logPhase(name: string, phase: Phase): void {
  log(`${name}: ${phase.perSecond.toFixed(2)} fractals/s (${phase.seconds.toFixed(1)} s; render ${phase.renderMs.toFixed(0)} ms mean, threads ${Math.round(phase.threadBusy * 100)} % busy)`);
  log(`  CPU ms per fractal: ${Object.entries(phase.cpuMsPerFractal).map(([kind, ms]) => `${kind} ${ms}`).join(', ')}`);
}

async function batchThroughput(bench: Bench, tasks: number, threads: number, fractalWorkerPids: number[]): Promise<Phase> {
  const cpu = await cpuMeter(bench, fractalWorkerPids);
  const started = performance.now();
  const response = await bench.send('POST', '/v1/fractal-batches', { tasks, ...VIEW });
  if (response.status !== 202) throw new Error(`POST /v1/fractal-batches answered ${response.status}: ${await response.text()}`);
  const { batch_id: batchId } = (await response.json()) as { batch_id: string };
  const deadline = Date.now() + PHASE_TIMEOUT_MS;
  for (let done = await batchDone(bench, batchId); done < tasks; done = await batchDone(bench, batchId)) {
    if (Date.now() > deadline) throw new Error(`batch ${batchId}: ${done} of ${tasks} done after ${PHASE_TIMEOUT_MS / 1000} s`);
    await sleep(50);
  }
  const seconds = (performance.now() - started) / 1000;
  const [rows] = await bench.mysql.query<RowDataPacket[]>('SELECT SUM(duration) AS total FROM fractals WHERE batch_id = ?', [batchId]);
  const renderSeconds = Number(rows[0]?.total ?? 0);
  return { perSecond: tasks / seconds, seconds, renderMs: (renderSeconds / tasks) * 1000, threadBusy: renderSeconds / (seconds * threads), cpuMsPerFractal: cpu(tasks) };
}

/** The same render code (renderFractalPng in render threads) on `threads` threads, every fractal queued at once. */
async function directThroughput(threads: number, count: number): Promise<{ perSecond: number; renderMs: number; cpuMs: number }> {
  const pool = createRenderPool({ threads });
  try {
    await Promise.all(Array.from({ length: threads }, () => pool.render(VIEW))); // threads up and compiled
    const started = performance.now();
    const cpuBefore = process.cpuUsage(); // this process and its threads: the renders
    const images = await Promise.all(Array.from({ length: count }, () => pool.render(VIEW)));
    const renderSeconds = images.reduce((sum, image) => sum + image.duration, 0);
    const cpu = process.cpuUsage(cpuBefore);
    return { perSecond: count / ((performance.now() - started) / 1000), renderMs: (renderSeconds / count) * 1000, cpuMs: (cpu.user + cpu.system) / 1000 / count };
  } finally {
    await pool.close();
  }
}

export async function fractalsBenchmark(): Promise<Record<string, unknown>> {
  log('Starting a private stack (Temporal, MariaDB, moto, the main worker, 2 API instances; no fractal workers)…');
  const instanceBasePort = await findFreePortRange(API_INSTANCES);
  const { config, stack, stop } = await startPrivateStack(
    'fractals',
    { API_INSTANCES: String(API_INSTANCES), CONFIG_CACHE_INSTANCE_BASE_PORT: String(instanceBasePort), CPU_LOAD_WORKERS: '0', FRACTAL_WORKERS: '0' },
    { workers: 1 },
  );
  const mysql = createMysqlPool(config, { connectionLimit: 2 });
  const temporal = await connectClient(config);
  const s3 = createS3Client(config.fractals.storage);
  const store = createFractalImageStore({ s3, bucket: config.fractals.storage.bucket });
  const api = `http://${config.api.host}:${config.api.port}`;
  const token = await mintToken(config, 'bench-fractals', 'operator');
  const bench: Bench = {
    config,
    stack,
    api,
    instanceUrls: Array.from({ length: API_INSTANCES }, (_, i) => `http://${config.api.host}:${instanceBasePort + i}`),
    temporal,
    mysql,
    send: (method, path, body) =>
      fetch(`${api}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      }),
  };
  const workers = fractalWorkers(bench);
  try {
    // The seeded autoscaling triggers tick every few seconds: quiet here, where the cores are the renders'.
    for (const name of [EXAMPLE_SCALE_OUT, EXAMPLE_SCALE_IN]) await (await bench.send('POST', `/api/triggers/${name}/disable`)).arrayBuffer();

    // Throughput, neighbours measured next to each other (this machine's speed drifts from minute to
    // minute): the direct loop on 2 threads before and after 2 processes of 1 thread (the Temporal path
    // on 2 threads, and scale-out's "2"), then 1 process of 1 thread, then 1 process of 2 threads.
    await workers.start(1);
    await workers.start(1);
    log('warm-up: a batch of 10 through the API');
    await batchThroughput(bench, 10, 2, workers.pids());
    const directBefore = await directThroughput(2, FRACTALS);
    log(`direct, 2 threads: ${directBefore.perSecond.toFixed(2)} fractals/s (render ${directBefore.renderMs.toFixed(0)} ms mean, ${directBefore.cpuMs.toFixed(0)} ms CPU)`);
    const two = await batchThroughput(bench, FRACTALS, 2, workers.pids());
    logPhase('Temporal path, 2 fractal workers × 1 thread', two);
    const directAfter = await directThroughput(2, FRACTALS);
    log(`direct, 2 threads: ${directAfter.perSecond.toFixed(2)} fractals/s (render ${directAfter.renderMs.toFixed(0)} ms mean, ${directAfter.cpuMs.toFixed(0)} ms CPU)`);
    await workers.stop(1);
    // overhead_ratio's pair: one render thread each, the direct loop before and after. On 2 cores this is
    // the comparison that leaves the path (Temporal, the workflows, MySQL, S3) a core beside the render,
    // as a deployment's fractal workers have cores of their own; the 2-thread figures above are reported too.
    const directOneBefore = await directThroughput(1, FRACTALS / 2);
    log(`direct, 1 thread: ${directOneBefore.perSecond.toFixed(2)} fractals/s (render ${directOneBefore.renderMs.toFixed(0)} ms mean)`);
    const one = await batchThroughput(bench, FRACTALS, 1, workers.pids());
    logPhase('Temporal path, 1 fractal worker × 1 thread', one);
    const directOneAfter = await directThroughput(1, FRACTALS / 2);
    log(`direct, 1 thread: ${directOneAfter.perSecond.toFixed(2)} fractals/s (render ${directOneAfter.renderMs.toFixed(0)} ms mean)`);
    await workers.stopAll();
    await workers.start(2);
    const oneProcessTwoThreads = await batchThroughput(bench, FRACTALS, 2, workers.pids());
    logPhase('Temporal path, 1 fractal worker × 2 threads', oneProcessTwoThreads);
    await workers.stopAll();
    await workers.start(1);
    await workers.start(1);

    const crash = await crashPhase(bench, workers, store);
    const single = await singleJobs(bench, workers.pids());

    const directPerSecond = (directBefore.perSecond + directAfter.perSecond) / 2;
    const directOnePerSecond = (directOneBefore.perSecond + directOneAfter.perSecond) / 2;
    return {
      fractals: FRACTALS,
      width: VIEW.width,
      height: VIEW.height,
      iterations: VIEW.iterations,
      view: { xa: VIEW.xa, xb: VIEW.xb, ya: VIEW.ya, yb: VIEW.yb },
      constant: { cx: VIEW.cx, cy: VIEW.cy },
      // overhead_ratio on one render thread each (1 fractal worker × 1 thread against the direct loop on 1 thread).
      threads: 1,
      temporal_per_s: round(one.perSecond),
      direct_per_s: round(directOnePerSecond),
      direct_one_thread_runs_per_s: [round(directOneBefore.perSecond), round(directOneAfter.perSecond)],
      overhead_ratio: round(one.perSecond / directOnePerSecond),
      // The same on 2 threads, where on this 2-core machine the path shares the render cores.
      direct_two_threads_per_s: round(directPerSecond),
      direct_two_threads_runs_per_s: [round(directBefore.perSecond), round(directAfter.perSecond)],
      overhead_ratio_two_threads: round(two.perSecond / directPerSecond),
      // Mean wall ms of one render (pixels and PNG) as each path timed it (it stretches when the cores are shared), and how busy the render threads were.
      render_ms: { direct: round((directBefore.renderMs + directAfter.renderMs) / 2, 0), two_workers: round(two.renderMs, 0), one_worker: round(one.renderMs, 0), one_process_two_threads: round(oneProcessTwoThreads.renderMs, 0) },
      direct_cpu_ms_per_fractal: round((directBefore.cpuMs + directAfter.cpuMs) / 2, 1),
      // single_jobs: POST /v1/fractal one at a time, no batch workflow (and the bench's polling of GET /fractal in the API's share).
      cpu_ms_per_fractal: { two_workers: two.cpuMsPerFractal, one_worker: one.cpuMsPerFractal, one_process_two_threads: oneProcessTwoThreads.cpuMsPerFractal, single_jobs: single.cpuMsPerFractal },
      thread_busy: { two_workers: round(two.threadBusy), one_worker: round(one.threadBusy), one_process_two_threads: round(oneProcessTwoThreads.threadBusy) },
      temporal_one_process_two_threads_per_s: round(oneProcessTwoThreads.perSecond),
      overhead_ratio_one_process: round(oneProcessTwoThreads.perSecond / directPerSecond),
      one_worker_per_s: round(one.perSecond),
      two_workers_per_s: round(two.perSecond),
      scale_out: round(two.perSecond / one.perSecond),
      ...crash,
      p50_job_s: round(percentile(single.seconds, 50), 3),
      p99_job_s: round(percentile(single.seconds, 99), 3),
      single_jobs: single.seconds.length,
    };
  } finally {
    await workers.stopAll();
    s3.destroy();
    await mysql.end();
    await temporal.connection.close();
    await stop();
  }
}

/** POST /v1/fractal as a client would: sent again after no answer or a 502–504; a 409 after a resend is this job, already accepted. */
async function postFractal(bench: Bench, uuid: string, deadline: number): Promise<{ resends: number }> {
  for (let resends = 0; ; resends++) {
    let failure: string;
    try {
      const response = await bench.send('POST', '/v1/fractal', { uuid, ...VIEW });
      const text = await response.text();
      if (response.status === 201 || (response.status === 409 && resends > 0)) return { resends };
      if (![502, 503, 504].includes(response.status)) throw new Error(`POST /v1/fractal answered ${response.status}: ${text.slice(0, 300)}`);
      failure = String(response.status);
    } catch (error) {
      if ((error as Error).message.includes(' answered ')) throw error;
      failure = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`POST /v1/fractal ${uuid} still failing at the deadline: ${failure}`);
    await sleep(100);
  }
}

/**
 * 200 fractals POSTed one by one (client-chosen uuids, 4 at a time) through the 2 API instances onto
 * 2 fractal workers; an API instance SIGKILLed after a quarter are accepted, a fractal worker once a
 * quarter are done (a replacement started at once, as a supervisor would). Then, once drained: each
 * uuid's record done exactly once, one workflow execution per uuid, one PNG per done record.
 */
async function crashPhase(bench: Bench, workers: ReturnType<typeof fractalWorkers>, store: ReturnType<typeof createFractalImageStore>) {
  const uuids = Array.from({ length: FRACTALS }, () => randomUUID());
  const deadline = Date.now() + PHASE_TIMEOUT_MS;
  const doneOf = async () => {
    const [rows] = await bench.mysql.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM fractals WHERE uuid IN (?) AND status = 'done'", [uuids]);
    return Number(rows[0]?.n ?? 0);
  };
  let accepted = 0;
  let resends = 0;
  let apiKill: Promise<{ pid: number; at_accepted: number }> | undefined;
  const queue = [...uuids];
  const started = performance.now();
  const posting = Promise.all(
    Array.from({ length: CRASH_POST_CONCURRENCY }, async () => {
      for (let uuid = queue.shift(); uuid; uuid = queue.shift()) {
        resends += (await postFractal(bench, uuid, deadline)).resends;
        if (++accepted === FRACTALS / 4) apiKill = killApiInstance(bench, accepted);
      }
    }),
  );
  let done: number;
  while ((done = await doneOf()) < FRACTALS / 4) {
    if (Date.now() > deadline) throw new Error(`crash phase: ${done} of ${FRACTALS} done at the deadline, before the kills`);
    await sleep(50);
  }
  const [victimName, victim] = [...workers.running.entries()][0]!;
  process.kill(victim.pid, 'SIGKILL');
  await victim.exited;
  workers.running.delete(victimName);
  log(`SIGKILL ${victimName} (pid ${victim.pid}) with ${done} of ${FRACTALS} done; starting a replacement`);
  const replacement = await workers.start(1);
  log(`replacement fractal worker (pid ${replacement.pid}) polling ${((performance.now() - started) / 1000).toFixed(1)} s into the phase`);
  await posting;
  const killedInstance = await apiKill;
  const drainDeadline = Date.now() + CRASH_DRAIN_TIMEOUT_MS;
  while ((done = await doneOf()) < FRACTALS && Date.now() < drainDeadline) await sleep(100);
  const seconds = (performance.now() - started) / 1000;
  log(`crash phase: ${done} of ${FRACTALS} done after ${seconds.toFixed(1)} s (${resends} POSTs sent again)`);

  // The truth: records in MySQL, executions in Temporal, objects in S3.
  const [rows] = await bench.mysql.query<RowDataPacket[]>('SELECT uuid, status FROM fractals WHERE uuid IN (?)', [uuids]);
  const [totalRows] = await bench.mysql.query<RowDataPacket[]>("SELECT COUNT(*) AS records, SUM(status = 'done') AS done FROM fractals");
  const totals = totalRows[0]!;
  const objects = await store.count();
  const executionsPerUuid = new Map<string, number>();
  let renderRetries = 0;
  for (const uuid of uuids) {
    const ids = new Set<string>();
    for await (const e of bench.temporal.workflow.list({ query: `WorkflowId = '${fractalWorkflowId(uuid)}'` })) ids.add(e.runId);
    executionsPerUuid.set(uuid, ids.size);
    const history = await bench.temporal.workflow.getHandle(fractalWorkflowId(uuid)).fetchHistory();
    for (const event of history.events ?? []) {
      const attempt = event.activityTaskStartedEventAttributes?.attempt ?? 1;
      if (attempt > 1) renderRetries++;
    }
  }
  const doneUuids = new Set(rows.filter((r) => r.status === ('done' satisfies FractalRecord['status'])).map((r) => r.uuid as string));
  const extraExecutions = [...executionsPerUuid.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0);
  // One row per uuid is the table's key; an object beyond the done records would be a PNG no record owns.
  const extraObjects = Math.max(0, objects - Number(totals.done ?? 0));
  const extraRows = Math.max(0, rows.length - uuids.length);
  return {
    crash_lost: FRACTALS - doneUuids.size,
    crash_duplicated: extraExecutions + extraObjects + extraRows,
    crash: {
      seconds: round(seconds, 1),
      killed: ['fractal-worker', 'api-instance'],
      fractal_worker_killed_at_done: FRACTALS / 4,
      api_instance_killed_at_accepted: killedInstance?.at_accepted ?? null,
      post_resends: resends,
      records_done: doneUuids.size,
      workflow_executions: [...executionsPerUuid.values()].reduce((sum, n) => sum + n, 0),
      render_retries: renderRetries,
      s3_objects: objects,
      records_done_all_phases: Number(totals.done ?? 0),
      records_all_phases: Number(totals.records ?? 0),
    },
  };
}

/** One API instance (its PID from its own port), SIGKILLed; the API's primary replaces it. */
async function killApiInstance(bench: Bench, accepted: number): Promise<{ pid: number; at_accepted: number }> {
  const { pid } = await statusOf(bench.instanceUrls[0]!);
  process.kill(pid, 'SIGKILL');
  log(`SIGKILL API instance 1 (pid ${pid}) with ${accepted} of ${FRACTALS} fractals accepted`);
  return { pid, at_accepted: accepted };
}

/** Single fractals on an idle queue, one at a time: POST until GET /fractal/<uuid> answers the PNG. */
async function singleJobs(bench: Bench, fractalWorkerPids: number[]): Promise<{ seconds: number[]; cpuMsPerFractal: Record<string, number> }> {
  const cpu = await cpuMeter(bench, fractalWorkerPids);
  const seconds: number[] = [];
  for (let i = 0; i < SINGLE_JOBS; i++) {
    const uuid = randomUUID();
    const started = performance.now();
    await postFractal(bench, uuid, Date.now() + 30_000);
    for (;;) {
      const response = await bench.send('GET', `/fractal/${uuid}`);
      await response.arrayBuffer();
      if (response.status === 200) break;
      if (performance.now() - started > 60_000) throw new Error(`fractal ${uuid} not available after 60 s`);
      await sleep(10);
    }
    seconds.push((performance.now() - started) / 1000);
  }
  log(`single fractals: p50 ${percentile(seconds, 50).toFixed(3)} s, p99 ${percentile(seconds, 99).toFixed(3)} s`);
  const cpuMsPerFractal = cpu(SINGLE_JOBS);
  log(`  CPU ms per fractal: ${Object.entries(cpuMsPerFractal).map(([kind, ms]) => `${kind} ${ms}`).join(', ')}`);
  return { seconds, cpuMsPerFractal };
}
