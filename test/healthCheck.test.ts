import { describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { RowDataPacket } from 'mysql2';
import { createMemcachedClient, createServiceClients } from '../db/clients.ts';
import { findFreePort } from '../scripts/processes.ts';
import { healthCheck } from '../workflows/healthCheck.ts';
import { HEALTH_TASK_QUEUE, healthCheckProgressQuery, type HealthReport } from '../workflows/healthCheck.shared.ts';
import { FleetDomain, FleetStatus } from '../temporal/searchAttributes.ts';
import { useStack } from './support/fixture.ts';
import { testConfig, uniqueSuffix } from './support/stack.ts';

describe('healthCheck workflow (real Temporal, MariaDB, memcached, etcd)', () => {
  const { env, suffix } = useStack();

  const run = (workflowId: string, input: Parameters<typeof healthCheck>[0], taskQueue = HEALTH_TASK_QUEUE + suffix) =>
    env.client.workflow.execute(healthCheck, { workflowId: `${workflowId}${suffix}`, taskQueue, args: [input] });

  it('probes every dependency and reports their versions', async () => {
    const report: HealthReport = await run('all', {});
    expect(report.healthy).toBe(true);
    expect(report.results.map((r) => r.name)).toEqual(['mysql', 'memcached', 'etcd']);
    expect(report.results.map((r) => r.detail)).toEqual([
      expect.stringMatching(/^MariaDB \d+\.\d+/),
      expect.stringMatching(/^memcached \d+\.\d+/),
      expect.stringMatching(/^etcd 3\.\d+/),
    ]);
  });

  it('records the report in MySQL and tags the execution for search', async () => {
    const workflowId = `recorded${suffix}`;
    const handle = await env.client.workflow.start(healthCheck, { workflowId, taskQueue: HEALTH_TASK_QUEUE + suffix, args: [{ dependencies: ['etcd'] }] });
    await handle.result();
    const [rows] = await env.clients.mysql.query<RowDataPacket[]>('SELECT healthy, results FROM health_reports WHERE workflow_id = ?', [workflowId]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.healthy).toBe(1);
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(FleetDomain)).toBe('health');
    expect(description.typedSearchAttributes.get(FleetStatus)).toBe('healthy');
  });

  it('reports an unreachable dependency as unhealthy instead of failing', async () => {
    const deadPort = await findFreePort();
    const brokenSuffix = uniqueSuffix();
    const clients = { ...createServiceClients(env.config), memcached: createMemcachedClient(testConfig({ MEMCACHED_PORT: String(deadPort) })) };
    await env.startWorkers(brokenSuffix, { clients });
    const report = await run('broken', { probeTimeoutMs: 1500 }, HEALTH_TASK_QUEUE + brokenSuffix);
    expect(report.healthy).toBe(false);
    const memcached = report.results.find((r) => r.name === 'memcached')!;
    expect(memcached.ok).toBe(false);
    expect(memcached.detail).not.toBe('');
    expect(report.results.filter((r) => r.ok).map((r) => r.name)).toEqual(['mysql', 'etcd']);
  });

  it('rejects an unknown dependency without retrying', async () => {
    const failure = await run('unknown', { dependencies: ['redis' as never] }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('InvalidInput');
    expect((cause as ApplicationFailure).message).toMatch(/dependencies\.0: unknown dependency redis/);
  });

  it('answers the progress query once done', async () => {
    const handle = await env.client.workflow.start(healthCheck, { workflowId: `progress${suffix}`, taskQueue: HEALTH_TASK_QUEUE + suffix, args: [{}] });
    await handle.result();
    const progress = await handle.query(healthCheckProgressQuery);
    expect(progress.pending).toEqual([]);
    expect(progress.results.map((r) => r.name).sort()).toEqual(['etcd', 'memcached', 'mysql']);
  });
});
