// The local stack: Temporal's dev server, MariaDB, memcached and etcd, then (optionally) the
// worker and API processes. Used by `npm start`, the test global setup and the benchmarks.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLoopbackHost, type Config, type HostEnv } from '../config.ts';
import { migrate } from '../db/migrate.ts';
import { EXAMPLE_CLUSTER, FRACTAL_CLUSTER } from './localFleet.shared.ts';
import { locateTemporalCli } from './temporalCli.ts';
import { ensureCodecKeyFile } from '../temporal/codecKeys.ts';
import { startTemporalDevServer } from './temporalDevServer.ts';
import { ensureWorkflowBundle, fractalWorkflowBundleFile, fractalWorkflowsPath, workflowBundleFile, workflowsPath } from '../workers/bundleCache.ts';
import {
  StackError,
  assertPortsFree,
  findFreePort,
  isAlive,
  isSameProcess,
  processStartTime,
  waitUntilHealthy,
  type ManagedProcess,
  type PortClaim,
} from './processes.ts';
import { startEtcd, startMemcached, startMoto, startSimulators, startSshd } from './services.ts';
import { migrationAccount, startMariaDb } from './mariadb.ts';
import { preparedFleet } from './fleetPrepared.ts';
import type { FirstAdmin } from './firstAdmin.ts';
import { supervisorStatusPath } from '../services/supervisorStatus.ts';
import { noStartTimings, type StartTimings } from './startTimings.ts';
import { ensureBuilt, requireCurrentBuild, runStackTask, startNodeProcess } from './compiled.ts';

export interface StackOptions {
  config: Config;
  hostEnv: HostEnv;
  /** Keep Temporal's state in .data/temporal.sqlite (npm start) or in memory (tests). */
  persistentTemporal: boolean;
  temporalUi: boolean;
  /** Worker and API processes to start after the services; false for tests that run their own. */
  app: { workers: number } | false;
  /** Make the first admin when there is none (npm start; tests and benchmarks make their own users). */
  firstAdmin?: boolean;
  log(line: string): void;
  /** Records how long each part takes (`npm start -- --timings`). */
  timings?: StartTimings;
}

export interface Stack {
  config: Config;
  /** The first admin, when `firstAdmin` was asked for and its printed password is still valid. */
  firstAdmin: FirstAdmin | undefined;
  services: ManagedProcess[];
  appProcesses: ManagedProcess[];
  workflowBundlePath: string | undefined;
  /** Replaces a worker or API process that exited with a fresh one (same name, same settings). */
  restartAppProcess(name: string): ManagedProcess;
  /**
   * Replaces any process that exited (a server or an app process) with a fresh one on the same data,
   * once it is healthy, re-creating what it lost (moto's target group, Temporal's search attributes).
   */
  restart(name: string): Promise<ManagedProcess>;
  stop(): Promise<void>;
}

/** Each PID with its process's start time (processStartTime): a PID reused since is not signalled. */
interface LockFile {
  pid: number;
  startTime?: string;
  children: { name: string; pid: number; startTime?: string }[];
}

const lockPath = (config: Pick<Config, 'dataDir'>) => join(config.dataDir, 'stack.lock.json');

/**
 * One stack per data dir: a second start against the same data would corrupt it. A lock left by a
 * stack that was killed is taken over, and the children it left behind are stopped first.
 */
export function acquireLock(config: Pick<Config, 'dataDir'>, log: (line: string) => void): void {
  const path = lockPath(config);
  if (existsSync(path)) {
    let lock: LockFile | undefined;
    try {
      lock = JSON.parse(readFileSync(path, 'utf8')) as LockFile;
    } catch {
      lock = undefined;
    }
    if (lock && lock.pid !== process.pid && (lock.startTime === undefined ? isAlive(lock.pid) : isSameProcess(lock.pid, lock.startTime))) {
      throw new StackError(`Another stack (pid ${lock.pid}) is running on ${config.dataDir}: stop it first (Ctrl-C in its terminal, or kill ${lock.pid}).`);
    }
    for (const child of lock?.children ?? []) {
      if (isAlive(child.pid) && !isSameProcess(child.pid, child.startTime)) {
        log(`Not stopping pid ${child.pid}: it is no longer the ${child.name} a stack left behind (its PID was reused, or the lock does not say when it started).`);
      } else if (isAlive(child.pid)) {
        log(`Stopping ${child.name} (pid ${child.pid}) left behind by a stack that did not shut down.`);
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
  }
  writeLock(config, []);
  // A supervisor's status left by a stack that was killed would show its processes restarting.
  rmSync(supervisorStatusPath(config.dataDir), { force: true });
}

/** The processes a running stack's lock names (PIDs change as the supervisor restarts them). */
export function readLockedProcesses(dataDir: string): Map<string, number> {
  const lock = JSON.parse(readFileSync(lockPath({ dataDir }), 'utf8')) as LockFile;
  return new Map(lock.children.map((c) => [c.name, c.pid]));
}

function writeLock(config: Pick<Config, 'dataDir'>, children: ManagedProcess[]): void {
  const lock: LockFile = {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    children: children.map((c) => ({ name: c.name, pid: c.pid, startTime: processStartTime(c.pid) })),
  };
  writeFileSync(lockPath(config), JSON.stringify(lock));
}

export function portClaims(config: Config, options: Pick<StackOptions, 'temporalUi' | 'app'>): PortClaim[] {
  const claims: PortClaim[] = [];
  if (config.temporal.runLocalServer) {
    const [host, port] = config.temporal.address.split(':');
    claims.push({ service: 'Temporal', host: host!, port: Number(port), setting: 'TEMPORAL_ADDRESS' });
    if (options.temporalUi) claims.push({ service: 'Temporal Web UI', host: host!, port: config.temporal.uiPort, setting: 'TEMPORAL_UI_PORT' });
  }
  if (config.runLocalServices) {
    claims.push(
      { service: 'MariaDB', host: config.mysql.host, port: config.mysql.port, setting: 'MYSQL_PORT' },
      { service: 'memcached', host: config.memcached.host, port: config.memcached.port, setting: 'MEMCACHED_PORT' },
      { service: 'etcd', host: config.etcd.host, port: config.etcd.port, setting: 'ETCD_PORT' },
      { service: 'etcd peer', host: config.etcd.host, port: config.etcd.peerPort, setting: 'ETCD_PEER_PORT' },
    );
  }
  if (config.cf.simulator.run) claims.push({ service: 'cf-simulator', host: config.cf.simulator.host, port: config.cf.simulator.port, setting: 'CF_SIM_PORT' });
  if (config.aws.moto.run) claims.push({ service: 'moto', host: config.aws.moto.host, port: config.aws.moto.port, setting: 'MOTO_PORT' });
  if (config.ssh.sshd.run) {
    for (const [i, address] of config.ssh.sshd.addresses.entries()) claims.push({ service: i === 0 ? 'sshd' : `sshd on ${address}`, host: address, port: config.ssh.sshd.port, setting: 'SSHD_PORT' });
  }
  if (config.smtp.sink.run) {
    claims.push(
      { service: 'smtp-sink', host: config.smtp.host, port: config.smtp.port, setting: 'SMTP_PORT' },
      { service: 'smtp-sink mailbox', host: config.smtp.host, port: config.smtp.sink.httpPort, setting: 'SMTP_SINK_HTTP_PORT' },
    );
  }
  if (options.app) claims.push({ service: 'API', host: config.api.host, port: config.api.port, setting: 'API_PORT' });
  const { instanceBasePort } = config.configCache;
  if (options.app && instanceBasePort !== undefined) {
    for (let i = 1; i <= config.api.instances; i++) {
      claims.push({ service: `API instance ${i}`, host: config.api.host, port: instanceBasePort + i - 1, setting: 'CONFIG_CACHE_INSTANCE_BASE_PORT' });
    }
  }
  return claims;
}

async function stopAll(processes: ManagedProcess[]): Promise<void> {
  await Promise.all(processes.map((p) => p.stop()));
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const { config, hostEnv, log } = options;
  const timings = options.timings ?? noStartTimings;
  mkdirSync(config.logDir, { recursive: true });
  acquireLock(config, log);
  const services: ManagedProcess[] = [];
  const appProcesses: ManagedProcess[] = [];
  const serviceStarters = new Map<string, () => Promise<ManagedProcess>>();
  const stop = async () => {
    await stopAll(appProcesses.reverse());
    await stopAll(services);
    rmSync(lockPath(config), { force: true });
  };
  try {
    const claims = portClaims(config, options);
    await assertPortsFree(claims);
    // Every client and worker encrypts with it: made before any of them starts (tests get one per stack).
    const keyFile = ensureCodecKeyFile(config);
    if (keyFile) log(`Wrote a payload codec key to ${keyFile} (mode 0600): keep it with the data, Temporal's history cannot be read without it.`);
    // Bundling the workflows (only after a change; webpack, 1.5–3 s, in child processes) overlaps the services' start-up, which mostly waits.
    const bundling = options.app
      ? Promise.all([
          timings.time('workflow bundle', () => ensureWorkflowBundle(workflowBundleFile, workflowsPath)),
          timings.time('fractal workflow bundle', () => ensureWorkflowBundle(fractalWorkflowBundleFile, fractalWorkflowsPath)),
        ])
      : undefined;
    bundling?.catch(() => undefined);
    // The stack's Node processes run compiled JavaScript, rebuilt (about 0.8 s) only after a change.
    // Every process this stack starts or restarts runs this build, whatever is edited meanwhile.
    const building = timings.time('compiled build', () => ensureBuilt());
    building.catch(() => undefined);
    log(`Starting ${claims.map((c) => c.service).filter((name) => !name.includes(' ')).join(', ')}…`);
    // Each server by the name its process carries: a restart starts it the same way, on the same data.
    if (config.temporal.runLocalServer) {
      const cli = locateTemporalCli(config, hostEnv.PATH);
      if (!cli) throw new StackError('The Temporal CLI is not installed: run `npm run setup`, or set TEMPORAL_CLI_PATH.');
      serviceStarters.set('temporal', async () => startTemporalDevServer(config, cli, hostEnv, { persistent: options.persistentTemporal, ui: options.temporalUi }));
    }
    if (config.runLocalServices) {
      serviceStarters.set('mariadb', () => startMariaDb(config, hostEnv));
      serviceStarters.set('memcached', () => startMemcached(config, hostEnv));
      serviceStarters.set('etcd', () => startEtcd(config, hostEnv));
    }
    // The CF simulator and the SMTP sink share one process.
    if (config.cf.simulator.run || config.smtp.sink.run) serviceStarters.set('simulators', async () => startSimulators(config, await building));
    if (config.aws.moto.run) serviceStarters.set('moto', () => startMoto(config, hostEnv));
    if (config.ssh.sshd.run) serviceStarters.set('sshd', () => startSshd(config, hostEnv));
    const starting = new Map([...serviceStarters].map(([name, start]) => [name, timings.time(`server ${name}`, start)]));
    // Each is awaited below (allSettled) once the prerequisites are; one that fails sooner must not end
    // this process as an unhandled rejection, leaving the others running with no one to stop them.
    for (const server of starting.values()) server.catch(() => undefined);
    // MySQL's schema follows MariaDB at once, and the search attributes Temporal, rather than both
    // waiting for the slowest server (moto).
    const preparingMysql = (starting.get('mariadb') ?? Promise.resolve()).then(async () => {
      const applied = await timings.time('MySQL migrations', () => migrate(migrationAccount(config)));
      if (applied.length > 0) log(`Applied MySQL migrations: ${applied.join(', ')}`);
    });
    // The example clusters, the first admin and the autoscaling examples, beside the app processes' start
    // (one short-lived process). The closed autoscaling loop only for a stack with its own workers
    // (a test stack's workers are the tests' own).
    // A warm start, which finds them all, skips that process (scripts/fleetPrepared.ts).
    const fleetInput = { firstAdmin: options.firstAdmin ?? false, seedAutoscaling: Boolean(options.app) };
    const preparingFleet = preparingMysql.then(() =>
      timings.time('example clusters, first admin, autoscaling examples', async () =>
        (await preparedFleet(migrationAccount(config), config, fleetInput)) ??
        runStackTask(await building, 'prepare-fleet', config, fleetInput),
      ),
    );
    preparingFleet.catch(() => undefined);
    // A local dev server is ready, search attributes included, once started; another Temporal is waited for here.
    const temporalUp = starting.get('temporal') ?? building.then((dir) => runStackTask(dir, 'temporal-ready', config, { timeoutMs: 10_000 }));
    const preparingTemporal = temporalUp.then(() => undefined);
    preparingMysql.catch(() => undefined);
    preparingTemporal.catch(() => undefined);
    // The app processes, the slowest to load, start as soon as MySQL has its schema: they wait for
    // Temporal themselves (temporal/connection.ts STARTUP_WAIT_MS), memcached and etcd are reached when
    // used (readiness says when they answer), the simulators, moto and sshd once work reaches them.
    // On a network address the API refuses to start without an admin: it waits for the first one.
    const adminFirst = isLoopbackHost(config.api.host) ? [] : [preparingFleet];
    const prerequisites = await Promise.all([preparingMysql, bundling, building, ...adminFirst]).then(
      () => ({ failed: false as const }),
      (error: unknown) => ({ failed: true as const, error }),
    );

    let workflowBundlePath: string | undefined;
    const entries = new Map<string, string>();
    let appEnv: HostEnv = hostEnv;
    let buildDir = '';
    const launch = (name: string) => startAppProcess(name, entries.get(name)!, config, appEnv, buildDir);
    let launched = performance.now();
    if (options.app && !prerequisites.failed) {
      const [allWorkflows, fractalWorkflows] = await bundling!;
      buildDir = await building;
      workflowBundlePath = allWorkflows;
      appEnv = { ...config.env, WORKFLOW_BUNDLE_PATH: allWorkflows, FRACTAL_WORKFLOW_BUNDLE_PATH: fractalWorkflows };
      for (let i = 1; i <= options.app.workers; i++) entries.set(`worker-${i}`, 'workers/main.ts');
      entries.set('api', 'server/main.ts');
      launched = performance.now();
      for (const name of entries.keys()) appProcesses.push(launch(name));
      writeLock(config, appProcesses);
    }
    // Every server awaited, so none is left running unrecorded; a server that failed is the error to report.
    const started = await Promise.allSettled(starting.values());
    for (const result of started) if (result.status === 'fulfilled') services.push(result.value);
    writeLock(config, [...services, ...appProcesses]);
    const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
    if (prerequisites.failed) {
      await temporalUp; // an unreachable Temporal is the first thing to say, as before MySQL's migrations
      throw prerequisites.error;
    }
    const [{ firstAdmin, seeded }] = await Promise.all([preparingFleet, preparingTemporal]);
    if (seeded.example.length > 0) log(`Seeded the autoscaling example on cluster ${EXAMPLE_CLUSTER}: ${seeded.example.join(', ')}.`);
    if (seeded.fractal.length > 0) log(`Seeded the fractal workers' autoscaling (disabled) on cluster ${FRACTAL_CLUSTER}: ${seeded.fractal.join(', ')}.`);

    if (options.app) {
      const api = appProcesses.at(-1)!;
      const readyUrl = `http://${config.api.host}:${config.api.port}/readyz`;
      let answered = false;
      let workerPolling = false;
      const apiReady = async () => {
        const response = await fetch(readyUrl);
        if (!answered) timings.mark('API answers', launched);
        answered = true;
        const body = (await response.json().catch(() => ({}))) as { dependencies?: { name: string; ok: boolean }[] };
        if (!workerPolling && body.dependencies?.some((d) => d.name === 'worker' && d.ok)) {
          workerPolling = true;
          timings.mark('worker polling', launched);
        }
        return response.ok;
      };
      await waitUntilHealthy('The API (with its worker)', apiReady, { timeoutMs: 60_000, intervalMs: 100, process: api });
      timings.mark('API ready (/readyz)', launched);
      // The CPU-load slices run in the main worker (threads of its own, CPU_LOAD_WORKERS of them): no process here.
      // Fractal workers (renders on the `fractals` task queue) are not part of readiness: started last, they do
      // not slow the start; fractals wait queued until they poll.
      for (let i = 1; i <= config.fractals.workers; i++) {
        entries.set(`fractal-worker-${i}`, 'workers/fractalWorker.ts');
        appProcesses.push(launch(`fractal-worker-${i}`));
      }
      writeLock(config, [...services, ...appProcesses]);
    }
    const restartAppProcess = (name: string) => {
      const index = appProcesses.findIndex((p) => p.name === name);
      if (index < 0 || !entries.has(name)) throw new StackError(`No app process named ${name}.`);
      const fresh = launch(name);
      appProcesses[index] = fresh;
      writeLock(config, [...services, ...appProcesses]);
      return fresh;
    };
    const restart = async (name: string): Promise<ManagedProcess> => {
      if (entries.has(name)) return restartAppProcess(name);
      const index = services.findIndex((p) => p.name === name);
      const start = serviceStarters.get(name);
      if (index < 0 || !start) throw new StackError(`No process named ${name}.`);
      // moto re-creates its target group and the fractals' bucket as it starts, Temporal its search attributes
      // (an in-memory one comes back empty); MariaDB, etcd and Temporal keep their data dirs.
      const fresh = await start();
      services[index] = fresh;
      writeLock(config, [...services, ...appProcesses]);
      return fresh;
    };
    return { config, firstAdmin, services, appProcesses, workflowBundlePath, restartAppProcess, restart, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Settings that put a whole stack on ports free right now (tests and benchmarks beside a running stack). */
export async function freeStackPorts(): Promise<Record<string, string>> {
  const [temporal, ui, mysql, memcached, etcd, etcdPeer, api, cfSim, moto, sshd, smtp, smtpHttp] = await Promise.all(Array.from({ length: 12 }, () => findFreePort()));
  return {
    TEMPORAL_ADDRESS: `127.0.0.1:${temporal}`,
    TEMPORAL_UI_PORT: String(ui),
    MYSQL_PORT: String(mysql),
    MEMCACHED_PORT: String(memcached),
    ETCD_PORT: String(etcd),
    ETCD_PEER_PORT: String(etcdPeer),
    API_PORT: String(api),
    CF_SIM_PORT: String(cfSim),
    CF_API_URL: `http://127.0.0.1:${cfSim}`,
    MOTO_PORT: String(moto),
    // Free on 127.0.0.1; the other loopback addresses sshd listens on are used by nothing else here.
    SSHD_PORT: String(sshd),
    SMTP_PORT: String(smtp),
    SMTP_SINK_HTTP_PORT: String(smtpHttp),
  };
}

export function startAppProcess(name: string, entry: string, config: Config, env: HostEnv, buildDir = requireCurrentBuild()): ManagedProcess {
  return startNodeProcess(name, entry, config, env, buildDir);
}
