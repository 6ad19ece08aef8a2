// nodes: deploy 10 nodes concurrently through the whole runbook (moto → sshd → puppet apply →
// scripts → ELBv2 → email) on a private stack, and report Temporal's share of the time (activity
// schedule-to-start latency, from the histories). Then 10 more nodes, and a DistributedScript of a
// 1 s script on the 20 nodes at parallelism 10 against parallelism 1, side by side in one run.
import type { Client } from '@temporalio/client';
import { connectClient } from '../temporal/connection.ts';
import { startPrivateStack } from './privateStack.ts';
import { createMysqlPool } from '../db/clients.ts';
import { createFleetModel } from '../db/nodes.ts';
import { deployNode } from '../workflows/deployNode.ts';
import { distributedScript } from '../workflows/distributedScript.ts';
import { deployNodeWorkflowId, NODES_TASK_QUEUE, scriptRunWorkflowId, type NodeTimings } from '../workflows/nodes.shared.ts';

const WAVE = 10;
const SCRIPT_NODES = 20;
/** moto answers at once: poll often, so waiting does not hide the rest. */
const timings: Partial<NodeTimings> = { pollMs: 100 };

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

interface ActivityTimes {
  /** Milliseconds from ActivityTaskScheduled to ActivityTaskStarted: Temporal's share. */
  scheduleToStart: number[];
  /** Milliseconds from scheduled to completed, by activity type: where the rest goes. */
  byType: Map<string, number[]>;
}

async function activityTimes(temporal: Client, workflowId: string, into: ActivityTimes): Promise<void> {
  const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<string, { at: number; type: string }>();
  for (const event of history.events ?? []) {
    const at = Number(event.eventTime?.seconds ?? 0) * 1000 + Math.round((event.eventTime?.nanos ?? 0) / 1e6);
    const scheduledEvent = event.activityTaskScheduledEventAttributes;
    if (scheduledEvent) scheduled.set(String(event.eventId), { at, type: scheduledEvent.activityType?.name ?? '?' });
    const started = event.activityTaskStartedEventAttributes;
    if (started) into.scheduleToStart.push(at - (scheduled.get(String(started.scheduledEventId))?.at ?? at));
    const completed = event.activityTaskCompletedEventAttributes;
    const origin = completed && scheduled.get(String(completed.scheduledEventId));
    if (origin) into.byType.set(origin.type, [...(into.byType.get(origin.type) ?? []), at - origin.at]);
  }
}

export async function nodesBenchmark(): Promise<Record<string, unknown>> {
  console.log('Starting a private stack (Temporal, worker, moto, sshd, SMTP sink, …)…');
  const { config, stop } = await startPrivateStack('nodes', { API_INSTANCES: '1', CPU_LOAD_WORKERS: '0', FRACTAL_WORKERS: '0' }, { workers: 1 });
  const temporal = await connectClient(config);
  const pool = createMysqlPool(config, { connectionLimit: 2 });
  const model = createFleetModel(pool);
  try {
    // The example cluster's runbook (puppet manifest, Tomcat and deploy scripts, update script).
    const example = (await model.getCluster('web'))!;
    await model.putCluster({ ...example, name: 'bench', maxNodes: SCRIPT_NODES, notifyEmail: 'bench@fleet.local' }, { replace: false });

    const wave = async (label: string) => {
      const ids = Array.from({ length: WAVE }, (_, i) => deployNodeWorkflowId('bench', `${label}-${i}`));
      const started = performance.now();
      await Promise.all(
        ids.map(async (workflowId, i) => {
          const handle = await temporal.workflow.start(deployNode, { workflowId, taskQueue: NODES_TASK_QUEUE, args: [{ cluster: 'bench', deploymentId: `${label}-${i}`, timings }] });
          await handle.result();
        }),
      );
      const wallSeconds = (performance.now() - started) / 1000;
      const times: ActivityTimes = { scheduleToStart: [], byType: new Map() };
      for (const id of ids) await activityTimes(temporal, id, times);
      const latencies = times.scheduleToStart;
      console.log(`${label}: ${WAVE} nodes deployed in ${wallSeconds.toFixed(2)} s; activity schedule-to-start p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms over ${latencies.length} activities`);
      console.log(`  p50 per activity (scheduled → completed): ${[...times.byType].map(([type, ms]) => `${type} ${percentile(ms, 50)} ms`).join(', ')}`);
      return { wallSeconds, latencies, byType: Object.fromEntries([...times.byType].map(([type, ms]) => [type, percentile(ms, 50)])) };
    };
    const first = await wave('wave-1');
    const second = await wave('wave-2');
    const active = (await model.listNodes('bench')).filter((n) => n.state === 'active').length;

    const script = async (parallelism: number) => {
      const runId = `sleep-p${parallelism}`;
      const started = performance.now();
      const status = await temporal.workflow.execute(distributedScript, {
        workflowId: scriptRunWorkflowId('bench', runId),
        taskQueue: NODES_TASK_QUEUE,
        args: [{ cluster: 'bench', runId, script: 'sleep 1', parallelism, failurePolicy: 'continue' }],
      });
      const seconds = (performance.now() - started) / 1000;
      console.log(`DistributedScript on ${status.nodes.length} nodes at parallelism ${parallelism}: ${status.state} in ${seconds.toFixed(2)} s`);
      return { seconds, nodes: status.nodes.length, succeeded: status.nodes.filter((n) => n.outcome === 'succeeded').length };
    };
    await script(SCRIPT_NODES); // warm-up: SSH keys loaded, first logins made
    const parallel = await script(10);
    const sequential = await script(1);
    const latencies = [...first.latencies, ...second.latencies];
    return {
      nodes: WAVE,
      nodes_deployed: active,
      deploy_wall_s: round(first.wallSeconds),
      deploy_wall_second_wave_s: round(second.wallSeconds),
      schedule_to_start_p50_ms: percentile(latencies, 50),
      schedule_to_start_p99_ms: percentile(latencies, 99),
      activities: latencies.length,
      activity_p50_ms: first.byType,
      temporal_share: round(latencies.reduce((a, b) => a + b, 0) / 1000 / ((first.wallSeconds + second.wallSeconds) * WAVE), 3),
      script_nodes: parallel.nodes,
      script_succeeded: parallel.succeeded + sequential.succeeded,
      parallel_s: round(parallel.seconds),
      sequential_s: round(sequential.seconds),
      parallel_ratio: round(parallel.seconds / sequential.seconds, 3),
    };
  } finally {
    await pool.end();
    await temporal.connection.close();
    await stop();
  }
}
