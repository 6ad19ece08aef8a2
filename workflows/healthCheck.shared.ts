// Vocabulary of the health-check domain, shared by the workflow, its activities, the API and tests.
import { defineQuery } from '@temporalio/workflow';
import * as z from 'zod/mini';
import { idSchema } from './validation.shared.ts';

export const HEALTH_TASK_QUEUE = 'health-checks';

/** The services a health check can probe. */
export const dependencyNames = ['mysql', 'memcached', 'etcd'] as const;
export type DependencyName = (typeof dependencyNames)[number];

export const healthCheckInputSchema = z.strictObject({
  /** Which dependencies to probe; all of them when omitted. */
  dependencies: z.optional(
    z.array(z.enum(dependencyNames, { error: (issue) => `unknown dependency ${String(issue.input)}; expected some of ${dependencyNames.join(', ')}` })).check(
      z.minLength(1, 'name at least one dependency'),
    ),
  ),
  /** Per-probe time limit in milliseconds (default 3000). */
  probeTimeoutMs: z.optional(z.int().check(z.minimum(10), z.maximum(60_000))),
});
export type HealthCheckInput = z.infer<typeof healthCheckInputSchema>;

export interface ProbeResult {
  name: DependencyName;
  ok: boolean;
  latencyMs: number;
  /** The server's version when healthy, the reason when not. */
  detail: string;
}

export interface HealthReport {
  checkedAt: string;
  healthy: boolean;
  results: ProbeResult[];
}

export interface HealthCheckProgress {
  pending: DependencyName[];
  results: ProbeResult[];
}

export const healthCheckProgressQuery = defineQuery<HealthCheckProgress>('progress');

/** One running check per set of dependencies: the workflow ID is the lock. */
export function healthCheckWorkflowId(dependencies: readonly DependencyName[] = dependencyNames): string {
  const scope = [...new Set(dependencies)].sort().join('+');
  return scope === [...dependencyNames].sort().join('+') ? 'health-check' : `health-check-${scope}`;
}

/** Whether `id` is one healthCheckWorkflowId builds: `health-check`, or a sorted proper subset of the dependencies. */
export function isHealthCheckWorkflowId(id: string): boolean {
  if (id === healthCheckWorkflowId()) return true;
  const scope = id.startsWith('health-check-') ? id.slice('health-check-'.length).split('+') : [];
  return scope.length > 0 && scope.every((name) => (dependencyNames as readonly string[]).includes(name)) && healthCheckWorkflowId(scope as DependencyName[]) === id;
}

/** A health check's workflow ID as a request names it. */
export const healthCheckWorkflowIdSchema = idSchema('a health check', isHealthCheckWorkflowId);
