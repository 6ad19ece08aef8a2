// A load worker as a process of its own: `npm run load-worker`, to burn CPU on another machine. It
// polls the `cpu-load` task queue with CPU_LOAD_WORKERS slots, each slice burning one core in a thread
// of its own, as the main worker's slots do (workers/main.ts; the stack starts no load-worker process).
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { loadConfig, ConfigError } from '../config.ts';
import { STARTUP_WAIT_MS, codecDataConverter, connectWorker } from '../temporal/connection.ts';
import { CPU_LOAD_TASK_QUEUE } from '../workflows/cpuLoad.shared.ts';
import { createLoadWorker } from './cpuLoad.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await connectWorker(config, { waitMs: STARTUP_WAIT_MS });
  const worker = await createLoadWorker({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: codecDataConverter(config),
    taskQueue: CPU_LOAD_TASK_QUEUE + config.taskQueueSuffix,
    slots: Math.max(1, config.cpuLoad.loadWorkers),
  });
  console.log(`load worker ${worker.options.identity} polling ${worker.options.taskQueue} with ${worker.options.maxConcurrentActivityTaskExecutions} slots on ${config.temporal.address}`);
  try {
    await worker.run(); // Runtime shuts the worker down on SIGINT/SIGTERM; running slices are cancelled.
  } finally {
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `error: ${error.message}` : error);
  process.exit(1);
});
