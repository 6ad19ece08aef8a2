// A fractal worker in the test process, on a block's own `fractals<suffix>` queue, rendering on one
// thread into the stack's moto S3: what the fractal tests need beside the product's main workers.
import { afterAll, beforeAll } from 'vitest';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { createRenderPool, type RenderPool } from '../../activities/fractals/renderPool.ts';
import { fractalImageStoreFor, type FractalImageStore } from '../../activities/fractals/storage.ts';
import { codecDataConverter, connectWorker } from '../../temporal/connection.ts';
import { FRACTALS_TASK_QUEUE } from '../../workflows/fractals.shared.ts';
import { createFractalWorker } from '../../workers/fractals.ts';
import type { Stack } from './fixture.ts';

/** Registers the beforeAll that starts the worker (after the stack's) and the afterAll that stops it. */
export function useFractalWorker(stack: Stack, identity: string): { readonly store: FractalImageStore } {
  let store: FractalImageStore | undefined;
  let pool: RenderPool | undefined;
  let connection: NativeConnection | undefined;
  let running: { worker: Worker; done: Promise<void> } | undefined;
  beforeAll(async () => {
    const { config } = stack.env;
    connection = await connectWorker(config);
    pool = createRenderPool({ threads: 1 });
    store = fractalImageStoreFor(config.fractals.storage);
    const worker = await createFractalWorker({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: codecDataConverter(config),
      taskQueue: FRACTALS_TASK_QUEUE + stack.suffix,
      pool,
      store,
      identity,
    });
    running = { worker, done: worker.run() };
  });
  afterAll(async () => {
    running?.worker.shutdown();
    await running?.done;
    await pool?.close();
    await connection?.close();
  });
  return {
    get store() {
      if (!store) throw new Error('useFractalWorker(): the store exists once its beforeAll has run');
      return store;
    },
  };
}
