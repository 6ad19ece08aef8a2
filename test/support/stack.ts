// Helpers for tests that run against the shared test stack.
import { fractalImageStoreOnDemand } from '../../activities/fractals/storageOnDemand.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { inject } from 'vitest';
import { Client } from '@temporalio/client';
import { Runtime, DefaultLogger, type NativeConnection, type Worker } from '@temporalio/worker';
import { hostEnv, loadConfig, mailboxUrl, projectRoot, type Config } from '../../config.ts';
import { createServiceClients, closeServiceClients, type ServiceClients } from '../../db/clients.ts';
import { codecDataConverter, connectTemporal, connectWorker } from '../../temporal/connection.ts';
import { createPayloadCodec } from '../../temporal/codec.ts';
import { createWorkers } from '../../workers/workers.ts';
import type { SliceEvent } from '../../activities/cpuLoad.ts';
import { foundationsFromConfig, type CfFoundation } from '../../activities/cf/foundations.ts';
import { createDependencyProbes } from '../../db/health.ts';
import { createApp, type App, type AppDependencies } from '../../server/app.ts';
import { createAccessModel } from '../../db/access.ts';
import { createAccessService, type AccessService } from '../../services/access.ts';
import { nodeClientsFromConfig, type NodeActivityDependencies } from '../../activities/nodes/index.ts';

let runtimeInstalled = false;

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ ...inject('stackEnv'), ...overrides });
}

/** A suffix that gives each test its own task queues, so workers of parallel test files never mix. */
export function uniqueSuffix(): string {
  return `-test-${randomUUID().slice(0, 8)}`;
}

/** The API/UI app wired to the test stack; tests override task queues (their own workers) and limits. */
export function createTestApp(env: TestEnvironment, overrides: Partial<AppDependencies> = {}): App {
  return createApp({
    access: env.access,
    dataPlaneOpen: true,
    payloadCodec: createPayloadCodec(env.config),
    temporal: env.client,
    namespace: env.config.temporal.namespace,
    probes: createDependencyProbes(env.clients),
    temporalWebUiUrl: 'http://127.0.0.1:8233',
    mysql: env.clients.mysql,
    allowedDestinations: env.config.requestRuns.allowedDestinations,
    notifyAllowedDomains: env.config.smtp.allowedDomains,
    counterAllowedHosts: env.config.counters.allowedHosts,
    mailboxUrl: mailboxUrl(env.config),
    fractalImages: fractalImageStoreOnDemand(env.config.fractals.storage), // as server/main.ts
    ...overrides,
  });
}

/** What the product's workers run with, when a test wants other clients, allowlist, foundations or node clients. */
export interface StartWorkersOptions {
  clients?: ServiceClients;
  allowedDestinations?: string[];
  cfFoundations?: Record<string, CfFoundation>;
  nodes?: Partial<Omit<NodeActivityDependencies, 'model'>>;
  /** CPU-load slots in these workers, as the main worker has (none unless asked), and a watcher of their slices. */
  loadSlots?: number;
  onSlice?: (event: SliceEvent) => void;
}

/**
 * The shared stack as a test sees it: its config at once; its Temporal client, service clients and
 * workers once `open` has run. useStack() (fixture.ts) opens and closes it.
 */
export class TestEnvironment {
  readonly config: Config = testConfig();
  #opened?: { client: Client; clients: ServiceClients; workerConnection: NativeConnection; nodeClients: ReturnType<typeof nodeClientsFromConfig> };
  readonly #running: { worker: Worker; done: Promise<void> }[] = [];

  get client(): Client {
    return this.#connections().client;
  }

  get clients(): ServiceClients {
    return this.#connections().clients;
  }

  #access?: AccessService;

  /** Operators, sessions, tokens and the audit log, in the stack's MySQL. */
  get access(): AccessService {
    this.#access ??= createAccessService({ model: createAccessModel(this.clients.mysql), settings: this.config.access });
    return this.#access;
  }

  async open(): Promise<void> {
    if (!runtimeInstalled) {
      Runtime.install({ logger: new DefaultLogger('WARN') });
      runtimeInstalled = true;
    }
    const { config } = this;
    this.#opened = {
      client: new Client({ connection: await connectTemporal(config), namespace: config.temporal.namespace, dataConverter: codecDataConverter(config) }),
      clients: createServiceClients(config),
      workerConnection: await connectWorker(config),
      nodeClients: nodeClientsFromConfig(config),
    };
  }

  /** Starts the product's workers on task queues ending in `suffix`. */
  async startWorkers(suffix: string, options: StartWorkersOptions = {}): Promise<Worker[]> {
    const { config } = this;
    const { clients, workerConnection, nodeClients } = this.#connections();
    const workers = await createWorkers({
      connection: workerConnection,
      namespace: config.temporal.namespace,
      dataConverter: codecDataConverter(config),
      workflowBundle: { codePath: config.workflowBundlePath! },
      clients: options.clients ?? clients,
      allowedDestinations: options.allowedDestinations ?? config.requestRuns.allowedDestinations,
      cf: { foundations: options.cfFoundations ?? foundationsFromConfig(config), bitsDir: config.cf.bitsDir },
      nodes: { ...nodeClients, ...options.nodes },
      triggers: {
        allowedHosts: config.counters.allowedHosts,
        retentionDays: config.counters.retentionDays,
        cpuLoad: { loadWorkers: 1, maxTtlMs: config.cpuLoad.maxTtlMs, workflowSettings: { idleMs: config.cpuLoad.idleMs, sliceMs: 500 } },
      },
      loadSlots: options.loadSlots,
      onSlice: options.onSlice,
      taskQueueSuffix: suffix,
    });
    for (const worker of workers) this.#running.push({ worker, done: worker.run() });
    return workers;
  }

  /** Stops every worker it started, then closes the connections and clients. */
  async close(): Promise<void> {
    const running = this.#running.splice(0);
    for (const { worker } of running) if (worker.getState() === 'RUNNING') worker.shutdown();
    await Promise.all(running.map((r) => r.done));
    const opened = this.#opened;
    this.#opened = undefined;
    if (!opened) return;
    await closeServiceClients(opened.clients);
    opened.nodeClients.close();
    await opened.workerConnection.close();
    await opened.client.connection.close();
  }

  #connections() {
    if (!this.#opened) throw new Error('The test environment is not open yet: use its clients in a hook or a test, after the beforeAll of useStack()');
    return this.#opened;
  }
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves once the worker polls its task queues. */
  ready: Promise<void>;
  exited: Promise<number | string | null>;
}

/** Runs a worker process (workers/main.ts, or another entry) against the test stack, so a test can SIGKILL it. */
export function startWorkerProcess(overrides: Record<string, string>, entry = 'workers/main.ts'): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, entry)], {
    cwd: projectRoot,
    env: hostEnv({ ...inject('stackEnv'), ...overrides }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (data: Buffer) => {
      output += data.toString();
      if (output.includes(' polling ')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`worker process exited (${code}) before polling:\n${output}`)));
  });
  return { child, ready, exited };
}
