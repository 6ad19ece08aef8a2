// The stack's Node processes run their entry points' compiled JavaScript (scripts/build.mjs), with
// the V8 and malloc settings that fit a small machine.
import { join } from 'node:path';
import { projectRoot, type Config, type HostEnv } from '../config.ts';
import { compiledEntry, currentBuildDir, leanNodeEnv, leanNodeFlags } from './build.mjs';
import { StackError, logTail, runToCompletion, startProcess, type ManagedProcess } from './processes.ts';
import type { StackTaskInputs, StackTaskName, StackTaskResults } from './stackTasks.ts';

export { ensureBuilt } from './build.mjs';

/** The current compiled build, for processes started outside a stack's start (benchmarks start a stack first). */
export function requireCurrentBuild(): string {
  const dir = currentBuildDir();
  if (!dir) throw new StackError('The compiled build (.build/) is missing or older than the sources: start a stack first (it builds what changed).');
  return dir;
}

/** A Node process on an entry point's compiled JavaScript: `workers/main.ts` runs .build/<id>/worker.js. */
export function startNodeProcess(name: string, entry: string, config: Config, env: HostEnv, buildDir: string): ManagedProcess {
  return startProcess({
    name,
    command: process.execPath,
    args: [...leanNodeFlags, compiledEntry(buildDir, entry)],
    logFile: join(config.logDir, `${name}.log`),
    env: { ...env, ...leanNodeEnv },
    cwd: projectRoot,
  });
}

/**
 * Runs one of scripts/stackTasks.ts in a short-lived process and returns its result. With `watch`,
 * a server that exits meanwhile ends the task and is the error (as waitUntilHealthy reports it).
 */
export async function runStackTask<T extends StackTaskName>(
  buildDir: string,
  task: T,
  config: Config,
  input: StackTaskInputs[T],
  watch?: ManagedProcess,
): Promise<StackTaskResults[T]> {
  const serverExited = new AbortController();
  void watch?.exited.then(() => serverExited.abort());
  const { code, stdout, stderr } = await runToCompletion(process.execPath, [...leanNodeFlags, compiledEntry(buildDir, 'scripts/stackTaskMain.ts'), task, JSON.stringify(input)], {
    cwd: projectRoot,
    env: { ...config.env, ...leanNodeEnv },
    signal: serverExited.signal,
  });
  if (watch?.hasExited()) throw new StackError(`${watch.name} exited (${await watch.exited}) while starting; see ${watch.logFile}\n${logTail(watch.logFile)}`);
  if (code !== 0) {
    const message = stderr.trim().replace(/^error: /, '');
    throw new StackError(message || `The stack task ${task} failed (${code}).`);
  }
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as StackTaskResults[T];
}
