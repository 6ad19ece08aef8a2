// The load worker: the CPU burn activity on the `cpu-load` task queue, nothing else. The main worker
// runs one (createWorkers, CPU_LOAD_WORKERS slots); workers/loadWorker.ts runs one as a process of its
// own. Its own module, so that process does not load the main worker's clients.
import type { DataConverter } from '@temporalio/common';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createCpuBurnActivities, defaultLoadWorkerId, type BurnOptions } from '../activities/cpuLoad.ts';
import { CPU_LOAD_TASK_QUEUE } from '../workflows/cpuLoad.shared.ts';

export interface LoadWorkerDependencies extends Omit<BurnOptions, 'workerId'> {
  connection: NativeConnection;
  namespace: string;
  dataConverter: DataConverter;
  /** Slices it runs at once (config.cpuLoad.loadWorkers): each burns one core in a thread of its own. */
  slots: number;
  /** Default `cpu-load`; tests pass their own. */
  taskQueue?: string;
  /** Names this load worker in Temporal and, with `/<slot>`, in CPU samples (default `pid@host`). */
  workerId?: string;
}

/** A load worker: only the burn activity, one slice per slot at a time. */
export function createLoadWorker(deps: LoadWorkerDependencies): Promise<Worker> {
  const workerId = deps.workerId ?? defaultLoadWorkerId();
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    dataConverter: deps.dataConverter,
    taskQueue: deps.taskQueue ?? CPU_LOAD_TASK_QUEUE,
    identity: workerId,
    activities: createCpuBurnActivities({ workerId, heartbeatEveryMs: deps.heartbeatEveryMs, onSlice: deps.onSlice }),
    maxConcurrentActivityTaskExecutions: Math.max(1, deps.slots),
    // OFF arrives as a cancellation in a heartbeat answer: send heartbeats at least every 200 ms.
    maxHeartbeatThrottleInterval: '200 milliseconds',
    defaultHeartbeatThrottleInterval: '200 milliseconds',
  });
}
