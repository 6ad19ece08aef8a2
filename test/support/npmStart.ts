// `npm start` (scripts/start.ts) as a child process, as a user runs it, and waiting on what it prints.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { vi } from 'vitest';
import { hostEnv, projectRoot } from '../../config.ts';

export interface Started {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

export function runStart(env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'scripts/start.ts')], { cwd: projectRoot, env: hostEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exit };
}

/** Waits until the output shows `text`; stops waiting when start exits, and then fails. */
export async function waitForOutput(started: Started, text: string, timeoutMs: number): Promise<void> {
  await vi.waitFor(() => {
    if (!started.output().includes(text) && started.child.exitCode === null) throw new Error(`no "${text}" within ${timeoutMs} ms:\n${started.output()}`);
  }, { timeout: timeoutMs, interval: 100 });
  if (!started.output().includes(text)) throw new Error(`start exited early:\n${started.output()}`);
}
