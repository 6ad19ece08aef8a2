// The fractal worker: the render activity on the `fractals` task queue, nothing else. Its own module
// (workers.ts re-exports it) so the fractal worker process does not load the main worker's clients
// (Cloud Foundry, EC2, SSH: a second and 100 MB more at every start).
import { hostname } from 'node:os';
import type { DataConverter } from '@temporalio/common';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createFractalRenderActivities } from '../activities/fractals/render.ts';
import type { RenderPool } from '../activities/fractals/renderPool.ts';
import type { FractalImageStore } from '../activities/fractals/storage.ts';
import { FRACTALS_TASK_QUEUE } from '../workflows/fractals.shared.ts';

export interface FractalWorkerDependencies {
  connection: NativeConnection;
  namespace: string;
  dataConverter: DataConverter;
  pool: RenderPool;
  store: FractalImageStore;
  /** Default `fractals`; tests pass their own. */
  taskQueue?: string;
  /** The worker's Temporal identity and the fractals' `generated_by` (default `fractal-<pid>@<host>`). */
  identity?: string;
}

export function defaultFractalWorkerIdentity(): string {
  return `fractal-${process.pid}@${hostname()}`;
}

/** A fractal worker: renders on every thread of its pool, and stores the PNGs. */
export function createFractalWorker(deps: FractalWorkerDependencies): Promise<Worker> {
  const identity = deps.identity ?? defaultFractalWorkerIdentity();
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    dataConverter: deps.dataConverter,
    taskQueue: deps.taskQueue ?? FRACTALS_TASK_QUEUE,
    identity,
    activities: createFractalRenderActivities({ pool: deps.pool, store: deps.store, identity }),
    // One render per thread, and one more waiting in the pool's queue: a thread that finishes starts
    // the next render at once instead of idling while its result is uploaded and a new task is polled.
    // No more than that: a task held here is one another fractal worker could be rendering.
    maxConcurrentActivityTaskExecutions: deps.pool.threads + 1,
    // Renders heartbeat every second; a killed worker's renders go elsewhere at the heartbeat timeout.
    maxHeartbeatThrottleInterval: '1 second',
    defaultHeartbeatThrottleInterval: '1 second',
  });
}
