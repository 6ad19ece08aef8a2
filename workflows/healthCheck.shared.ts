// Vocabulary of the health-check domain, shared by the workflow, its activities, the API and tests.
import { defineQuery } from '@temporalio/workflow';

export const HEALTH_TASK_QUEUE = 'health-checks';

/** The services a health check can probe. */
export const dependencyNames = ['mysql', 'memcached', 'etcd'] as const;
export type DependencyName = (typeof dependencyNames)[number];

export interface HealthCheckInput {
  /** Which dependencies to probe; all of them when omitted. */
  dependencies?: DependencyName[];
  /** Per-probe time limit in milliseconds (default 3000). */
  probeTimeoutMs?: number;
}

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
