// The load worker: the CPU burn activity on the `cpu-load` task queue, nothing else. Its own module
// (workers.ts re-exports it) so a load worker process does not load the main worker's clients
// (Cloud Foundry, EC2, SSH, mail: about 150 MB per process).
import type { DataConverter } from '@temporalio/common';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { createCpuBurnActivities, defaultLoadWorkerId, type BurnOptions } from '../activities/cpuLoad.ts';
import { CPU_LOAD_TASK_QUEUE } from '../workflows/cpuLoad.shared.ts';

export interface LoadWorkerDependencies extends Omit<BurnOptions, 'workerId'> {
  connection: NativeConnection;
  namespace: string;
  dataConverter: DataConverter;
  /** Default `cpu-load`; tests pass their own. */
  taskQueue?: string;
  /** Names this load worker in CPU samples and in Temporal (default `pid@host`). */
  workerId?: string;
}

/** A load worker: only the burn activity, one slice at a time, so one process burns one core. */
export function createLoadWorker(deps: LoadWorkerDependencies): Promise<Worker> {
  const workerId = deps.workerId ?? defaultLoadWorkerId();
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    dataConverter: deps.dataConverter,
    taskQueue: deps.taskQueue ?? CPU_LOAD_TASK_QUEUE,
    identity: workerId,
    activities: createCpuBurnActivities({ workerId, burstMs: deps.burstMs, heartbeatEveryMs: deps.heartbeatEveryMs, onSlice: deps.onSlice }),
    maxConcurrentActivityTaskExecutions: 1,
    // OFF arrives as a cancellation in a heartbeat answer: send heartbeats at least every 200 ms.
    maxHeartbeatThrottleInterval: '200 milliseconds',
    defaultHeartbeatThrottleInterval: '200 milliseconds',
  });
}
