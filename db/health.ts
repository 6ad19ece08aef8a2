// Probes for each dependency (used by the health-check activities and by /readyz), and where
// health reports are recorded.
// A probe never throws: an unreachable service is a result, not an error.
import type { ServiceClients } from './clients.ts';
import type { DependencyName, ProbeResult } from '../workflows/healthCheck.shared.ts';

export type Probe = (timeoutMs: number) => Promise<ProbeResult>;

async function timed(name: DependencyName, timeoutMs: number, probe: () => Promise<string>): Promise<ProbeResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const detail = await Promise.race([probe(), timeout]);
    return { name, ok: true, latencyMs: Math.round(performance.now() - started), detail };
  } catch (error) {
    const message = error instanceof AggregateError ? error.errors.map((e: Error) => e.message).join('; ') : (error as Error).message;
    return { name, ok: false, latencyMs: Math.round(performance.now() - started), detail: message || String(error) };
  } finally {
    clearTimeout(timer);
  }
}

export function createDependencyProbes(clients: ServiceClients): Record<DependencyName, Probe> {
  return {
    mysql: (timeoutMs) =>
      timed('mysql', timeoutMs, async () => {
        const [rows] = await clients.mysql.query<import('mysql2').RowDataPacket[]>('SELECT VERSION() AS version');
        return `MariaDB ${String(rows[0]?.version).split('-')[0]}`;
      }),
    memcached: (timeoutMs) =>
      timed('memcached', timeoutMs, () =>
        new Promise<string>((resolve, reject) => {
          clients.memcached.stats((error, _server, stats) => {
            if (error || !stats) reject(error ?? new Error('no stats returned'));
            else resolve(`memcached ${stats.version}`);
          });
        }),
      ),
    etcd: (timeoutMs) =>
      timed('etcd', timeoutMs, async () => {
        const [status, { alarms }] = await Promise.all([clients.etcd.maintenance.status(), clients.etcd.maintenance.alarm({ action: 'Get', memberID: 0, alarm: 'None' })]);
        // An active alarm (NOSPACE past ETCD_QUOTA_BYTES, CORRUPT) means etcd answers but refuses writes.
        const raised = alarms.map(({ alarm, memberID }) => ({ alarm: String(alarm).toUpperCase(), memberID })).filter(({ alarm }) => alarm !== 'NONE');
        if (raised.length > 0) throw new Error(describeEtcdAlarms(raised));
        return `etcd ${status.version}`;
      }),
  };
}

function describeEtcdAlarms(alarms: { alarm: string; memberID: string }[]): string {
  const which = alarms.map(({ alarm, memberID }) => `${alarm} (member ${memberID})`).join(', ');
  const nospace = alarms.some(({ alarm }) => alarm === 'NOSPACE')
    ? ': etcd is over its space quota (ETCD_QUOTA_BYTES) and refuses writes until compacted, defragmented and the alarm disarmed'
    : ': etcd refuses writes until the alarm is disarmed';
  return `etcd alarm active: ${which}${nospace}`;
}

export type HealthReportRecorder = (entry: { workflowId: string; runId: string; checkedAt: string; healthy: boolean; results: ProbeResult[] }) => Promise<void>;

export function mysqlHealthReportRecorder(clients: Pick<ServiceClients, 'mysql'>): HealthReportRecorder {
  return async ({ workflowId, runId, checkedAt, healthy, results }) => {
    // Keyed by run id, so a retried activity writes the row once.
    await clients.mysql.query(
      'INSERT IGNORE INTO health_reports (workflow_id, run_id, checked_at, healthy, results) VALUES (?, ?, ?, ?, ?)',
      [workflowId, runId, new Date(checkedAt), healthy, JSON.stringify(results)],
    );
  };
}

