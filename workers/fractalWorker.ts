// Fractal-worker process entry point: `tsx workers/fractalWorker.ts`. Polls the `fractals` task queue
// and renders on up to FRACTAL_WORKER_THREADS render threads (default: every core), putting each PNG
// in object storage. Threads start with the first jobs and stop after FRACTAL_RENDER_IDLE_SECONDS
// without one, so an idle fractal worker holds none. The stack starts FRACTAL_WORKERS of them (1).
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { loadConfig, ConfigError } from '../config.ts';
import { STARTUP_WAIT_MS, codecDataConverter, connectWorker } from '../temporal/connection.ts';
import { createRenderPool } from '../activities/fractals/renderPool.ts';
import { createFractalImageStore, createS3Client } from '../activities/fractals/storage.ts';
import { FRACTALS_TASK_QUEUE } from '../workflows/fractals.shared.ts';
import { createFractalWorker } from './fractals.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  const { storage, threads, renderIdleMs } = config.fractals;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const s3 = createS3Client(storage);
  const store = createFractalImageStore({ s3, bucket: storage.bucket });
  if (storage.createBucket) await store.ensureBucket();
  const pool = createRenderPool({ threads, idleMs: renderIdleMs });
  const connection = await connectWorker(config, { waitMs: STARTUP_WAIT_MS });
  try {
    const worker = await createFractalWorker({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: codecDataConverter(config),
      taskQueue: FRACTALS_TASK_QUEUE + config.taskQueueSuffix,
      pool,
      store,
    });
    const { identity, taskQueue } = worker.options;
    console.log(`fractal worker ${identity} polling ${taskQueue} on ${config.temporal.address} with up to ${pool.threads} render threads (stopped after ${renderIdleMs / 1000} s idle)`);
    await worker.run(); // Runtime shuts the worker down on SIGINT/SIGTERM; running renders are cancelled.
  } finally {
    await pool.close();
    s3.destroy();
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `error: ${error.message}` : error);
  process.exit(1);
});
