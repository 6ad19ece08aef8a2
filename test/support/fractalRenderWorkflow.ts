// A test-only workflow that runs the render activity once on a given task queue, so a test can drive
// a real fractal worker before (and independently of) the product's fractal workflow.
import { proxyActivities } from '@temporalio/workflow';
import type { FractalRenderActivities } from '../../activities/fractals/render.ts';
import type { FractalJob, RenderedFractal } from '../../workflows/fractals.shared.ts';

export async function renderFractalOnce(job: FractalJob, taskQueue: string): Promise<RenderedFractal> {
  const { renderFractal } = proxyActivities<FractalRenderActivities>({
    taskQueue,
    startToCloseTimeout: '1 minute',
    heartbeatTimeout: '10 seconds',
    retry: { maximumAttempts: 1 },
  });
  return renderFractal(job);
}
