// Helpers for tests that run against the shared test stack.
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { Client } from '@temporalio/client';
import { Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import { loadConfig, type Config } from '../../config.ts';
import { createServiceClients, closeServiceClients, type ServiceClients } from '../../activities/clients.ts';
import { connectTemporal, connectWorker } from '../../temporal/connection.ts';
import { createWorkers } from '../../workers/workers.ts';
import { createDependencyProbes } from '../../activities/health.ts';
import { createApp, type App } from '../../api/app.ts';

let runtimeInstalled = false;

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ ...inject('stackEnv'), ...overrides });
}

/** A suffix that gives each test its own task queues, so workers of parallel test files never mix. */
export function uniqueSuffix(): string {
  return `-test-${randomUUID().slice(0, 8)}`;
}

/** The API/UI app wired to the test stack, its health checks going to `healthTaskQueue`. */
export function createTestApp(env: TestEnvironment, healthTaskQueue: string, options: { maxBodyBytes?: number } = {}): App {
  return createApp({
    temporal: env.client,
    namespace: env.config.temporal.namespace,
    probes: createDependencyProbes(env.clients),
    temporalWebUiUrl: 'http://127.0.0.1:8233',
    taskQueues: { health: healthTaskQueue },
    ...options,
  });
}

export interface TestEnvironment {
  config: Config;
  client: Client;
  clients: ServiceClients;
  /** Starts the product's workers on task queues ending in `suffix`, with the given service clients. */
  startWorkers(suffix: string, clients?: ServiceClients): Promise<Worker[]>;
  close(): Promise<void>;
}

export async function openTestEnvironment(): Promise<TestEnvironment> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const config = testConfig();
  const client = new Client({ connection: await connectTemporal(config), namespace: config.temporal.namespace });
  const clients = createServiceClients(config);
  const nativeConnection = await connectWorker(config);
  const running: { worker: Worker; done: Promise<void> }[] = [];
  return {
    config,
    client,
    clients,
    async startWorkers(suffix, workerClients = clients) {
      const workers = await createWorkers({
        connection: nativeConnection,
        namespace: config.temporal.namespace,
        workflowBundle: { codePath: config.workflowBundlePath! },
        clients: workerClients,
        taskQueueSuffix: suffix,
      });
      for (const worker of workers) running.push({ worker, done: worker.run() });
      return workers;
    },
    async close() {
      for (const { worker } of running) if (worker.getState() === 'RUNNING') worker.shutdown();
      await Promise.all(running.map((r) => r.done));
      await closeServiceClients(clients);
      await nativeConnection.close();
      await client.connection.close();
    },
  };
}
