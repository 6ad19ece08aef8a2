// The render activity of the `fractals` task queue: a fractal's PNG rendered on one of the worker's
// render threads and put in object storage. Retried until it succeeds, so it must be safe to run
// again: a retry that finds this job's PNG already stored (its worker died after the upload) returns
// what is stored instead of rendering the fractal a second time.
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { FractalJob, RenderedFractal } from '../../workflows/fractals.shared.ts';
import type { RenderPool } from './renderPool.ts';
import type { FractalImageStore } from './storage.ts';

/** How often a render tells Temporal it is alive (the worker throttles sends to about this too). */
const HEARTBEAT_EVERY_MS = 1000;

export interface FractalRenderDependencies {
  pool: Pick<RenderPool, 'render'>;
  store: Pick<FractalImageStore, 'head' | 'put'>;
  /** The worker's identity: the record's `generated_by`. */
  identity: string;
}

/**
 * A digest of everything the image depends on. Stored with the PNG: a PNG of the same uuid made from
 * other parameters (before an update) is not this job's and is rendered again.
 */
export function renderJobDigest(job: FractalJob): string {
  const { width, height, iterations, xa, xb, ya, yb, cx, cy } = job;
  return createHash('sha256').update(JSON.stringify([width, height, iterations, xa, xb, ya, yb, cx, cy])).digest('hex');
}

export function createFractalRenderActivities({ pool, store, identity }: FractalRenderDependencies) {
  return {
    async renderFractal(job: FractalJob): Promise<RenderedFractal> {
      const context = Context.current();
      const digest = renderJobDigest(job);
      const stored = await store.head(job.uuid);
      if (stored?.job === digest) {
        return { uuid: job.uuid, checksum: stored.checksum, size: stored.size, duration: stored.duration, generatedBy: stored.generatedBy };
      }
      // Heartbeats through the render and the upload: a killed worker is noticed at the heartbeat
      // timeout, not the render timeout. A cancellation (delivered with a heartbeat's answer) stops the render.
      const beat = setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
      try {
        const { uuid, ...view } = job;
        const image = await pool.render(view, { signal: context.cancellationSignal });
        await store.put(uuid, image.png, { checksum: image.checksum, duration: image.duration, generatedBy: identity, job: digest });
        return { uuid, checksum: image.checksum, size: image.png.byteLength, duration: image.duration, generatedBy: identity };
      } finally {
        clearInterval(beat);
      }
    },
  };
}

export type FractalRenderActivities = ReturnType<typeof createFractalRenderActivities>;
