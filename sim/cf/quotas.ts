// Organization quota checks, as CC's process validation policies run them (422
// CF-UnprocessableEntity with Sequel's "<field> <error>" wording):
// - app/models/runtime/constraints/max_memory_policy.rb: the memory of started processes' instances
//   may not exceed `memory_limit` ("memory quota_exceeded"); checked at start and at scale-up;
// - max_instance_memory_policy.rb: one instance's memory ("memory instance_memory_limit_exceeded");
// - max_app_instances_policy.rb: started instances ("app_instance_limit app_instance_limit_exceeded");
// - app/actions/route_create.rb: "Routes quota exceeded for organization '<name>'.";
// - app/actions/build_create.rb: staging needs its memory free ("organization's memory limit exceeded: …").
import { cfErrors } from './errors.ts';
import type { Process, SimState } from './state.ts';

/** CC's staging memory (config `staging.minimum_staging_memory_mb`, 1024) and the build's default. */
export const STAGING_MEMORY_MB = 1024;

/** Throws when running `processes` (replacing what the app runs now) would exceed the organization's quota. */
export function checkProcessQuota(state: SimState, appGuid: string, processes: Pick<Process, 'instances' | 'memoryInMb'>[]): void {
  const app = state.apps.get(appGuid);
  const orgGuid = app && state.spaces.get(app.spaceGuid)?.orgGuid;
  if (!orgGuid) return;
  const quota = state.quotaOf(orgGuid);
  const used = state.usageOf(orgGuid, appGuid);
  const memory = processes.reduce((sum, p) => sum + p.instances * p.memoryInMb, 0);
  const instances = processes.reduce((sum, p) => sum + p.instances, 0);
  const { per_process_memory_in_mb: perProcess, total_memory_in_mb: totalMemory, total_instances: totalInstances } = quota.apps;
  if (perProcess !== null && processes.some((p) => p.instances > 0 && p.memoryInMb > perProcess)) {
    throw cfErrors.unprocessable('memory instance_memory_limit_exceeded');
  }
  if (totalMemory !== null && memory > 0 && used.memoryInMb + memory > totalMemory) throw cfErrors.unprocessable('memory quota_exceeded');
  if (totalInstances !== null && instances > 0 && used.instances + instances > totalInstances) {
    throw cfErrors.unprocessable('app_instance_limit app_instance_limit_exceeded');
  }
}

export function checkRouteQuota(state: SimState, spaceGuid: string): void {
  const orgGuid = state.spaces.get(spaceGuid)?.orgGuid;
  const org = orgGuid ? state.organizations.get(orgGuid) : undefined;
  if (!org) return;
  const limit = state.quotaOf(org.guid).routes.total_routes;
  if (limit === null) return;
  let routes = 0;
  for (const route of state.routes.values()) if (state.spaces.get(route.spaceGuid)?.orgGuid === org.guid) routes++;
  if (routes >= limit) throw cfErrors.unprocessable(`Routes quota exceeded for organization '${org.name}'.`);
}

export function checkStagingQuota(state: SimState, appGuid: string, stagingMemoryInMb: number): void {
  const app = state.apps.get(appGuid);
  const orgGuid = app && state.spaces.get(app.spaceGuid)?.orgGuid;
  if (!orgGuid) return;
  const limit = state.quotaOf(orgGuid).apps.total_memory_in_mb;
  const free = limit === null ? Infinity : limit - state.usageOf(orgGuid).memoryInMb;
  if (stagingMemoryInMb > free) throw cfErrors.unprocessable(`organization's memory limit exceeded: staging requires ${stagingMemoryInMb}M memory`);
}
