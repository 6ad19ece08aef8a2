// `npm start` (scripts/start.ts) as a child process, as a user runs it: for tests and benchmarks that
// need the real thing, supervisor included.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { hostEnv, projectRoot } from '../config.ts';
import { leanNodeFlags } from './build.mjs';

export interface Started {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

export function runStart(env: Record<string, string>, args: string[] = []): Started {
  // As package.json's start script runs it: compiled, through scripts/launch.mjs.
  const child = spawn(process.execPath, [...leanNodeFlags, join(projectRoot, 'scripts/launch.mjs'), 'scripts/start.ts', ...args], { cwd: projectRoot, env: hostEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exit };
}
