// A render thread of the fractal worker's pool (renderPool.ts): renders each job it is given, in turn.
import { renderFractalPng } from './julia.ts';
import { serveRenders } from './renderPool.ts';

serveRenders(renderFractalPng);
