// Small helpers every resource route uses.
import type { Context } from 'hono';
import { cfErrors } from '../errors.ts';
import type { SimEnv, SimRuntime } from '../context.ts';
import type { App, Job } from '../state.ts';

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

/**
 * Writes in a space need cloud_controller.admin or the space developer role, as CC's
 * `can_write?(space)` (app/controllers/v3/application_controller.rb): 403 CF-NotAuthorized otherwise.
 */
export function requireSpaceWrite(c: Context<SimEnv>, runtime: SimRuntime, spaceGuid: string): void {
  const principal = c.var.principal!;
  if (principal.admin || runtime.state.hasRole(principal.subject, 'space_developer', spaceGuid)) return;
  throw cfErrors.notAuthorized();
}

/** Whether the principal may see resources of the space (admin, or any role in it or its organization). */
export function canReadSpace(c: Context<SimEnv>, runtime: SimRuntime, spaceGuid: string): boolean {
  const principal = c.var.principal!;
  if (principal.admin) return true;
  const orgGuid = runtime.state.spaces.get(spaceGuid)?.orgGuid;
  for (const role of runtime.state.roles.values()) {
    if (role.userGuid !== principal.subject) continue;
    if (role.targetGuid === spaceGuid || (role.type === 'organization_manager' && role.targetGuid === orgGuid)) return true;
  }
  return false;
}

/** Whether the principal may see the organization (admin, or any role in it). */
export function canReadOrganization(c: Context<SimEnv>, runtime: SimRuntime, orgGuid: string): boolean {
  const principal = c.var.principal!;
  return principal.admin || [...runtime.state.roles.values()].some((r) => r.userGuid === principal.subject && r.targetGuid === orgGuid);
}

/** An app the principal may see, else 404 "App not found" as CC answers for an invisible one. */
export function visibleApp(c: Context<SimEnv>, runtime: SimRuntime, guid: string): App {
  const app = runtime.state.apps.get(guid);
  if (!app || !canReadSpace(c, runtime, app.spaceGuid)) throw cfErrors.notFound('App');
  return app;
}

/** An app the principal may change: visible (else 404) and in a space it develops in (else 403). */
export function writableApp(c: Context<SimEnv>, runtime: SimRuntime, guid: string): App {
  const app = visibleApp(c, runtime, guid);
  requireSpaceWrite(c, runtime, app.spaceGuid);
  return app;
}
