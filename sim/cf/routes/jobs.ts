// /v3/jobs/:guid: PROCESSING until the job delay has passed, then COMPLETE (or FAILED with errors).
import { Hono } from 'hono';
import { presentJob } from '../presenters.ts';
import type { SimEnv, SimRuntime } from '../context.ts';
import { mustFind } from './shared.ts';

export function jobRoutes(runtime: SimRuntime) {
  return new Hono<SimEnv>().get('/jobs/:guid', (c) => c.json(presentJob(mustFind(runtime.state.jobs, c.req.param('guid'), 'Job'), c.var.baseUrl)));
}
