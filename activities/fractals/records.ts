// The fractal workflows' bookkeeping in MySQL (db/fractals.ts), run as local activities on the main
// worker: retried until MySQL answers, so an accepted job and a rendered result are never dropped.
import type { FractalModel } from '../../db/fractals.ts';
import type { FractalJob, RenderedFractal } from '../../workflows/fractals.shared.ts';

export function createFractalRecordActivities(model: FractalModel) {
  return {
    /** The job as queued; a record the API already made (or an earlier attempt) is kept as it is. */
    async recordFractalAccepted(job: FractalJob, batchId: string | undefined): Promise<void> {
      await model.recordAccepted(job, batchId);
    },
    /** The result, unless the record changed since (PUT) or was deleted: then whether it was stored is the answer. */
    async recordFractalRendered(rendered: RenderedFractal, revision: number): Promise<boolean> {
      return model.recordRendered(rendered, revision);
    },
    /** A batch's slice of jobs, recorded before their workflows start (one statement instead of one per fractal); the uuids it recorded. */
    async recordFractalsAccepted(jobs: FractalJob[], batchId: string): Promise<string[]> {
      return model.recordAcceptedMany(jobs, batchId);
    },
    /** Records no workflow will render: made by a slice for fractals whose workflows had run before (deleted since). */
    async forgetFractals(uuids: string[]): Promise<void> {
      await model.forgetQueued(uuids);
    },
    async recordFractalBatch(batchId: string, tasks: number): Promise<void> {
      await model.recordBatch(batchId, tasks);
    },
  };
}

export type FractalRecordActivities = ReturnType<typeof createFractalRecordActivities>;

/** What the render activity on the `fractals` task queue offers (activities/fractals/render.ts implements it). */
export interface FractalRenderActivities {
  renderFractal(job: FractalJob): Promise<RenderedFractal>;
}
