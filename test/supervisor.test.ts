// npm start's supervisor against a real stack: servers and the worker killed outright (SIGKILL) come
// back, servers on their data, with one log line each; readiness shows them restarting, then ready;
// a workflow accepted before the kills completes after them; one that keeps crashing stops the stack.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createAwsClients } from '../activities/nodes/aws.ts';
import { hostEnv, loadConfig } from '../config.ts';
import { isAlive, isPortFree } from '../scripts/processes.ts';
import { LOCAL_TARGET_GROUP } from '../scripts/localFleet.ts';
import { freeStackPorts, readLockedProcesses } from '../scripts/stack.ts';
import { runStart, waitForOutput, type Started } from './support/npmStart.ts';
import { locateTemporalCli } from '../scripts/temporalCli.ts';
import { mintToken } from '../scripts/token.ts';

const readPids = readLockedProcesses;

interface Readyz {
  status: string;
  dependencies: { name: string; ok: boolean; restarting?: { restarts: number } }[];
}

describe('npm start supervises its processes (scripts/supervisor.ts)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fleet-sup-'));
  let started: Started | undefined;
  afterAll(async () => {
    if (started && started.child.exitCode === null) started.child.kill('SIGINT');
    await started?.exit;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('restarts killed servers on their data, workflows ride through, and a process that keeps crashing stops the stack', async () => {
    // One restart allowed per process: the second kill of memcached, at the end, stops the stack.
    const env = { ...(await freeStackPorts()), FLEET_DATA_DIR: dataDir, SUPERVISOR_MAX_RESTARTS: '1', API_INSTANCES: '1', FRACTAL_WORKERS: '0' };
    const config = loadConfig(env);
    const api = `http://127.0.0.1:${config.api.port}`;
    started = runStart(env);
    await waitForOutput(started, 'Press Ctrl-C to stop.', 120_000);
    const readyz = async () => (await (await fetch(`${api}/readyz`)).json()) as Readyz;
    expect((await readyz()).status).toBe('ready');

    // Accepted by Temporal before the kills; its first task is due only after them.
    const cli = locateTemporalCli(config, hostEnv().PATH)!;
    const address = ['--address', config.temporal.address];
    const before = spawnSync(cli, ['workflow', 'start', ...address, '--type', 'healthCheck', '--task-queue', 'health-checks', '--workflow-id', 'before-the-kills', '--input', '{}', '--start-delay', '8s'], { encoding: 'utf8' });
    expect(before.status, before.stderr).toBe(0);

    // What readiness says while they come back: polled without waiting for the previous answer.
    const seenRestarting = new Set<string>();
    const poller = setInterval(() => {
      readyz().then((r) => r.dependencies.forEach((d) => d.restarting && seenRestarting.add(d.name)), () => undefined);
    }, 100);
    // The worker too: restarted only once the servers it needs are back, so it does not crash again for want of them.
    const killed = ['temporal', 'mariadb', 'memcached', 'etcd', 'moto', 'worker-1'];
    const pids = readPids(dataDir);
    try {
      for (const name of killed) process.kill(pids.get(name)!, 'SIGKILL');
      for (const name of killed) await waitForOutput(started, `${name} exited (SIGKILL); restarting it in 0.5 s (restart 1 of 1 in 5 min)`, 10_000);
      // The worker builds its workflow bundles again after the servers are back: slow on a loaded machine.
      await vi.waitFor(async () => {
        const r = await readyz();
        expect(r.status, JSON.stringify(r.dependencies.filter((d) => !d.ok))).toBe('ready');
      }, { timeout: 90_000, interval: 250 });
    } finally {
      clearInterval(poller);
    }
    // Temporal and MariaDB take seconds to come back: readiness showed what was restarting (how many
    // of them a 100 ms poll catches depends on how fast each came back on this machine).
    expect([...seenRestarting].some((name) => name === 'temporal' || name === 'mysql'), [...seenRestarting].join()).toBe(true);
    expect([...seenRestarting].filter((name) => !['temporal', 'mysql', 'memcached', 'etcd', 'moto', 'worker'].includes(name))).toEqual([]);
    expect((await readyz()).dependencies.filter((d) => d.restarting)).toEqual([]);
    for (const name of killed) expect(started.output().split('\n').filter((line) => line.startsWith(`${name} exited`)), name).toHaveLength(1);
    // The lock names the new processes, so a stack killed now would still have them stopped.
    const after = readPids(dataDir);
    for (const name of killed) {
      expect(after.get(name), name).not.toBe(pids.get(name));
      expect(isAlive(after.get(name)!), name).toBe(true);
    }
    // moto's target group, which it forgot, is back.
    const aws = createAwsClients(config.aws);
    try {
      const groups = await aws.elb(config.aws.region).send(new DescribeTargetGroupsCommand({ Names: [LOCAL_TARGET_GROUP] }));
      expect(groups.TargetGroups?.map((g) => g.TargetGroupName)).toEqual([LOCAL_TARGET_GROUP]);
    } finally {
      aws.destroy();
    }

    // The workflow accepted before the kills completes, and new work runs.
    const token = await mintToken(config, 'supervisor-test', 'operator');
    const codec = ['--codec-endpoint', `${api}/codec`, '--codec-auth', `Bearer ${token}`];
    const result = spawnSync(cli, ['workflow', 'result', ...address, ...codec, '--workflow-id', 'before-the-kills', '-o', 'json'], { encoding: 'utf8', timeout: 60_000 });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/"healthy":\s*true/);
    const fresh = spawnSync(cli, ['workflow', 'execute', ...address, ...codec, '--type', 'healthCheck', '--task-queue', 'health-checks', '--workflow-id', 'after-the-kills', '--input', '{}', '-o', 'json'], { encoding: 'utf8', timeout: 30_000 });
    expect(fresh.status, fresh.stderr).toBe(0);
    expect(fresh.stdout).toMatch(/"healthy":\s*true/);
    expect(started.child.exitCode).toBeNull();

    // A second crash of memcached within the window is one more than allowed: the stack stops, naming it.
    process.kill(after.get('memcached')!, 'SIGKILL');
    expect(await started.exit).toBe(1);
    const errors = started.output().split('\n').filter((line) => line.startsWith('error:'));
    expect(errors).toEqual([expect.stringMatching(/^error: memcached crashed 2 times in 5 min \(last exit: SIGKILL\), more than SUPERVISOR_MAX_RESTARTS=1 allows; see \S+memcached\.log\. Stopped the stack\.$/)]);
    for (const port of [config.api.port, config.mysql.port, config.etcd.port, Number(config.temporal.address.split(':')[1])]) expect(await isPortFree('127.0.0.1', port), String(port)).toBe(true);
  }, 240_000);
});
