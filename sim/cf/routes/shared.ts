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

/**
 * CC's admin-only endpoints (organization quotas, security group creation): 403 CF-NotAuthorized
 * for a user who is not an admin. Client-credentials clients hold cloud_controller.admin here.
 */
export function requireAdmin(runtime: SimRuntime, c: Context<SimEnv>): void {
  const principal = c.var.principal;
  const user = principal?.userName ? runtime.users.find((u) => u.username === principal.userName) : undefined;
  if (!principal || (principal.userName && user?.admin === false)) throw cfErrors.notAuthorized();
}

/** `{"data":[{"guid"}]}`, a to-many relationship request body; every guid must name an existing resource. */
export function toManyGuids(body: Record<string, unknown>, exists: (guid: string) => boolean, invalid: (guids: string[]) => string): string[] {
  const data = body.data;
  if (!Array.isArray(data) || data.some((item) => typeof item !== 'object' || item === null || typeof (item as { guid?: unknown }).guid !== 'string')) {
    throw cfErrors.unprocessable('Data must be an array of objects with a guid');
  }
  const guids = [...new Set(data.map((item) => (item as { guid: string }).guid))];
  const missing = guids.filter((guid) => !exists(guid));
  if (missing.length > 0) throw cfErrors.unprocessable(invalid(missing));
  return guids;
}
