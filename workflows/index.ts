// Every workflow the workers run: the entry point of the workflow bundle.
export { healthCheck } from './healthCheck.ts';
export { requestRun } from './requestRun.ts';
export { cpuLoad } from './cpuLoad.ts';
export { cfConverge } from './cfConverge.ts';
export { deployNode } from './deployNode.ts';
export { removeNode } from './removeNode.ts';
export { distributedScript } from './distributedScript.ts';
export { cleanupNode } from './cleanupNode.ts';
export { triggerTick } from './triggerTick.ts';
export { triggerChain } from './triggerChain.ts';
export { triggerPreview } from './triggerPreview.ts';
export { fractal } from './fractal.ts';
export { fractalBatch } from './fractalBatch.ts';
