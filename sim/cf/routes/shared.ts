// Small helpers every resource route uses.
import type { Context } from 'hono';
import { cfErrors } from '../errors.ts';
import type { SimEnv, SimRuntime } from '../context.ts';
import type { Job } from '../state.ts';

export function mustFind<T>(map: Map<string, T>, guid: string, resource: string): T {
  const found = map.get(guid);
  if (!found) throw cfErrors.notFound(resource);
  return found;
}

/** CC's asynchronous delete: 202, no body, Location of the job to poll. */
export function accepted(c: Context<SimEnv>, job: Job): Response {
  c.header('Location', `${c.var.linkBaseUrls.jobLocation}/v3/jobs/${job.guid}`);
  return c.body(null, 202);
}

/** A delete job that runs `work` after the job delay, or fails when the job fault fires. */
export function deleteJob(runtime: SimRuntime, operation: string, work: () => void): Job {
  const fails = runtime.fires('failNextJobs', 'jobFailureRate');
  return runtime.state.startJob(
    operation,
    runtime.knobs.jobDelayMs,
    fails ? { failure: { code: 10008, title: 'CF-UnprocessableEntity', detail: `${operation} failed (fault injected by the simulator)` } } : { work },
  );
}

/** Marks a change for updated_at. */
export function touch(resource: { updatedAt: number }, runtime: SimRuntime): void {
  resource.updatedAt = runtime.now();
}
