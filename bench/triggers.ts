// triggers: on a private stack (npm start's, with its seeded closed loop), four measurements.
//  1. reaction: an HTTP counter served by this bench flips above a trigger's threshold; from the
//     moment the condition has held for heldFor to the start of the chain's first action (from the
//     chain workflow's result);
//  2. flapping: a signal alternating around the threshold (time compressed 10×), firings with
//     hysteresis and cooldown against the rising edges of the same recorded samples (a plain threshold);
//  3. scale: 100 nodes registered by hostname (127.0.0.x, each answering one server of this bench),
//     50 counters, 1,000 triggers at 10 s: tick lag and history events per trigger-hour (histories);
//  4. the closed loop on `web`: CPU load ON → a node deployed and active, OFF → the newest removed,
//     bounds watched throughout, with the seeded triggers (shorter heldFor, reported).
// All traffic stays on 127.0.0.0/8.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import type mysql from 'mysql2/promise';
import { connectClient } from '../temporal/connection.ts';
import { createMysqlPool } from '../db/clients.ts';
import { createFleetModel } from '../db/nodes.ts';
import { createTriggerStateStore } from '../db/triggerStates.ts';
import { createSampleReader } from '../db/samples.ts';
import { createCpuLoadService } from '../services/cpuLoad.ts';
import { temporalWebUiLinks } from '../services/executions.ts';
import { CPU_BUSY_SCRIPT, definitionServices, EXAMPLE_CLUSTER, EXAMPLE_COUNTER, EXAMPLE_SCALE_IN, EXAMPLE_SCALE_OUT, exampleTriggers } from '../scripts/localFleet.ts';
import { CPU_LOAD_CONTROL_TASK_QUEUE, CPU_LOAD_TASK_QUEUE } from '../workflows/cpuLoad.shared.ts';
import { triggerChainWorkflowId, triggerTickWorkflowIdPrefix, type TriggerBody, type TriggerChainStatus } from '../workflows/triggers.shared.ts';
import type { Config } from '../config.ts';
import { startPrivateStack } from './privateStack.ts';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};
const log = (line: string) => console.log(line);

/** Polls `read` until it returns something, or fails after `timeoutMs` naming `what`. */
async function until<T>(what: string, timeoutMs: number, read: () => Promise<T | undefined>, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(intervalMs);
  }
}

// The bench's own counter server: GET /v/<name> answers {"value": n} (n set by the bench, or a function
// of time); GET /metrics answers {"c00": …, "c49": …}. One handler, listening on every node's address.
type ValueSource = number | ((now: number) => number);
function counterServer() {
  const values = new Map<string, ValueSource>();
  const metrics = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`c${String(i).padStart(2, '0')}`, 0]));
  let requests = 0;
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    requests++;
    const name = /^\/v\/([a-z0-9-]+)$/.exec(request.url ?? '')?.[1];
    const source = name === undefined ? undefined : values.get(name);
    const body = request.url === '/metrics' ? metrics : source === undefined ? undefined : { value: typeof source === 'function' ? source(Date.now()) : source };
    response.writeHead(body ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? { error: 'no such value' }));
  };
  const servers: Server[] = [];
  return {
    values,
    metrics,
    requests: () => requests,
    async listen(hosts: string[], port = 0): Promise<number> {
      for (const host of hosts) {
        const server = createServer({ keepAlive: true }, handler);
        await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve()));
        port = (server.address() as { port: number }).port;
        servers.push(server);
      }
      return port;
    },
    close: () => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))),
  };
}

interface Bench {
  config: Config;
  temporal: Client;
  pool: mysql.Pool;
  services: ReturnType<typeof definitionServices>;
  fleet: ReturnType<typeof createFleetModel>;
  states: ReturnType<typeof createTriggerStateStore>;
  port: number;
  server: ReturnType<typeof counterServer>;
}

/** A cluster of registered nodes at `hosts` (as the example's, with its profiles). */
async function clusterOf(bench: Bench, name: string, hosts: string[]): Promise<void> {
  const example = (await bench.fleet.getCluster(EXAMPLE_CLUSTER))!;
  await bench.fleet.putCluster({ ...example, name, minNodes: 0, maxNodes: Math.max(5, hosts.length), notifyEmail: 'bench@fleet.local' }, { replace: false });
  for (const hostname of hosts) await bench.services.nodes.registerNode(name, { hostname, port: bench.config.ssh.sshd.port });
}

const httpCounter = (port: number, path: string, pointer = '/value') => ({ kind: 'http' as const, comparison: '>' as const, threshold: 50, format: 'json' as const, jsonPointer: pointer, url: `http://{host}:${port}${path}` });
const trigger = (cluster: string, counter: string, fields: Partial<TriggerBody>): TriggerBody => ({
  cluster,
  counters: [counter],
  combine: 'avg',
  intervalMs: 10_000,
  heldForMs: 10_000,
  keepFiringForMs: 0,
  cooldownMs: 0,
  enabled: true,
  circuitBreaker: { maxFirings: 1000, windowMs: 3600_000 },
  chain: [],
  ...fields,
});

// 1. Reaction.
const REACT = { intervalMs: 5000, heldForMs: 10_000, trials: 6 };
async function measureReaction(bench: Bench) {
  await clusterOf(bench, 'bench-react', ['127.0.0.1']);
  bench.server.values.set('flag', 0);
  await bench.services.triggers.putCounter('bench-flag', httpCounter(bench.port, '/v/flag'));
  await bench.services.triggers.putTrigger('bench-react', trigger('bench-react', 'bench-flag', {
    intervalMs: REACT.intervalMs,
    heldForMs: REACT.heldForMs,
    cooldownMs: 1000,
    chain: [{ kind: 'email', label: 'Mail', target: 'none', onFailure: 'stop', address: 'bench@fleet.local', title: '{trigger} fired', content: '{value}' }],
  }));
  const stateOf = async () => (await bench.states.states(['bench-react'])).get('bench-react')!;
  await until('the first evaluation', 30_000, async () => ((await stateOf()).evaluatedAt ? true : undefined));
  const reactions: number[] = [];
  const breakdown = { detect: [] as number[], held: [] as number[], start: [] as number[] };
  for (let trial = 0; trial < REACT.trials; trial++) {
    // A random phase against the schedule: the flip lands anywhere within an interval.
    await sleep(Math.random() * REACT.intervalMs);
    const seen = new Set((await bench.states.firings('bench-react')).map((f) => f.id));
    const flippedAt = Date.now();
    bench.server.values.set('flag', 100);
    let pendingSince: string | null = null;
    const firing = await until('a firing', REACT.heldForMs + 4 * REACT.intervalMs, async () => {
      const state = await stateOf();
      if (state.state === 'pending') pendingSince ??= state.since;
      return (await bench.states.firings('bench-react')).find((f) => !seen.has(f.id) && f.chainRunId);
    }, 100);
    const result = await bench.temporal.workflow.getHandle<() => Promise<TriggerChainStatus>>(firing.chainWorkflowId, firing.chainRunId!).result();
    const actionAt = Date.parse(result.actions[0]!.startedAt!);
    const reaction = (actionAt - (flippedAt + REACT.heldForMs)) / 1000;
    reactions.push(reaction);
    // Where it went: the first breaching tick after the flip, heldFor on the ticks' clock, the chain's start.
    const since = pendingSince ? Date.parse(pendingSince) : NaN;
    const parts = { detect: (since - flippedAt) / 1000, held: (Date.parse(firing.firedAt) - since) / 1000, start: (actionAt - Date.parse(firing.firedAt)) / 1000 };
    for (const [key, value] of Object.entries(parts)) if (Number.isFinite(value)) breakdown[key as keyof typeof parts].push(value);
    log(`reaction trial ${trial + 1}: first action started ${reaction.toFixed(2)} s after the condition had held for ${REACT.heldForMs / 1000} s (breach seen ${parts.detect.toFixed(2)} s after the flip, fired ${parts.held.toFixed(2)} s after that, action ${parts.start.toFixed(2)} s after firing)`);
    bench.server.values.set('flag', 0);
    await until('inactive again', 30_000, async () => ((await stateOf()).state === 'inactive' ? true : undefined));
  }
  await bench.services.triggers.setTriggerEnabled('bench-react', false);
  return {
    interval_s: REACT.intervalMs / 1000,
    held_for_s: REACT.heldForMs / 1000, reaction_trials: reactions.length, reaction_p50_s: round(percentile(reactions, 50)), reaction_p99_s: round(percentile(reactions, 99)),
    reaction_breakdown_p50_s: { breach_seen_after_flip: round(percentile(breakdown.detect, 50)), fired_after_breach: round(percentile(breakdown.held, 50)), action_after_firing: round(percentile(breakdown.start, 50)) },
  };
}

// 2. Flapping, time compressed 5× (2 s ≙ 10 s): 60 s ≙ 5 min of a signal alternating around 50 from
// one sample to the next (above 50: 55–65; below: 35–45, above the clear threshold 30), as noisy CPU would.
const FLAP = { compression: 5, intervalMs: 2000, heldForMs: 6000, cooldownMs: 12_000, clearThreshold: 30, durationMs: 60_000 };
async function measureFlapping(bench: Bench) {
  await clusterOf(bench, 'bench-flap', ['127.0.0.1']);
  bench.server.values.set('wave', 40);
  await bench.services.triggers.putCounter('bench-wave', httpCounter(bench.port, '/v/wave'));
  await bench.services.triggers.putTrigger('bench-flap', trigger('bench-flap', 'bench-wave', {
    comparison: '>',
    threshold: 50,
    intervalMs: FLAP.intervalMs,
    heldForMs: FLAP.heldForMs,
    cooldownMs: FLAP.cooldownMs,
    clearThreshold: FLAP.clearThreshold,
  }));
  await until('the first evaluation', 30_000, async () => ((await bench.states.states(['bench-flap'])).get('bench-flap')!.evaluatedAt ? true : undefined));
  const from = new Date();
  // Each read is the other side of the threshold from the last one (whatever the ticks' timing).
  let high = false;
  bench.server.values.set('wave', () => {
    high = !high;
    return (high ? 55 : 35) + Math.random() * 10;
  });
  await sleep(FLAP.durationMs);
  bench.server.values.set('wave', 20);
  const to = new Date();
  await bench.services.triggers.setTriggerEnabled('bench-flap', false);
  const firings = (await bench.states.firings('bench-flap')).filter((f) => Date.parse(f.firedAt) >= from.getTime() && Date.parse(f.firedAt) < to.getTime());
  const samples = (await createSampleReader(bench.pool).series({ counter: 'bench-wave', from, to })).filter((s) => s.value !== null);
  let naive = 0;
  for (let i = 1; i < samples.length; i++) if (samples[i]!.value! > 50 && samples[i - 1]!.value! <= 50) naive++;
  log(`flapping: ${samples.length} samples in ${FLAP.durationMs / 1000} s, ${naive} rising edges (a plain threshold), ${firings.length} firing(s) with hysteresis and cooldown`);
  return {
    flap_time_compression: `interval ${FLAP.intervalMs / 1000} s, heldFor ${FLAP.heldForMs / 1000} s, cooldown ${FLAP.cooldownMs / 1000} s, clearThreshold ${FLAP.clearThreshold} (threshold 50), ${FLAP.durationMs / 1000} s of signal stand for 10 s, 30 s, 60 s and 5 min (time compressed ${FLAP.compression}×)`,
    flap_samples: samples.length,
    flap_firings: firings.length,
    naive_firings: naive,
  };
}

// 3. Scale: node names are two digits (01–99), so the 100 nodes are two clusters of 50, each with 500
// of the triggers over the same 50 counters; both schedules tick every 10 s on the one worker.
const SCALE = { clusters: 2, nodesPerCluster: 50, counters: 50, triggers: 1000, intervalMs: 10_000, observeMs: 125_000 };
async function measureScale(bench: Bench) {
  const hosts = Array.from({ length: SCALE.clusters * SCALE.nodesPerCluster }, (_, i) => `127.0.0.${i + 2}`);
  await bench.server.listen(hosts, bench.port);
  const clusters = Array.from({ length: SCALE.clusters }, (_, i) => `bench-scale-${i + 1}`);
  for (const [i, cluster] of clusters.entries()) await clusterOf(bench, cluster, hosts.slice(i * SCALE.nodesPerCluster, (i + 1) * SCALE.nodesPerCluster));
  const counters = Array.from({ length: SCALE.counters }, (_, i) => `bench-c${String(i).padStart(2, '0')}`);
  for (const [i, name] of counters.entries()) await bench.services.triggers.putCounter(name, httpCounter(bench.port, '/metrics', `/c${String(i).padStart(2, '0')}`));
  // Values 0–99; one trigger in ten breaches (and stays pending: heldFor 1 h), the others never.
  for (const [i, key] of Object.keys(bench.server.metrics).entries()) bench.server.metrics[key] = (i * 37) % 100;
  const combines = ['any', 'all', 'avg', 'max', 'min'] as const;
  const startedAt = Date.now();
  for (let i = 0; i < SCALE.triggers; i++) {
    const cluster = clusters[i % clusters.length]!;
    // The service's own path (checks, then its schedule's sync), as PUT /api/triggers/<name> does.
    await bench.services.triggers.putTrigger(`bench-t${String(i).padStart(4, '0')}`, trigger(cluster, counters[i % counters.length]!, {
      combine: combines[i % combines.length]!,
      comparison: '>',
      threshold: i % 10 === 0 ? -1 : 1000,
      intervalMs: SCALE.intervalMs,
      heldForMs: 3600_000,
    }));
  }
  log(`scale: ${SCALE.triggers} triggers defined in ${((Date.now() - startedAt) / 1000).toFixed(1)} s; observing ${SCALE.observeMs / 1000} s of ticks`);
  const from = Date.now();
  await sleep(SCALE.observeMs);
  const requestsBefore = bench.server.requests();
  // Stop ticking (the closed loop comes next), then read the histories of the ticks in the window.
  for (const cluster of clusters) await bench.temporal.schedule.getHandle(`trigger-tick:${cluster}`).pause('bench done');
  await sleep(3000);
  const lags: number[] = [];
  const evaluated: number[] = [];
  let events = 0;
  let ticks = 0;
  for (const cluster of clusters) {
    const prefix = `${triggerTickWorkflowIdPrefix(cluster)}-`;
    for await (const execution of bench.temporal.workflow.list({ query: `WorkflowType = 'triggerTick' AND StartTime >= '${new Date(from - 1000).toISOString()}'` })) {
      if (!execution.workflowId.startsWith(prefix)) continue;
      const scheduledAt = Date.parse(execution.workflowId.slice(prefix.length));
      const history = await bench.temporal.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      const done = history.events?.find((e) => e.activityTaskCompletedEventAttributes);
      if (!done) continue;
      const doneAt = Number(done.eventTime!.seconds) * 1000 + Math.round((done.eventTime!.nanos ?? 0) / 1e6);
      lags.push((doneAt - scheduledAt) / 1000);
      events += history.events?.length ?? 0;
      ticks++;
    }
    // Chains of these clusters' triggers (none fire here; counted if any did).
    for await (const execution of bench.temporal.workflow.list({ query: `WorkflowType = 'triggerChain' AND StartTime >= '${new Date(from - 1000).toISOString()}'` })) {
      if (execution.workflowId.startsWith(triggerChainWorkflowId(cluster, ''))) events += execution.historyLength;
    }
    const states = await bench.states.states(Array.from({ length: SCALE.triggers }, (_, i) => `bench-t${String(i).padStart(4, '0')}`));
    evaluated.push([...states.values()].filter((s) => s.evaluatedAt && Date.parse(s.evaluatedAt) >= from).length);
  }
  const hours = SCALE.observeMs / 3600_000;
  log(`scale: ${ticks} ticks, tick lag p50 ${percentile(lags, 50).toFixed(2)} s, p99 ${percentile(lags, 99).toFixed(2)} s, max ${Math.max(...lags).toFixed(2)} s; ${events} history events; ${requestsBefore} HTTP counter requests served`);
  return {
    eval_nodes: hosts.length,
    eval_counters: counters.length,
    eval_triggers: SCALE.triggers,
    eval_clusters: clusters.length,
    scale_ticks: ticks,
    triggers_evaluated: evaluated[evaluated.length - 1],
    tick_lag_p50_s: round(percentile(lags, 50)),
    tick_lag_p99_s: round(percentile(lags, 99)),
    history_events_per_trigger_hour: round(events / SCALE.triggers / hours),
  };
}

// 4. The closed loop.
const LOOP = { intervalMs: 5000, scaleOutHeldForMs: 15_000, scaleInHeldForMs: 30_000, cooldownMs: 30_000, holdOnMs: 45_000, timeoutMs: 240_000 };

/** CPU used by the given processes, in percent of the machine, over one second (for a machine others keep busy). */
const loadWorkerCpuScript = (pids: number[]) => `hz=$(getconf CLK_TCK); n=$(getconf _NPROCESSORS_ONLN)
t() { s=0; for p in ${pids.join(' ')}; do if [ -r /proc/$p/stat ]; then set -- $(sed 's/^.*) //' /proc/$p/stat); s=$((s + \${12} + \${13})); fi; done; echo $s; }
a=$(t); sleep 1; b=$(t)
echo $(( 100 * (b - a) / (hz * n) ))
`;
const sampleLocally = async (script: string) => Number((await run('sh', ['-c', script])).stdout.trim());

async function measureClosedLoop(bench: Bench, loadWorkerPids: number[]) {
  const cpuLoad = createCpuLoadService({
    temporal: bench.temporal,
    links: temporalWebUiLinks(bench.config.temporal.webUiUrl, bench.config.temporal.namespace),
    controlTaskQueue: CPU_LOAD_CONTROL_TASK_QUEUE,
    loadTaskQueue: CPU_LOAD_TASK_QUEUE,
    loadWorkers: bench.config.cpuLoad.loadWorkers,
  });
  // Calibration: the seeded counter (machine-wide CPU busy) tells ON from OFF only when the rest of the
  // machine is quiet; on a machine others keep busy, the loop runs on the CPU of the worker whose load slots burn.
  const lwScript = loadWorkerCpuScript(loadWorkerPids);
  const levels = async () => {
    const busy: number[] = [];
    const lw: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [b, l] = await Promise.all([sampleLocally(CPU_BUSY_SCRIPT), sampleLocally(lwScript)]);
      busy.push(b);
      lw.push(l);
    }
    return { busy: percentile(busy, 50), lw: percentile(lw, 50) };
  };
  const off = await levels();
  await cpuLoad.switch('default', { state: 'ON', ttlSeconds: 900 });
  await sleep(3000);
  const on = await levels();
  await cpuLoad.switch('default', { state: 'OFF' });
  await sleep(3000);
  const machineQuiet = off.busy < 20 && on.busy > 70;
  const counter = machineQuiet ? EXAMPLE_COUNTER : 'load-worker-cpu';
  const scaleOutAbove = machineQuiet ? 70 : Math.max(2, Math.floor(on.lw / 2));
  const scaleInBelow = machineQuiet ? 20 : Math.max(1, Math.floor(on.lw / 4));
  log(`closed loop: CPU busy OFF ${off.busy} %, ON ${on.busy} %; the load slots' worker's CPU OFF ${off.lw} %, ON ${on.lw} % → counter ${counter}, scale out above ${scaleOutAbove}, in below ${scaleInBelow}`);
  if (!machineQuiet) await bench.services.triggers.putCounter(counter, { kind: 'ssh', comparison: '>', threshold: scaleOutAbove, script: lwScript, description: "the CPU of the worker whose load slots burn, in percent of the machine" });

  // The seeded triggers, with shorter waits (and the counter the calibration chose).
  const seeded = exampleTriggers({ notify: 'ops@fleet.local', counter, intervalMs: LOOP.intervalMs, scaleOutHeldForMs: LOOP.scaleOutHeldForMs, scaleInHeldForMs: LOOP.scaleInHeldForMs, cooldownMs: LOOP.cooldownMs });
  await bench.services.triggers.putTrigger(EXAMPLE_SCALE_OUT, { ...seeded[EXAMPLE_SCALE_OUT]!, threshold: scaleOutAbove });
  await bench.services.triggers.putTrigger(EXAMPLE_SCALE_IN, { ...seeded[EXAMPLE_SCALE_IN]!, threshold: scaleInBelow });
  const cluster = (await bench.fleet.getCluster(EXAMPLE_CLUSTER))!;
  const stateOf = async (name: string) => (await bench.states.states([name])).get(name)!;
  await until('the seeded triggers evaluated', 60_000, async () => ((await stateOf(EXAMPLE_SCALE_OUT)).evaluatedAt && (await stateOf(EXAMPLE_SCALE_IN)).evaluatedAt ? true : undefined));

  // Node count watched every 250 ms: bounds, scale-out and scale-in times, and any drop while ON.
  let violations = 0;
  let watching = true;
  let loadOn = false;
  let dropsWhileOn = 0;
  let previousActive = -1;
  const counts: { at: number; active: number; rows: number }[] = [];
  const watcher = (async () => {
    while (watching) {
      const nodes = await bench.fleet.listNodes(EXAMPLE_CLUSTER);
      const active = nodes.filter((n) => n.state === 'active').length;
      const held = nodes.filter((n) => n.state !== 'removing').length;
      if (active < cluster.minNodes || held > cluster.maxNodes) violations++;
      if (loadOn && previousActive >= 0 && active < previousActive) dropsWhileOn++;
      previousActive = active;
      counts.push({ at: Date.now(), active, rows: nodes.length });
      await sleep(250);
    }
  })();
  const activeNow = () => counts.at(-1)?.active ?? 0;
  const rowsNow = () => counts.at(-1)?.rows ?? 0;
  try {
    const initial = await until('a node count', 5000, async () => (counts.length ? activeNow() : undefined));
    const onAt = Date.now();
    loadOn = true;
    await cpuLoad.switch('default', { state: 'ON', ttlSeconds: 900 });
    await until('a new active node', LOOP.timeoutMs, async () => (activeNow() > initial ? true : undefined));
    const scaleOut = (Date.now() - onAt) / 1000;
    log(`closed loop: CPU load ON → ${activeNow()} active nodes after ${scaleOut.toFixed(1)} s`);
    await sleep(LOOP.holdOnMs);
    const peakRows = rowsNow();
    const offAt = Date.now();
    loadOn = false;
    await cpuLoad.switch('default', { state: 'OFF' });
    // Removed: its row is gone (a node being removed still counts until its removal has finished).
    await until('a node removed', LOOP.timeoutMs, async () => (rowsNow() < peakRows ? true : undefined));
    const scaleIn = (Date.now() - offAt) / 1000;
    log(`closed loop: CPU load OFF → a node removed, ${activeNow()} active, after ${scaleIn.toFixed(1)} s`);
    // What one deployment and one removal took (the chains' first actions).
    const chainAction = async (name: string) => {
      // The first of its firings since the load went ON whose action ran (not skipped at a bound); firings come newest first.
      for (const firing of (await bench.states.firings(name)).filter((f) => f.chainRunId && Date.parse(f.firedAt) >= onAt).reverse()) {
        const result = await bench.temporal.workflow.getHandle<() => Promise<TriggerChainStatus>>(firing.chainWorkflowId, firing.chainRunId!).result();
        const action = result.actions[0]!;
        if (action.status === 'succeeded') return (Date.parse(action.endedAt!) - Date.parse(action.startedAt!)) / 1000;
      }
      return undefined;
    };
    const deployment = await chainAction(EXAMPLE_SCALE_OUT);
    const removal = await chainAction(EXAMPLE_SCALE_IN);
    const outFirings = (await bench.states.firings(EXAMPLE_SCALE_OUT)).filter((f) => Date.parse(f.firedAt) >= onAt && Date.parse(f.firedAt) < offAt).length;
    const inFiringsWhileOn = (await bench.states.firings(EXAMPLE_SCALE_IN)).filter((f) => Date.parse(f.firedAt) >= onAt && Date.parse(f.firedAt) < offAt).length;
    return {
      closed_loop_counter: counter,
      closed_loop_thresholds: { scale_out_above: scaleOutAbove, scale_in_below: scaleInBelow },
      closed_loop_calibration: { cpu_busy_off: off.busy, cpu_busy_on: on.busy, load_worker_cpu_off: off.lw, load_worker_cpu_on: on.lw },
      closed_loop_settings: { interval_s: LOOP.intervalMs / 1000, scale_out_held_for_s: LOOP.scaleOutHeldForMs / 1000, scale_in_held_for_s: LOOP.scaleInHeldForMs / 1000, cooldown_s: LOOP.cooldownMs / 1000, min_nodes: cluster.minNodes, max_nodes: cluster.maxNodes, load_on_after_scale_out_s: LOOP.holdOnMs / 1000 },
      scale_out_s: round(scaleOut, 1),
      scale_out_deployment_s: deployment === undefined ? null : round(deployment, 1),
      scale_out_goal_s: deployment === undefined ? null : round(LOOP.scaleOutHeldForMs / 1000 + deployment + 10, 1),
      scale_in_s: round(scaleIn, 1),
      scale_in_removal_s: removal === undefined ? null : round(removal, 1),
      scale_in_goal_s: removal === undefined ? null : round(LOOP.scaleInHeldForMs / 1000 + removal + 10, 1),
      scale_out_firings_while_on: outFirings,
      scale_in_firings_while_on: inFiringsWhileOn,
      node_drops_while_on: dropsWhileOn,
      bounds_violations: violations,
    };
  } finally {
    watching = false;
    await watcher;
    await cpuLoad.switch('default', { state: 'OFF' }).catch(() => undefined);
  }
}

export async function triggersBenchmark(): Promise<Record<string, unknown>> {
  const deadline = setTimeout(() => {
    console.error('error: the triggers benchmark ran past 25 minutes; stopping.');
    process.exit(1);
  }, 25 * 60_000);
  deadline.unref();
  log('Starting a private stack (npm start’s: Temporal, the worker with its load slots, moto, sshd, the seeded loop on web)…');
  const { config, stack, stop } = await startPrivateStack('triggers', { API_INSTANCES: '1' }, { workers: 1 });
  const temporal = await connectClient(config);
  const pool = createMysqlPool(config, { connectionLimit: 4 });
  const server = counterServer();
  try {
    const services = definitionServices(config, pool, temporal);
    // The seeded loop waits for the last part: quiet until then.
    for (const name of [EXAMPLE_SCALE_OUT, EXAMPLE_SCALE_IN]) await services.triggers.setTriggerEnabled(name, false);
    const port = await server.listen(['127.0.0.1']);
    const bench: Bench = { config, temporal, pool, services, fleet: createFleetModel(pool), states: createTriggerStateStore(pool), port, server };
    const reaction = await measureReaction(bench);
    const flapping = await measureFlapping(bench);
    const scale = await measureScale(bench);
    // The load slots burn in the main worker's threads (its other work is small beside a core per slot).
    const loadWorkerPids = stack.appProcesses.filter((p) => p.name.startsWith('worker-')).map((p) => p.pid);
    const loop = await measureClosedLoop(bench, loadWorkerPids);
    return { ...reaction, ...flapping, ...scale, ...loop };
  } finally {
    await server.close();
    await pool.end();
    await temporal.connection.close();
    await stop();
    clearTimeout(deadline);
  }
}
