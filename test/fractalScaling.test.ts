// The fractal workers' autoscaling on the real stack (Temporal, MariaDB, moto, sshd): the cluster and
// its disabled triggers seeded as npm start seeds them, the queue-backlog counter reading the
// `fractals` queue's real backlog from the server, and (enabled) the scale-out trigger deploying a
// node whose deploy script starts a real fractal-worker process that drains the queue, and the
// scale-in removing it again, its worker stopped by the cluster's update script.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { createMysqlPool } from '../db/clients.ts';
import type { StoredTrigger } from '../db/triggers.ts';
import { createRenderPool, type RenderPool } from '../activities/fractals/renderPool.ts';
import { createFractalImageStore, createS3Client } from '../activities/fractals/storage.ts';
import { codecDataConverter, connectWorker } from '../temporal/connection.ts';
import { seedFractalCluster, seedFractalLoop } from '../scripts/localFleet.ts';
import { FRACTALS_TASK_QUEUE, type FractalRecord } from '../workflows/fractals.shared.ts';
import type { NodeRecord } from '../workflows/nodes.shared.ts';
import type { Sample } from '../workflows/triggers.shared.ts';
import { createFractalWorker } from '../workers/fractals.ts';
import { requestJson, useStack } from './support/fixture.ts';
import { uniqueClusterName } from './support/nodes.ts';

const stack = useStack();
const small = { width: 48, height: 32, iterations: 64, xa: -1.5, xb: 1.5, ya: -1, yb: 1 };
const tag = stack.suffix.replace(/[^a-z0-9]/g, '').slice(-8);
const cluster = uniqueClusterName();
const counter = `backlog${tag}`;

const nodesOf = async () => (await requestJson<{ nodes: NodeRecord[] }>(stack.app, 'GET', `/api/clusters/${cluster}`)).body.nodes.filter((n) => n.state === 'active');
const backlog = async () => {
  const tested = await requestJson<{ samples: Sample[] }>(stack.app, 'POST', `/api/counters/${counter}/test`, { cluster });
  expect(tested.status, JSON.stringify(tested.body)).toBe(200);
  expect(tested.body.samples).toEqual([expect.objectContaining({ node: 'queue:fractals' })]);
  return tested.body.samples[0]!.value;
};
const queueFractals = async (count: number) => {
  const uuids = Array.from({ length: count }, () => randomUUID());
  for (const uuid of uuids) expect((await requestJson(stack.app, 'POST', '/v1/fractal', { uuid, ...small })).status).toBe(201);
  return uuids;
};
const allDone = (uuids: string[], timeout: number) =>
  vi.waitFor(
    async () => {
      for (const uuid of uuids) expect((await requestJson<FractalRecord>(stack.app, 'GET', `/v1/fractal/${uuid}`)).body.status).toBe('done');
    },
    { timeout, interval: 500 },
  );

let inProcess: { worker: Worker; done: Promise<void>; pool: RenderPool; connection: NativeConnection } | undefined;
afterAll(async () => {
  if (inProcess?.worker.getState() === 'RUNNING') inProcess.worker.shutdown();
  await inProcess?.done;
  await inProcess?.pool.close();
  await inProcess?.connection.close();
});

describe('the fractal workers’ cluster', () => {
  it('is seeded with its counter and a disabled pair of triggers, and the counter reads the queue’s real backlog', async () => {
    const { config } = stack.env;
    const pool = createMysqlPool(config, { connectionLimit: 1 });
    try {
      await seedFractalCluster(pool, config, { cluster, suffix: stack.suffix });
    } finally {
      await pool.end();
    }
    const created = await seedFractalLoop(config, { suffix: stack.suffix, options: { cluster, counter } });
    expect(created).toEqual([`node ${cluster}01`, `counter ${counter}`, `trigger ${cluster}-scale-out`, `trigger ${cluster}-scale-in`]);
    const detail = await requestJson<{ cluster: { minNodes: number; maxNodes: number; deployScript: string; clusterUpdateScript: string } }>(stack.app, 'GET', `/api/clusters/${cluster}`);
    expect(detail.body.cluster).toMatchObject({ minNodes: 1, maxNodes: 3 });
    expect(detail.body.cluster.deployScript).toContain('workers/fractalWorker.ts');
    expect(detail.body.cluster.deployScript).toContain(`FLEET_TASK_QUEUE_SUFFIX='${stack.suffix}'`);
    for (const name of ['scale-out', 'scale-in']) {
      const trigger = (await requestJson<{ trigger: StoredTrigger }>(stack.app, 'GET', `/api/triggers/${cluster}-${name}`)).body.trigger;
      expect(trigger).toMatchObject({ enabled: false, counters: [counter] });
    }
    // Disabled: the cluster's sampling schedule does not tick.
    const sampling = await requestJson<{ schedule: { paused: boolean } | null }>(stack.app, 'GET', `/api/clusters/${cluster}/sampling`);
    expect(sampling.body.schedule === null || sampling.body.schedule.paused, JSON.stringify(sampling.body)).toBe(true);
    // A second start creates nothing.
    expect(await seedFractalLoop(config, { suffix: stack.suffix, options: { cluster, counter } })).toEqual([]);

    // Nobody polls this stack's fractals queue yet: six renders wait, and the server counts them.
    expect(await backlog()).toBe(0);
    const uuids = await queueFractals(6);
    await vi.waitFor(async () => expect(await backlog()).toBe(6), { timeout: 15_000, interval: 500 });

    // A worker drains them; the backlog goes back to 0.
    const connection = await connectWorker(config);
    const renderPool = createRenderPool({ threads: 1 });
    const worker = await createFractalWorker({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: codecDataConverter(config),
      taskQueue: FRACTALS_TASK_QUEUE + stack.suffix,
      pool: renderPool,
      store: createFractalImageStore({ s3: createS3Client(config.fractals.storage), bucket: config.fractals.storage.bucket }),
    });
    inProcess = { worker, done: worker.run(), pool: renderPool, connection };
    await allDone(uuids, 30_000);
    await vi.waitFor(async () => expect(await backlog()).toBe(0), { timeout: 15_000, interval: 500 });
    inProcess.worker.shutdown();
    await inProcess.done;
  }, 120_000);

  it('enabled, scales out on a backlog with a node whose deploy script starts a real worker, and back in, stopping it', async () => {
    const fast = { intervalMs: 2000, heldForMs: 4000, cooldownMs: 2000 };
    const timings = { pollMs: 200 };
    for (const name of ['scale-out', 'scale-in']) {
      const { trigger } = (await requestJson<{ trigger: StoredTrigger }>(stack.app, 'GET', `/api/triggers/${cluster}-${name}`)).body;
      const { name: _n, createdAt: _c, updatedAt: _u, ...body } = trigger;
      const chain = body.chain.map((action) => ({ ...action, timings }));
      const put = await requestJson(stack.app, 'PUT', `/api/triggers/${cluster}-${name}`, { ...body, ...fast, chain, enabled: true });
      expect(put.status, JSON.stringify(put.body)).toBe(200);
    }
    expect(await nodesOf()).toHaveLength(1);
    const uuids = await queueFractals(12);
    // Backlog 12 > 4 held 4 s → deploy-node: the node's deploy script starts a worker process.
    await vi.waitFor(async () => expect((await nodesOf()).length).toBeGreaterThanOrEqual(2), { timeout: 60_000, interval: 1000 });
    const added = (await nodesOf()).at(-1)!;
    const pidFile = `${stack.env.config.dataDir}/fractal-nodes/${added.name}/fractal-worker.pid`;
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(() => process.kill(pid, 0)).not.toThrow();
    // That worker (the only one polling this stack's queue) renders them all.
    await allDone(uuids, 90_000);
    const generatedBy = new Set<string | null>();
    for (const uuid of uuids) generatedBy.add((await requestJson<FractalRecord>(stack.app, 'GET', `/v1/fractal/${uuid}`)).body.generated_by);
    expect([...generatedBy].every((identity) => identity?.startsWith(`fractal-${pid}@`)), JSON.stringify([...generatedBy])).toBe(true);

    // Backlog < 1 held 4 s → remove-node of the newest: the update script on the remaining node stops its worker.
    await vi.waitFor(async () => expect(await nodesOf()).toHaveLength(1), { timeout: 60_000, interval: 1000 });
    await vi.waitFor(() => expect(() => process.kill(pid, 0)).toThrow(), { timeout: 15_000, interval: 500 });

    for (const name of ['scale-out', 'scale-in']) await requestJson(stack.app, 'POST', `/api/triggers/${cluster}-${name}/disable`);
  }, 240_000);
});
