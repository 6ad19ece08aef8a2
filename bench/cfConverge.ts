// cf-converge: converge 200 apps (100 proxy + 100 tick, 2 instances each: the seed's parameters)
// through the whole product (Temporal → worker → CF client → simulator with 20 ms per request) at
// concurrency 20. Side by side in the same run: the ideal bound computed from the simulator's own
// request log, and a one-app-at-a-time (concurrency 1) baseline. Then a re-converge, an env change
// rolled out to the 100 tick apps, 1,000 apps, and the seed's own parameter file (201 apps, its
// quota and its ASG) from nothing.
import { readFileSync } from 'node:fs';
import { connectClient } from '../temporal/connection.ts';
import { startPrivateStack } from './privateStack.ts';
import { cfConverge } from '../workflows/cfConverge.ts';
import { CF_CONVERGE_TASK_QUEUE, type ConvergeInput, type ConvergeResult, type DesiredState, type SeedParams } from '../workflows/cfConverge.shared.ts';
import type { RequestLogEntry } from '../sim/cf/traffic.ts';

const LATENCY_MS = 20;
const CONCURRENCY = 20;
/**
 * Asynchronous CF work kept short next to the latency, so the bound compares like with like. The
 * organizations' quota is the original cf-pusher's `<prefix>quota` (1000G, 20000 routes): 200 apps ×
 * 2 instances × 32 MB need more than CC's default quota (10240 MB), as they would on a real foundation.
 */
const knobs = {
  latencyMs: LATENCY_MS, stagingDelayMs: 100, copyDelayMs: 20, instanceStartDelayMs: 20, jobDelayMs: 20,
  defaultQuota: { totalMemoryInMb: 1_024_000, totalRoutes: 20_000 },
};

/** Polls: reads of something that changes by itself (droplets, builds, packages, jobs, deployments, instance stats). */
function isPoll(entry: RequestLogEntry): boolean {
  return entry.method === 'GET' && /^GET \/v3\/(droplets\/:guid|builds\/:guid|packages\/:guid|jobs\/:guid|deployments\/:guid|apps\/:guid\/processes\/web\/stats)$/.test(entry.kind);
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

export async function cfConvergeBenchmark(): Promise<Record<string, unknown>> {
  console.log('Starting a private stack (Temporal, worker, CF simulator, …)…');
  const { config, stop } = await startPrivateStack('cf', { API_INSTANCES: '1', CPU_LOAD_WORKERS: '0', FRACTAL_WORKERS: '0' }, { workers: 1 });
  const temporal = await connectClient(config);
  const sim = config.cf.apiUrl;
  const simRequests = async (since: number) => (await (await fetch(`${sim}/__sim/requests?since=${since}`)).json()) as { requests: RequestLogEntry[]; last: number };
  await fetch(`${sim}/__sim/config`, { method: 'PUT', body: JSON.stringify(knobs) });

  /** Runs one convergence; returns its wall time (start call to result) and what the simulator saw. */
  const run = async (name: string, input: ConvergeInput) => {
    const since = (await simRequests(0)).last;
    const started = performance.now();
    const handle = await temporal.workflow.start(cfConverge, { workflowId: `bench-${name}`, taskQueue: CF_CONVERGE_TASK_QUEUE, args: [input] });
    const result = (await handle.result()) as ConvergeResult;
    const wallSeconds = (performance.now() - started) / 1000;
    const { requests } = await simRequests(since);
    const mutating = requests.filter((r) => r.mutating).length;
    const polls = requests.filter(isPoll).length;
    const idealSeconds = ((mutating + polls) * LATENCY_MS) / 1000 / (input.concurrency ?? 16);
    const history = (await handle.describe()).historyLength;
    console.log(
      `${name}: ${result.status} in ${wallSeconds.toFixed(2)} s; ${mutating} mutating + ${polls} polling calls → ideal ${idealSeconds.toFixed(2)} s; ${requests.length} requests; ${history} history events`,
    );
    return { result, wallSeconds, mutating, polls, idealSeconds, history };
  };
  const seed = (prefix: string, count: number, instances: number, concurrency: number): ConvergeInput => ({
    prefix,
    kinds: [
      { kind: 'proxy', count, instances, env: { GOPACKAGENAME: 'example-apps/proxy' } },
      { kind: 'tick', count, instances, env: { GOPACKAGENAME: 'example-apps/tick' } },
    ],
    concurrency,
    pollIntervalMs: 5,
  });

  try {
    // Warm-up, as for any benchmark: a small convergence in an org of its own pays the worker's
    // one-time costs (its first workflow activations, the login, compiling the apply path, opening
    // connections) so that the timed runs, the baseline included, compare steady states.
    await run('warm-up', seed('warm-', 20, 2, CONCURRENCY));
    const parallel = await run('parallel', seed('scale-', 100, 2, CONCURRENCY));
    const reconverge = await run('reconverge', seed('scale-', 100, 2, CONCURRENCY));
    // An env change of the tick kind rolled out to its 100 apps: env, a rolling deployment each, the annotation.
    const changed = seed('scale-', 100, 2, CONCURRENCY) as DesiredState;
    const update = await run('update', { ...changed, kinds: [changed.kinds[0]!, { ...changed.kinds[1]!, env: { GOPACKAGENAME: 'example-apps/tick', REGISTRY_TTL_SECONDS: '30' } }] });
    if (update.result.status !== 'converged' || update.result.plan?.counts.update !== 100 || update.result.phases.update.done !== 100) {
      throw new Error(`the env change was not rolled out to the 100 tick apps: ${update.result.status}, ${update.result.phases.update.done} updated`);
    }
    const sequential = await run('sequential', seed('seq-', 100, 2, 1));
    const thousand = await run('thousand', { ...seed('big-', 500, 1, CONCURRENCY), batchSize: 500 });
    // The seed's file as it ships, under its own prefix so it starts from nothing.
    const seedFile = JSON.parse(readFileSync(new URL('../docs/examples/cf-seed-params.json', import.meta.url), 'utf8')) as SeedParams;
    const seedParams = await run('seed-params', { ...seedFile, prefix: 'seedfile-', pollIntervalMs: 5 });
    if (seedParams.result.status !== 'converged' || seedParams.result.plan?.apps.length !== 201 || !seedParams.result.settingsDone.quota || !seedParams.result.settingsDone.securityGroup) {
      throw new Error(`the seed's parameter file did not converge its 201 apps, quota and ASG: ${seedParams.result.status}`);
    }
    return {
      apps: 200,
      latency_ms: LATENCY_MS,
      concurrency: CONCURRENCY,
      wall_s: round(parallel.wallSeconds),
      ideal_s: round(parallel.idealSeconds),
      ratio_to_ideal: round(parallel.wallSeconds / parallel.idealSeconds),
      mutating_calls: parallel.mutating,
      polling_calls: parallel.polls,
      sequential_s: round(sequential.wallSeconds),
      speedup: round(sequential.wallSeconds / parallel.wallSeconds, 1),
      reconverge_mutations: reconverge.mutating,
      reconverge_s: round(reconverge.wallSeconds),
      update_s: round(update.wallSeconds),
      update_apps: update.result.phases.update.done,
      update_mutating_calls: update.mutating,
      apps_1000_status: thousand.result.status,
      apps_1000_s: round(thousand.wallSeconds),
      apps_1000_history_events: thousand.history,
      seed_params_s: round(seedParams.wallSeconds),
      seed_params_mutating_calls: seedParams.mutating,
      history_limit_events: 51_200,
      sim_knobs: knobs,
    };
  } finally {
    await temporal.connection.close();
    await stop();
  }
}
