// footprint: what the default stack costs in memory and start time. The real `npm start` (supervisor
// included, default settings) on free ports in a temporary data dir: each process's RSS once it says it
// is ready, and again after a standard workload sent through its HTTP API with a token of its own (a
// request run of 20,000 calls, a CF convergence of 200 apps, one node deployment, 1,000 config
// writes). Then warm starts (again on the same data dir, median of 3), each beside the bare Temporal
// dev server started alone in the same run, the floor no stack start can beat.
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { hostEnv, loadConfig } from '../config.ts';
import { runStart, type Started } from '../scripts/npmStart.ts';
import { freeStackPorts, readLockedProcesses } from '../scripts/stack.ts';
import { mintToken } from '../scripts/token.ts';
import { timeBareTemporal, timeStart } from './stackStart.ts';

const READY_TIMEOUT_MS = 180_000;
const SETTLE_LIMIT_MS = 60_000;
const WARM_RUNS = 3;
const WORKLOAD_DEADLINE_MS = 10 * 60_000;
const CALLS = 20_000;
const CF_APPS_PER_KIND = 100;
const CONFIG_WRITES = 1000;
const CONFIG_CONCURRENCY = 20;
const GOALS = { total_rss_mb_ready: 1200, total_rss_mb_after_workload: 1600, warm_s: 5 };

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

interface ProcessInfo {
  pid: number;
  ppid: number;
  comm: string;
  rssKb: number;
}

/** Every process on the machine with its parent and resident set (VmRSS; kernel threads have none). */
function processTable(): Map<number, ProcessInfo> {
  const table = new Map<number, ProcessInfo>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '';
      table.set(Number(entry), { pid: Number(entry), ppid: Number(field('PPid')), comm: field('Name'), rssKb: Number.parseInt(field('VmRSS') || '0', 10) });
    } catch {
      /* exited meanwhile */
    }
  }
  return table;
}

/**
 * RSS in MB by process, for the supervisor and every process its lock names. A named process's own
 * children are listed under it as `<name>/<command>-<n>` (the API's forked instances are `api/node-1`,
 * `api/node-2`): every process of the tree is counted once, under its nearest named ancestor.
 */
function measure(supervisorPid: number, dataDir: string): Record<string, number> {
  const named = new Map<number, string>([[supervisorPid, 'supervisor (start.ts)']]);
  for (const [name, pid] of readLockedProcesses(dataDir)) named.set(pid, name);
  const table = processTable();
  const children = new Map<number, ProcessInfo[]>();
  for (const info of table.values()) children.set(info.ppid, [...(children.get(info.ppid) ?? []), info]);
  const result: Record<string, number> = {};
  const visit = (pid: number, owner: string, counts: Map<string, number>) => {
    for (const child of children.get(pid) ?? []) {
      if (named.has(child.pid)) continue; // counted as itself
      const n = (counts.get(child.comm) ?? 0) + 1;
      counts.set(child.comm, n);
      const label = `${owner}/${child.comm}-${n}`;
      result[label] = round(child.rssKb / 1024);
      visit(child.pid, owner, counts);
    }
  };
  for (const [pid, name] of named) {
    const info = table.get(pid);
    result[name] = info ? round(info.rssKb / 1024) : 0;
    if (info) visit(pid, name, new Map());
  }
  return result;
}

/**
 * The load and fractal workers are launched just before "ready" is printed and are still loading
 * then: "at ready" is taken once the stack's RSS has stopped growing (under 1 % over 3 s), so that a
 * process still starting is not counted small.
 */
async function settled(supervisorPid: number, dataDir: string): Promise<Record<string, number>> {
  const samples = [measure(supervisorPid, dataDir)];
  const deadline = Date.now() + SETTLE_LIMIT_MS;
  for (;;) {
    await sleep(1000);
    samples.push(measure(supervisorPid, dataDir));
    const [before, now] = [samples.at(-4), samples.at(-1)!];
    if ((before && total(now) - total(before) < total(before) / 100) || Date.now() > deadline) return now;
  }
}

const total = (processes: Record<string, number>) => round(Object.values(processes).reduce((a, b) => a + b, 0));

function printTable(ready: Record<string, number>, after: Record<string, number>): void {
  const names = [...new Set([...Object.keys(ready), ...Object.keys(after)])];
  const width = Math.max(...names.map((n) => n.length), 8);
  const cell = (value: number | undefined) => (value === undefined ? '–' : value.toFixed(1)).padStart(9);
  console.log(`${'process'.padEnd(width)}  ${'ready MB'.padStart(9)}  ${'after MB'.padStart(9)}`);
  for (const name of names.sort((a, b) => (after[b] ?? ready[b] ?? 0) - (after[a] ?? ready[a] ?? 0))) {
    console.log(`${name.padEnd(width)}  ${cell(ready[name])}  ${cell(after[name])}`);
  }
  console.log(`${'total'.padEnd(width)}  ${cell(total(ready))}  ${cell(total(after))}`);
}

/** The API as its users call it, with a bearer token; any answer but the expected ones fails the bench. */
function apiClient(base: string, token: string) {
  return async (method: string, path: string, body?: unknown, expect = [200, 201, 202]): Promise<unknown> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    if (!expect.includes(response.status)) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
    return text ? (JSON.parse(text) as unknown) : null;
  };
}

/** Polls a view until `done` says so, within the workload's deadline. */
async function until<T>(what: string, read: () => Promise<T>, done: (view: T) => boolean, deadline: number): Promise<T> {
  for (;;) {
    const view = await read();
    if (done(view)) return view;
    if (Date.now() > deadline) throw new Error(`${what} not finished at the deadline: ${JSON.stringify(view).slice(0, 300)}`);
    await sleep(1000);
  }
}

/** The standard workload, all four parts at once, as users would send them. */
async function workload(api: string, token: string): Promise<Record<string, unknown>> {
  const send = apiClient(api, token);
  const deadline = Date.now() + WORKLOAD_DEADLINE_MS;
  const started = performance.now();
  const seconds = () => round((performance.now() - started) / 1000);

  const requestRun = (async () => {
    const { runId } = (await send('POST', '/api/request-runs', { calls: CALLS, concurrency: 64, mode: 'atomic' })) as { runId: string };
    const run = await until('request run', async () => (await send('GET', `/api/request-runs/${runId}`)) as { status: string }, (r) => r.status !== 'running', deadline);
    log(`request run ${runId}: ${run.status} at ${seconds()} s`);
    if (run.status !== 'completed') throw new Error(`request run ${runId} ended ${run.status}`);
    return run.status;
  })();
  const convergence = (async () => {
    // One instance each: 200 apps of 32 MB fit the simulator's default org quota (10,240 MB).
    const kinds = [
      { kind: 'proxy', count: CF_APPS_PER_KIND, instances: 1, env: { GOPACKAGENAME: 'example-apps/proxy' } },
      { kind: 'tick', count: CF_APPS_PER_KIND, instances: 1, env: { GOPACKAGENAME: 'example-apps/tick' } },
    ];
    const { workflowId } = (await send('POST', '/api/cf-convergences', { prefix: 'footprint-', kinds })) as { workflowId: string };
    const view = await until('CF convergence', async () => (await send('GET', `/api/cf-convergences/${workflowId}`)) as { execution: string; status: string; error?: string | null }, (v) => v.execution !== 'RUNNING', deadline);
    log(`CF convergence of ${2 * CF_APPS_PER_KIND} apps: ${view.execution} (${view.status}) at ${seconds()} s`);
    if (view.execution !== 'COMPLETED') throw new Error(`CF convergence ${workflowId} ended ${view.execution}: ${view.error ?? ''}`);
    return view.status;
  })();
  const deployment = (async () => {
    const { workflowId } = (await send('POST', '/api/clusters/web/deployments', { deploymentId: 'footprint-1' })) as { workflowId: string };
    const view = await until('node deployment', async () => (await send('GET', `/api/runbooks/${encodeURIComponent(workflowId)}`)) as { execution: string; state: string }, (v) => v.execution !== 'RUNNING', deadline);
    log(`node deployment: ${view.state} at ${seconds()} s`);
    if (view.state !== 'succeeded') throw new Error(`node deployment ${workflowId} ended ${view.state}`);
    return view.state;
  })();
  const configWrites = (async () => {
    let next = 0;
    const writer = async () => {
      for (let i = next++; i < CONFIG_WRITES; i = next++) await send('PUT', `/config/footprint/key-${i}`, { key: i, value: `value ${i}` });
    };
    await Promise.all(Array.from({ length: CONFIG_CONCURRENCY }, writer));
    log(`${CONFIG_WRITES} config writes done at ${seconds()} s`);
    return CONFIG_WRITES;
  })();
  const [run, cf, node, writes] = await Promise.all([requestRun, convergence, deployment, configWrites]);
  return { request_run: run, cf_convergence: cf, node_deployment: node, config_writes: writes, workload_s: seconds() };
}

/** Ctrl-C, as a user stops it; killed outright (with what its lock names) if it has not stopped within a minute. */
async function stopStart(started: Started, dataDir: string): Promise<void> {
  if (started.child.exitCode !== null || started.child.signalCode !== null) return;
  let locked: Map<string, number> = new Map();
  try {
    locked = readLockedProcesses(dataDir);
  } catch {
    /* no lock yet */
  }
  started.child.kill('SIGINT');
  const stopped = await Promise.race([started.exit.then(() => true), sleep(60_000, false, { ref: false })]);
  if (stopped) return;
  log('npm start did not stop within 60 s of SIGINT: killing it and what it started');
  started.child.kill('SIGKILL');
  for (const pid of locked.values()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await started.exit;
}

async function untilReady(started: Started): Promise<number> {
  const begun = performance.now();
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!started.output().includes('Press Ctrl-C to stop.')) {
    if (started.child.exitCode !== null) throw new Error(`npm start exited (${started.child.exitCode}) before it was ready:\n${started.output()}`);
    if (Date.now() > deadline) throw new Error(`npm start was not ready within ${READY_TIMEOUT_MS / 1000} s:\n${started.output()}`);
    await sleep(100);
  }
  return (performance.now() - begun) / 1000;
}

export async function footprintBenchmark(): Promise<Record<string, unknown>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-footprint-'));
  try {
    const env = { ...(await freeStackPorts()), FLEET_DATA_DIR: dataDir };
    const config = loadConfig(hostEnv(env));
    const api = `http://${config.api.host}:${config.api.port}`;
    log(`Starting npm start in ${dataDir} (API ${api})…`);
    const started = runStart(env);
    let ready: Record<string, number>;
    let after: Record<string, number>;
    let outcome: Record<string, unknown>;
    let firstStartSeconds: number;
    try {
      firstStartSeconds = await untilReady(started);
      const atReadyLine = measure(started.child.pid!, dataDir);
      ready = await settled(started.child.pid!, dataDir);
      log(`ready in ${firstStartSeconds.toFixed(1)} s (first start, empty data dir): ${total(atReadyLine)} MB as it printed so, ${total(ready)} MB once settled, in ${Object.keys(ready).length} processes`);
      const token = await mintToken(config, 'bench-footprint', 'operator');
      outcome = await workload(api, token);
      after = measure(started.child.pid!, dataDir);
    } finally {
      await stopStart(started, dataDir);
    }
    // Warm starts: the same data dir again, everything installed, each beside the bare Temporal dev
    // server alone, alternating so that drift hits both alike; the medians are reported.
    const warm: number[] = [];
    const bare: number[] = [];
    const warmTimings: string[] = [];
    for (let i = 1; i <= WARM_RUNS; i++) {
      warm.push(await timeStart(env, (lines) => warmTimings.push(lines)));
      bare.push(await timeBareTemporal());
      log(`warm start ${i}: ${warm.at(-1)!.toFixed(2)} s; bare Temporal dev server ${bare.at(-1)!.toFixed(2)} s`);
    }
    const [warmSeconds, bareSeconds] = [median(warm), median(bare)];
    // Where the median warm start's time went (`npm start -- --timings`).
    console.log(`Timings of the median warm start (${warmSeconds.toFixed(2)} s):\n${warmTimings[warm.indexOf(warmSeconds)]}`);

    printTable(ready, after);
    const result = {
      processes: Object.fromEntries(Object.keys({ ...ready, ...after }).map((name) => [name, { ready: ready[name] ?? null, after_workload: after[name] ?? null }])),
      total_rss_mb_ready: total(ready),
      total_rss_mb_after_workload: total(after),
      warm_s: round(warmSeconds, 2),
      baseline_temporal_only_s: round(bareSeconds, 2),
      first_start_empty_data_s: round(firstStartSeconds, 2),
      warm_runs_s: warm.map((s) => round(s, 2)),
      baseline_runs_s: bare.map((s) => round(s, 2)),
      ...outcome,
      goals: GOALS,
    };
    for (const [key, goal] of Object.entries(GOALS)) {
      const value = result[key as keyof typeof GOALS];
      console.log(`${value <= goal ? 'PASS' : 'FAIL'}  ${key} ${value} (goal ≤ ${goal})`);
    }
    return result;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
