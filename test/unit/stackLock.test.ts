// A stale stack lock names the children its stack left behind; the next start stops them, but only
// a PID that is still the process that stack started (same start time), never one reused since.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive, processStartTime } from '../../scripts/processes.ts';
import { acquireLock } from '../../scripts/stack.ts';

const started: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const child of started.splice(0)) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A data dir whose lock says a dead stack left `child` behind, started at `startTime`. */
function staleLock(child: { name: string; pid: number; startTime?: string }): string {
  const dataDir = mkdtempSync(join(tmpdir(), 'stack-lock-'));
  dirs.push(dataDir);
  // Its stack's PID is above Linux's largest (2^22): that stack is gone.
  writeFileSync(join(dataDir, 'stack.lock.json'), JSON.stringify({ pid: 2 ** 22 + 1, startTime: '1', children: [child] }));
  return dataDir;
}

function bystander(): ChildProcess & { pid: number } {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  started.push(child);
  return child as ChildProcess & { pid: number };
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode ? resolve() : child.once('exit', () => resolve())));

describe('taking over a stale stack lock', () => {
  it('leaves alone a process that has the PID of a left-behind child but started at another time', async () => {
    const other = bystander();
    const lines: string[] = [];
    acquireLock({ dataDir: staleLock({ name: 'mariadb', pid: other.pid, startTime: '12345' }) }, (line) => lines.push(line));

    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(isAlive(other.pid)).toBe(true);
    expect(other.signalCode).toBeNull();
    expect(lines.join('\n')).toContain(`Not stopping pid ${other.pid}`);
  });

  it('stops a left-behind child that is still the process the stack started', async () => {
    const leftBehind = bystander();
    const lines: string[] = [];
    acquireLock({ dataDir: staleLock({ name: 'mariadb', pid: leftBehind.pid, startTime: processStartTime(leftBehind.pid) }) }, (line) => lines.push(line));

    await exited(leftBehind);
    expect(leftBehind.signalCode).toBe('SIGKILL');
    expect(lines.join('\n')).toContain(`Stopping mariadb (pid ${leftBehind.pid})`);
  });
});
