// Load-worker process entry point: `tsx workers/loadWorker.ts`. Polls the `cpu-load` task queue and
// burns one core per process while a CPU-load target is ON (the seed's loadworker.py, one slice
// at a time). The stack starts CPU_LOAD_WORKERS of them.
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { loadConfig, ConfigError } from '../config.ts';
import { codecDataConverter, connectWorker } from '../temporal/connection.ts';
import { createLoadWorker } from './cpuLoad.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await connectWorker(config);
  const worker = await createLoadWorker({ connection, namespace: config.temporal.namespace, dataConverter: codecDataConverter(config) });
  console.log(`load worker ${worker.options.identity} polling ${worker.options.taskQueue} on ${config.temporal.address}`);
  try {
    await worker.run(); // Runtime shuts the worker down on SIGINT/SIGTERM; a running slice is cancelled.
  } finally {
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `error: ${error.message}` : error);
  process.exit(1);
});
