// A dependency npm start's supervisor is restarting, as /readyz and the Home page show it: the status
// file it writes, read cheaply, and marked on the readiness the probes report. No servers.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import type { Probe } from '../../db/health.ts';
import { checkReadiness } from '../../services/readiness.ts';
import { createSupervisorStatusReader, supervisorStatusPath, type SupervisorStatus } from '../../services/supervisorStatus.ts';
import { HealthCards } from '../../ui/pages/home.tsx';
import type { DependencyName } from '../../workflows/healthCheck.shared.ts';

const dir = mkdtempSync(join(tmpdir(), 'fleet-supervisor-status-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const since = '2026-01-02T03:04:05.000Z';

describe('the supervisor status file, as the API reads it', () => {
  it('reads nothing when there is no file, and re-reads it only once the cached copy is older than maxAgeMs', async () => {
    const path = supervisorStatusPath(join(dir, 'reader'));
    let now = 0;
    const read = createSupervisorStatusReader(path, { maxAgeMs: 1000, now: () => now });
    expect(await read()).toEqual({});
    mkdirSync(join(dir, 'reader'));
    writeFileSync(path, JSON.stringify({ temporal: { state: 'restarting', restarts: 1, since } }));
    now = 999;
    expect(await read()).toEqual({});
    now = 1000;
    expect(await read()).toEqual({ temporal: { state: 'restarting', restarts: 1, since } });
    writeFileSync(path, '{"half');
    now = 2000;
    expect(await read()).toEqual({});
  });
});

const probe = (name: DependencyName, ok: boolean): Probe => async () => ({ name, ok, latencyMs: 1, detail: ok ? 'fine' : 'ECONNREFUSED' });
const temporal = {
  workflowService: {
    describeNamespace: async () => ({}),
    describeTaskQueue: async () => ({ pollers: [{ identity: 'worker' }] }),
  },
} as unknown as Client;

function readiness(status: SupervisorStatus | undefined, down: DependencyName[] = []) {
  return checkReadiness({
    temporal,
    namespace: 'default',
    taskQueues: ['health-checks'],
    probes: { mysql: probe('mysql', !down.includes('mysql')), memcached: probe('memcached', !down.includes('memcached')), etcd: probe('etcd', !down.includes('etcd')) },
    supervisorStatus: status && (async () => status),
  });
}

describe('readiness with the supervisor status', () => {
  it('marks a dependency whose process is restarting (mariadb is mysql, worker-N the worker), and only those', async () => {
    const result = await readiness(
      {
        mariadb: { state: 'restarting', restarts: 2, since },
        'worker-1': { state: 'restarting', restarts: 1, since },
        etcd: { state: 'running', restarts: 3, since },
      },
      ['mysql'],
    );
    expect(result.ready).toBe(false);
    const byName = Object.fromEntries(result.dependencies.map((d) => [d.name, d]));
    expect(byName.mysql).toMatchObject({ ok: false, detail: 'ECONNREFUSED', restarting: { restarts: 2, since } });
    expect(byName.worker).toMatchObject({ ok: true, restarting: { restarts: 1, since } });
    expect(byName.etcd!.restarting).toBeUndefined();
    expect(byName.temporal!.restarting).toBeUndefined();
  });

  it('lists a restarting process that is no probed dependency, as not ready', async () => {
    const result = await readiness({ moto: { state: 'restarting', restarts: 1, since } });
    expect(result.ready).toBe(false);
    expect(result.dependencies.at(-1)).toEqual({ name: 'moto', ok: false, latencyMs: 0, detail: 'restart 1 under way', restarting: { restarts: 1, since } });
  });

  it('is what the probes say without a supervisor, or once it reports everything running', async () => {
    for (const status of [undefined, { temporal: { state: 'running' as const, restarts: 1, since } }]) {
      const result = await readiness(status);
      expect(result.ready).toBe(true);
      expect(result.dependencies.map((d) => d.name)).toEqual(['temporal', 'worker', 'mysql', 'memcached', 'etcd']);
      expect(result.dependencies.every((d) => d.restarting === undefined)).toBe(true);
    }
  });
});

describe('<HealthCards> on the Home page', () => {
  it('shows a restarting dependency as restarting, with its restart count, beside healthy and down ones', async () => {
    const result = await readiness({ mariadb: { state: 'restarting', restarts: 2, since } }, ['mysql', 'etcd']);
    const html = String(<HealthCards readiness={result} />);
    expect(html).toContain('Not ready: mysql, etcd. Restarting: mysql.');
    expect(html).toMatch(/<div class="card health restarting" data-dependency="mysql">.*?<div class="status">restarting <span class="badge restarting">restart 2<\/span><\/div>/);
    expect(html).toMatch(/<div class="card health down" data-dependency="etcd">.*?<div class="status">unavailable<\/div>/);
    expect(html).toMatch(/<div class="card health ok" data-dependency="memcached">.*?<div class="status">healthy<\/div>/);
    // Without restarts, the summary and the cards are as they were.
    const ready = String(<HealthCards readiness={await readiness(undefined)} />);
    expect(ready).toContain('<p class="summary ok">All dependencies are ready.</p>');
    expect(ready).not.toContain('restarting');
  });
});
