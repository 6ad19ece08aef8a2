// Metrics: a worker process serves the Temporal SDK's Prometheus metrics on WORKER_METRICS_PORT.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { findFreePort } from '../scripts/processes.ts';
import { healthCheck } from '../workflows/healthCheck.ts';
import { HEALTH_TASK_QUEUE } from '../workflows/healthCheck.shared.ts';
import { useStack } from './support/fixture.ts';
import { startWorkerProcess, uniqueSuffix, type WorkerProcess } from './support/stack.ts';

describe('worker metrics', () => {
  const { env } = useStack({ workers: false });
  let worker: WorkerProcess | undefined;
  afterAll(async () => {
    worker?.child.kill('SIGTERM');
    await worker?.exited;
  });

  it('exports the SDK’s Prometheus metrics of the work it did, by task queue', { timeout: 60_000 }, async () => {
    const [suffix, port] = [uniqueSuffix(), await findFreePort()];
    worker = startWorkerProcess({ FLEET_TASK_QUEUE_SUFFIX: suffix, WORKER_METRICS_PORT: String(port) });
    await worker.ready;
    await env.client.workflow.execute(healthCheck, { workflowId: `metrics${suffix}`, taskQueue: HEALTH_TASK_QUEUE + suffix, args: [{ dependencies: ['mysql'] }] });
    await vi.waitFor(async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toMatch(new RegExp(`^temporal_workflow_completed_total\\{[^}]*task_queue="${HEALTH_TASK_QUEUE}${suffix}"[^}]*\\} 1$`, 'm'));
      expect(text).toMatch(new RegExp(`^temporal_activity_execution_latency\\w*_count\\{[^}]*activity_type="[^"]+"[^}]*task_queue="${HEALTH_TASK_QUEUE}${suffix}"`, 'm'));
    }, { timeout: 15_000, interval: 500 });
  });
});
