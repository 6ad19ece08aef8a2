// The fractals' object storage against the test stack's moto (activities/fractals/storage.ts), and the
// render activity through a real fractal worker (workers/fractals.ts): the PNG is rendered once and
// stored; a render whose PNG is already stored (a retry after its worker died past the upload) is not
// rendered again.
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Worker, type NativeConnection } from '@temporalio/worker';
import type { S3Client } from '@aws-sdk/client-s3';
import { renderFractalPng } from '../activities/fractals/julia.ts';
import { createFractalRenderActivities, renderJobDigest } from '../activities/fractals/render.ts';
import { createRenderPool, type RenderPool } from '../activities/fractals/renderPool.ts';
import { createFractalImageStore, createS3Client, type FractalImageStore } from '../activities/fractals/storage.ts';
import { codecDataConverter, connectWorker } from '../temporal/connection.ts';
import { fractalJobOf, FRACTALS_TASK_QUEUE, type FractalJob } from '../workflows/fractals.shared.ts';
import { createFractalWorker } from '../workers/workers.ts';
import { useStack } from './support/fixture.ts';

const { env, suffix } = useStack({ workers: false });
const png = Buffer.from('not really a png, but bytes all the same');
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const job = (uuid: string): FractalJob => fractalJobOf(uuid, { width: 120, height: 80, iterations: 64, xa: -1.5, xb: 1.5, ya: -1, yb: 1 });

let s3: S3Client;
let store: FractalImageStore;
let pool: RenderPool;
let renders = 0;
beforeAll(async () => {
  s3 = createS3Client(env.config.fractals.storage);
  // A bucket of this file's own: counts are this file's objects only.
  store = createFractalImageStore({ s3, bucket: `fractals${suffix}` });
  await store.ensureBucket();
  const threads = createRenderPool({ threads: 1 });
  // Counts renders, so a test can tell a stored PNG from a rendered one.
  pool = { ...threads, render: (view, options) => (renders++, threads.render(view, options)) };
});
afterAll(async () => {
  await pool?.close();
  s3?.destroy();
});

describe('the fractal image store', () => {
  it('puts, heads, gets, counts and deletes a PNG by uuid', async () => {
    const uuid = crypto.randomUUID();
    await store.ensureBucket(); // again: a bucket that exists is left as it is
    expect(await store.head(uuid)).toBeUndefined();
    expect(await store.get(uuid)).toBeUndefined();
    const before = await store.count();
    await store.put(uuid, png, { checksum: sha256(png), duration: 0.25, generatedBy: 'fractal-1@test', job: 'digest' });
    expect(await store.head(uuid)).toEqual({ checksum: sha256(png), duration: 0.25, generatedBy: 'fractal-1@test', job: 'digest', size: png.length });
    expect((await store.get(uuid))?.equals(png)).toBe(true);
    expect(await store.count()).toBe(before + 1);
    await store.delete(uuid);
    expect(await store.head(uuid)).toBeUndefined();
    expect(await store.get(uuid)).toBeUndefined();
    expect(await store.count()).toBe(before);
    await store.delete(uuid); // a missing PNG: nothing to do, no error
  });
});

describe('the render activity', () => {
  it('renders a job whose PNG is stored for other parameters, and not one whose PNG is this job', async () => {
    const uuid = crypto.randomUUID();
    const { renderFractal } = createFractalRenderActivities({ pool, store, identity: 'fractal-2@test' });
    // A PNG of the same uuid from before an update (other parameters): rendered again.
    await store.put(uuid, png, { checksum: sha256(png), duration: 1, generatedBy: 'old', job: renderJobDigest({ ...job(uuid), iterations: 65 }) });
    const rendersBefore = renders;
    const first = await new MockActivityEnvironment().run(renderFractal, job(uuid));
    expect(renders).toBe(rendersBefore + 1);
    expect(first).toMatchObject({ uuid, checksum: renderFractalPng(job(uuid)).checksum, generatedBy: 'fractal-2@test' });
    // The retry of a render whose worker died after the upload: what is stored, no second render.
    const again = await new MockActivityEnvironment().run(createFractalRenderActivities({ pool, store, identity: 'fractal-3@test' }).renderFractal, job(uuid));
    expect(renders).toBe(rendersBefore + 1);
    expect(again).toEqual(first);
  });

  describe('through a fractal worker', () => {
    const taskQueue = FRACTALS_TASK_QUEUE + suffix;
    let connection: NativeConnection;
    let workers: { worker: Worker; done: Promise<void> }[] = [];
    beforeAll(async () => {
      connection = await connectWorker(env.config);
      const dataConverter = codecDataConverter(env.config);
      const fractalWorker = await createFractalWorker({ connection, namespace: env.config.temporal.namespace, dataConverter, taskQueue, pool, store, identity: 'fractal-4@test' });
      // The workflow that asks for the render, on a task queue of its own (as the product's fractal workflow is).
      const workflowWorker = await Worker.create({
        connection,
        namespace: env.config.temporal.namespace,
        dataConverter,
        taskQueue: `${taskQueue}-workflow`,
        workflowsPath: fileURLToPath(new URL('./support/fractalRenderWorkflow.ts', import.meta.url)),
      });
      workers = [fractalWorker, workflowWorker].map((worker) => ({ worker, done: worker.run() }));
    });
    afterAll(async () => {
      for (const { worker } of workers) worker.shutdown();
      await Promise.all(workers.map((w) => w.done));
      await connection?.close();
    });

    it('stores the PNG it renders, and returns the stored one when asked again', async () => {
      const uuid = crypto.randomUUID();
      const run = () => env.client.workflow.execute('renderFractalOnce', { workflowId: `render-${uuid}-${crypto.randomUUID()}`, taskQueue: `${taskQueue}-workflow`, args: [job(uuid), taskQueue] });
      const rendersBefore = renders;
      const expected = renderFractalPng(job(uuid));
      const rendered = await run();
      expect(rendered).toEqual({ uuid, checksum: expected.checksum, size: expected.png.length, duration: expect.any(Number), generatedBy: 'fractal-4@test' });
      expect((await store.get(uuid))?.equals(expected.png)).toBe(true);
      expect(await run()).toEqual(rendered);
      expect(renders).toBe(rendersBefore + 1);
    });
  });
});
