// Worker process entry point: `tsx workers/main.ts`. Connects with the envconfig settings, so the
// same command serves a production cluster.
import { Runtime, DefaultLogger, type RuntimeOptions } from '@temporalio/worker';
import { isPortFree } from '../scripts/processes.ts';
import { loadConfig, ConfigError } from '../config.ts';
import { createServiceClients, closeServiceClients } from '../db/clients.ts';
import { STARTUP_WAIT_MS, codecDataConverter, connectWorker } from '../temporal/connection.ts';
import { buildWorkflowBundle } from './bundle.ts';
import { createWorkers, runWorkers } from './workers.ts';
import { foundationsFromConfig } from '../activities/cf/foundations.ts';
import { nodeClientsFromConfig } from '../activities/nodes/index.ts';

/**
 * The SDK's Prometheus exporter on 127.0.0.1:<port>/metrics (task queue polls, schedule-to-start
 * latency, workflow and activity outcomes). A port already taken (a second worker process on one
 * machine) only leaves this one unexported: the worker itself must run.
 */
async function metricsTelemetry(port: number): Promise<RuntimeOptions['telemetryOptions']> {
  if (port === 0) return undefined;
  if (!(await isPortFree('127.0.0.1', port))) {
    console.warn(`worker ${process.pid}: port ${port} is taken, so this worker exports no metrics (WORKER_METRICS_PORT)`);
    return undefined;
  }
  return { metrics: { prometheus: { bindAddress: `127.0.0.1:${port}`, countersTotalSuffix: true } } };
}

async function main(): Promise<void> {
  const config = loadConfig();
  Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: await metricsTelemetry(config.workerMetricsPort) });
  const connection = await connectWorker(config, { waitMs: STARTUP_WAIT_MS });
  const clients = createServiceClients(config);
  const nodeClients = nodeClientsFromConfig(config);
  const workflowBundle = config.workflowBundlePath ? { codePath: config.workflowBundlePath } : await buildWorkflowBundle();
  // The fractal workflows' own bundle when the stack wrote one; the whole bundle serves them too.
  const fractalWorkflowBundle = config.fractalWorkflowBundlePath ? { codePath: config.fractalWorkflowBundlePath } : workflowBundle;
  const workers = await createWorkers({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: codecDataConverter(config),
    workflowBundle,
    fractalWorkflowBundle,
    clients,
    allowedDestinations: config.requestRuns.allowedDestinations,
    cf: { foundations: foundationsFromConfig(config), bitsDir: config.cf.bitsDir },
    nodes: nodeClients,
    triggers: {
      allowedHosts: config.counters.allowedHosts,
      retentionDays: config.counters.retentionDays,
      cpuLoad: { loadWorkers: config.cpuLoad.loadWorkers, maxTtlMs: config.cpuLoad.maxTtlMs, workflowSettings: { idleMs: config.cpuLoad.idleMs } },
    },
    // The CPU-load slices burn in threads of this process: no load-worker processes to start.
    loadSlots: config.cpuLoad.loadWorkers,
    taskQueueSuffix: config.taskQueueSuffix,
  });
  console.log(`worker ${process.pid} polling ${workers.map((w) => w.options.taskQueue).join(', ')} on ${config.temporal.address}`);
  try {
    await runWorkers(workers); // Runtime shuts the workers down on SIGINT/SIGTERM.
  } finally {
    await closeServiceClients(clients);
    nodeClients.close();
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `error: ${error.message}` : error);
  process.exit(1);
});
