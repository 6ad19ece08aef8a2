// Probes each dependency through an activity, in parallel, and reports; the report is also
// recorded in MySQL (when MySQL is up) so the UI can show a history.
import { log, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { HealthActivities } from '../activities/health.ts';
import { FleetDomain, FleetStatus } from '../temporal/searchAttributes.ts';
import {
  dependencyNames,
  healthCheckInputSchema,
  healthCheckProgressQuery,
  type DependencyName,
  type HealthCheckInput,
  type HealthReport,
  type ProbeResult,
} from './healthCheck.shared.ts';
import { workflowInput } from './validation.shared.ts';

const { checkDependency } = proxyActivities<HealthActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3, initialInterval: '200 milliseconds' },
});
const { recordHealthReport } = proxyActivities<HealthActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 2, initialInterval: '200 milliseconds' },
});

export async function healthCheck(rawInput: HealthCheckInput = {}): Promise<HealthReport> {
  const input = workflowInput(healthCheckInputSchema, rawInput);
  const dependencies = [...new Set(input.dependencies ?? dependencyNames)];
  const timeoutMs = input.probeTimeoutMs ?? 3000;
  upsertSearchAttributes([{ key: FleetDomain, value: 'health' }, { key: FleetStatus, value: 'checking' }]);

  const results: ProbeResult[] = [];
  const pending = new Set<DependencyName>(dependencies);
  setHandler(healthCheckProgressQuery, () => ({ pending: [...pending], results: [...results] }));

  await Promise.all(
    dependencies.map(async (name) => {
      const result = await checkDependency(name, timeoutMs);
      pending.delete(name);
      results.push(result);
    }),
  );
  results.sort((a, b) => dependencies.indexOf(a.name) - dependencies.indexOf(b.name));
  const report: HealthReport = { checkedAt: new Date().toISOString(), healthy: results.every((r) => r.ok), results };
  upsertSearchAttributes([{ key: FleetStatus, value: report.healthy ? 'healthy' : 'unhealthy' }]);

  // The report is the result; keeping it in MySQL is a convenience that must not fail the check.
  if (results.find((r) => r.name === 'mysql')?.ok ?? true) {
    const { workflowId, runId } = workflowInfo();
    await recordHealthReport({ workflowId, runId, ...report }).catch((error: unknown) =>
      log.warn('Could not record the health report in MySQL', { error: String(error) }),
    );
  }
  return report;
}
