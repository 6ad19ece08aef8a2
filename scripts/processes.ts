// Child-process supervision for the local stack: start a server with its log under .data/logs,
// wait until it answers, and stop it (SIGTERM, then SIGKILL) without leaving orphans behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, existsSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A problem with the local set-up, explained in one line that names the fix. */
export class StackError extends Error {
  override name = 'StackError';
}

export interface ManagedProcess {
  name: string;
  pid: number;
  logFile: string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  hasExited(): boolean;
  stop(timeoutMs?: number): Promise<void>;
}

export interface StartProcessOptions {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env: Record<string, string | undefined>;
  cwd?: string;
}

/**
 * Runs a short-lived process to its end: its exit code (or signal, or spawn error code) and what it
 * wrote. An aborted `signal` kills it.
 */
export async function runToCompletion(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined>; signal?: AbortSignal },
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, signal: options.signal, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const code = await new Promise<number | string>((resolve) => {
    child.once('error', (error) => resolve((error as NodeJS.ErrnoException).code ?? 'spawn-error'));
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? signal ?? 'unknown'));
  });
  return { code, stdout, stderr };
}

export function startProcess(options: StartProcessOptions): ManagedProcess {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const logFd = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', logFd, logFd],
      // Its own process group: Ctrl-C reaches only the supervisor, which stops children in order.
      detached: true,
    });
  } finally {
    closeSync(logFd);
  }
  let exitedWith: number | string | undefined;
  const exited = new Promise<number | string>((resolve) => {
    child.once('error', (error) => {
      exitedWith = (error as NodeJS.ErrnoException).code ?? 'spawn-error';
      resolve(exitedWith);
    });
    child.once('exit', (code, signal) => {
      exitedWith = code ?? signal ?? 'unknown';
      resolve(exitedWith);
    });
  });
  return {
    name: options.name,
    pid: child.pid ?? -1,
    logFile: options.logFile,
    exited,
    hasExited: () => exitedWith !== undefined,
    async stop(timeoutMs = 15_000) {
      if (exitedWith !== undefined) return;
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(timeoutMs, false, { ref: false })]);
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** The last lines of a log, to explain why a server did not come up. */
export function logTail(logFile: string, lines = 5): string {
  if (!existsSync(logFile)) return '';
  return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Polls `check` until it returns true. Fails early, with the log's tail, if the process dies first.
 */
export async function waitUntilHealthy(
  what: string,
  check: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; process?: ManagedProcess },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError = '';
  for (;;) {
    if (options.process?.hasExited()) {
      const code = await options.process.exited;
      throw new StackError(
        `${what} exited (${code}) while starting; see ${options.process.logFile}\n${logTail(options.process.logFile)}`,
      );
    }
    try {
      if (await check()) return;
    } catch (error) {
      lastError = (error as Error).message;
    }
    if (Date.now() > deadline) {
      // Not left running half-started: the caller gets no handle to stop it (a restart would leak it).
      await options.process?.stop();
      const hint = options.process ? `; see ${options.process.logFile}` : '';
      throw new StackError(`${what} did not become healthy within ${options.timeoutMs / 1000} s${lastError ? ` (${lastError})` : ''}${hint}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}

export interface PortClaim {
  /** What listens there, e.g. "Temporal". */
  service: string;
  host: string;
  port: number;
  /** The setting that moves it, e.g. "TEMPORAL_ADDRESS". */
  setting: string;
}

export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Fails with one line naming every port already taken, before anything is started. */
export async function assertPortsFree(claims: PortClaim[]): Promise<void> {
  const taken: PortClaim[] = [];
  for (const claim of claims) if (!(await isPortFree(claim.host, claim.port))) taken.push(claim);
  if (taken.length === 0) return;
  const list = taken.map((c) => `${c.port} (${c.service}, set ${c.setting})`).join(', ');
  throw new StackError(`Port${taken.length > 1 ? 's' : ''} already in use: ${list}. Another stack is probably running: stop it, or move this one to free ports.`);
}

/** Where test and benchmark stacks lease the ports they picked (one directory per port). */
const PORT_LEASES = join(tmpdir(), 'fleet-port-leases');
/** Long enough for a stack to start and bind what it was given; the OS guards a port from then on. */
const PORT_LEASE_MS = 10 * 60_000;

/**
 * A free port for a test or benchmark stack (that must not collide with a running one, nor with
 * another stack starting at the same moment). Picked below Linux's ephemeral range (32768+), where no
 * `bind(0)` and no outgoing connection lands meanwhile, and leased to this caller for ten minutes by
 * an atomic mkdir: two processes picking at once never get the same port. (Before the leases, two test
 * files starting stacks together were each given a port the other's memcached or etcd then bound.)
 */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  mkdirSync(PORT_LEASES, { recursive: true });
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * 22_000);
    if (leasePort(port) && (await isPortFree(host, port))) return port;
  }
  throw new StackError(`Found no free port on ${host} between 10000 and 31999.`);
}

/** True when this call now holds the port's lease (a new one, or one taken over after it expired). */
function leasePort(port: number): boolean {
  const lease = join(PORT_LEASES, String(port));
  try {
    mkdirSync(lease);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  try {
    if (Date.now() - statSync(lease).mtimeMs < PORT_LEASE_MS) return false;
    rmSync(lease, { recursive: true, force: true });
    mkdirSync(lease);
    return true;
  } catch {
    return false; // another caller took it over first
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * When a process started (field 22 of /proc/<pid>/stat, in clock ticks since boot), or undefined if
 * there is no such process (or no /proc). With the PID it names one process: a PID alone may since
 * have been reused by another.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces and ')': count after the last one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether `pid` is still the process whose start time was recorded (never true without a recorded time). */
export function isSameProcess(pid: number, startTime: string | undefined): boolean {
  return startTime !== undefined && isAlive(pid) && processStartTime(pid) === startTime;
}

/** The first of `count` consecutive ports that are all free right now (per-instance ports of tests and benchmarks). */
export async function findFreePortRange(count: number, host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below Linux's ephemeral range (32768+), and leased as findFreePort's are.
    const base = 10_000 + Math.floor(Math.random() * (22_000 - count));
    let free = true;
    for (let port = base; port < base + count && free; port++) free = leasePort(port) && (await isPortFree(host, port));
    if (free) return base;
  }
  throw new StackError(`Found no ${count} consecutive free ports on ${host}.`);
}
