// The supervisor's loop on stand-in processes (no servers): restarts with one line each, the status
// file readiness reads, a worker waiting for a server that comes back, and giving up naming the process.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { ManagedProcess } from '../../scripts/processes.ts';
import { superviseStack, type SupervisedStack } from '../../scripts/supervisor.ts';
import { supervisorStatusPath, type SupervisorStatus } from '../../services/supervisorStatus.ts';

const root = mkdtempSync(join(tmpdir(), 'fleet-supervisor-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A process that exits when told to, with the code it is given. */
function fakeProcess(name: string, pid: number) {
  let exit!: (code: number | string) => void;
  let exited = false;
  const process: ManagedProcess = {
    name,
    pid,
    logFile: `/logs/${name}.log`,
    exited: new Promise((resolve) => (exit = resolve)),
    hasExited: () => exited,
    stop: async () => {
      exited = true;
      exit('SIGTERM');
    },
  };
  return { process, crash: (code: number | string) => ((exited = true), exit(code)) };
}

function fakeStack(dir: string, serviceNames: string[], appNames: string[]) {
  let pid = 100;
  const current = new Map<string, ReturnType<typeof fakeProcess>>();
  const start = (name: string) => {
    const fake = fakeProcess(name, pid++);
    current.set(name, fake);
    return fake.process;
  };
  const restarted: string[] = [];
  /** A server's restart resolves only when the test lets it (it is "starting" until then). */
  const pendingStarts = new Map<string, () => void>();
  const stack: SupervisedStack = {
    config: { dataDir: dir },
    services: serviceNames.map(start),
    appProcesses: appNames.map(start),
    restart: async (name) => {
      if (serviceNames.includes(name)) await new Promise<void>((resolve) => pendingStarts.set(name, resolve));
      restarted.push(name);
      return start(name);
    },
  };
  const crash = (name: string, code: number | string = 'SIGKILL') => current.get(name)!.crash(code);
  return { stack, crash, restarted, pendingStarts, current };
}

const policy = { maxRestarts: 2, windowMs: 60_000, initialDelayMs: 1, maxDelayMs: 4 };
const readStatus = (dir: string) => JSON.parse(readFileSync(supervisorStatusPath(dir), 'utf8')) as SupervisorStatus;

describe('superviseStack', () => {
  it('restarts a crashed server with one line, shows it restarting until it is back, and a worker that crashed meanwhile waits for it', async () => {
    const dir = mkdtempSync(join(root, 'heal-'));
    const fake = fakeStack(dir, ['temporal', 'mariadb'], ['worker-1']);
    const lines: string[] = [];
    const supervisor = superviseStack(fake.stack, { policy, log: (line) => lines.push(line), giveUp: (message) => lines.push(`GAVE UP ${message}`) });
    expect(Object.values(readStatus(dir)).map((s) => [s.state, s.restarts])).toEqual([['running', 0], ['running', 0], ['running', 0]]);

    fake.crash('temporal');
    fake.crash('worker-1', 1);
    await vi.waitFor(() => expect(fake.pendingStarts.has('temporal')).toBe(true));
    expect(lines).toEqual([
      'temporal exited (SIGKILL); restarting it in 0 s (restart 1 of 2 in 1 min). Its log: /logs/temporal.log',
      'worker-1 exited (1); restarting it in 0 s (restart 1 of 2 in 1 min). Its log: /logs/worker-1.log',
    ]);
    expect(readStatus(dir)).toMatchObject({ temporal: { state: 'restarting', restarts: 1 }, 'worker-1': { state: 'restarting', restarts: 1 }, mariadb: { state: 'running' } });
    // Temporal is still starting: the worker is not started against it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fake.restarted).toEqual([]);

    fake.pendingStarts.get('temporal')!();
    await vi.waitFor(() => expect(fake.restarted).toEqual(['temporal', 'worker-1']));
    await vi.waitFor(() => expect(readStatus(dir)).toMatchObject({ temporal: { state: 'running', restarts: 1 }, 'worker-1': { state: 'running', restarts: 1 } }));

    supervisor.stop();
    expect(() => readStatus(dir)).toThrow(/ENOENT/);
    // Once stopped, an exit (the stack stopping its processes) is not restarted.
    fake.crash('mariadb', 'SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fake.pendingStarts.has('mariadb')).toBe(false);
    expect(lines).toHaveLength(2);
  });

  it('gives up, naming the process, at one crash more than allowed within the window', async () => {
    const dir = mkdtempSync(join(root, 'give-up-'));
    const fake = fakeStack(dir, [], ['api']);
    const lines: string[] = [];
    const gaveUp: string[] = [];
    superviseStack(fake.stack, { policy, log: (line) => lines.push(line), giveUp: (message) => gaveUp.push(message) });
    for (const restarts of [1, 2]) {
      fake.crash('api', 1);
      await vi.waitFor(() => expect(fake.restarted).toHaveLength(restarts));
    }
    fake.crash('api', 1);
    await vi.waitFor(() => expect(gaveUp).toHaveLength(1));
    expect(gaveUp[0]).toBe('api crashed 3 times in 1 min (last exit: 1), more than SUPERVISOR_MAX_RESTARTS=2 allows; see /logs/api.log. Stopped the stack.');
    expect(lines.map((line) => line.replace(/ in \d s /, ' in … '))).toEqual([
      'api exited (1); restarting it in … (restart 1 of 2 in 1 min). Its log: /logs/api.log',
      'api exited (1); restarting it in … (restart 2 of 2 in 1 min). Its log: /logs/api.log',
    ]);
    expect(fake.restarted).toEqual(['api', 'api']);
  });
});
