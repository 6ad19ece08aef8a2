// The fractal-jobs worker's own workflow bundle: the SDK runs every module of a bundle again for each
// workflow it starts, and a fractal is a short workflow run by the thousand, so its bundle holds only
// what fractals need (about 40 → 27 ms of the main worker's CPU per fractal; docs/fractals.md).
export { fractal } from './fractal.ts';
export { fractalBatch } from './fractalBatch.ts';
