// Activities of the health-check workflow: probe one dependency, record the report.
import type { HealthReportRecorder, Probe } from '../db/health.ts';
import type { DependencyName, ProbeResult } from '../workflows/healthCheck.shared.ts';

export function createHealthActivities(probes: Record<DependencyName, Probe>, record: HealthReportRecorder) {
  return {
    async checkDependency(name: DependencyName, timeoutMs: number): Promise<ProbeResult> {
      return probes[name](timeoutMs);
    },
    recordHealthReport: record,
  };
}

export type HealthActivities = ReturnType<typeof createHealthActivities>;
