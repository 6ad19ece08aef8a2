// One CPU-load slice's burn, in a worker thread of its own (node:worker_threads): a busy loop keeps
// one core busy while the process's event loop (workflows, other activities, heartbeats) stays free.
// The thread is plain JavaScript given as a string, so it needs no loader and no file beside a bundle.
import { Worker } from 'node:worker_threads';

/** What the thread measured so far: its own CPU time (user + system) over the wall time since it began. */
export interface BurnProgress {
  cpuMs: number;
  wallMs: number;
  /** How the CPU was measured: the thread's own (`thread`), or the whole process's where no per-thread measure exists. */
  measure: 'thread' | 'process';
  done: boolean;
}

export interface BurnThread {
  /** Every `reportEveryMs`, then once with `done` when the slice is over. */
  onProgress(listener: (progress: BurnProgress) => void): void;
  /** Resolves with the last report once the slice is over; rejects if the thread fails or is stopped first. */
  readonly finished: Promise<BurnProgress>;
  /** Ends the thread at once (V8 stops it inside its busy loop); `finished` rejects with `reason`. */
  stop(reason: unknown): Promise<void>;
}

// The thread's own CPU: utime + stime of /proc/thread-self/stat (Linux, in USER_HZ = 100 ticks a
// second), else process.threadCpuUsage() (Node 23.9+), else the whole process's (marked as such).
const threadSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
function procStat() {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = (Number(fields[11]) + Number(fields[12])) * 10;
    return Number.isFinite(ms) ? ms : undefined;
  } catch {
    return undefined;
  }
}
const usageMs = (u) => (u.user + u.system) / 1000;
const measure = procStat() !== undefined ? 'thread' : typeof process.threadCpuUsage === 'function' ? 'thread' : 'process';
const cpuNow = procStat() !== undefined ? procStat : typeof process.threadCpuUsage === 'function' ? () => usageMs(process.threadCpuUsage()) : () => usageMs(process.cpuUsage());
const { sliceMs, reportEveryMs } = workerData;
const cpu0 = cpuNow();
const t0 = performance.now();
const report = (done) => parentPort.postMessage({ cpuMs: cpuNow() - cpu0, wallMs: performance.now() - t0, measure, done });
let x = 0;
let nextReport = reportEveryMs;
for (let elapsed = 0; elapsed < sliceMs; elapsed = performance.now() - t0) {
  for (let i = 1; i < 20000; i++) x = (x + Math.sqrt(i * 2)) % 1e9; // the seed's a = 2 ** 0.5, kept busy
  if (elapsed >= nextReport) {
    report(false);
    nextReport += reportEveryMs;
  }
}
globalThis.sink = x; // kept, so the loop is not optimised away
report(true);
`;

/** Starts burning one core for `sliceMs` in a new thread, reporting progress every `reportEveryMs`. */
export function startBurnThread(sliceMs: number, reportEveryMs = 100): BurnThread {
  const thread = new Worker(threadSource, { eval: true, workerData: { sliceMs, reportEveryMs } });
  thread.unref(); // a burning thread never keeps the process alive on its own
  const listeners: ((progress: BurnProgress) => void)[] = [];
  let stopReason: { reason: unknown } | undefined;
  const finished = new Promise<BurnProgress>((resolve, reject) => {
    thread.on('message', (progress: BurnProgress) => {
      for (const listener of listeners) listener(progress);
      if (progress.done) resolve(progress);
    });
    thread.on('error', reject);
    // After a resolve (the slice's end) these change nothing.
    thread.on('exit', (code) => reject(stopReason ? stopReason.reason : new Error(`The CPU burn thread exited (code ${code}) before its slice was over`)));
  });
  finished.catch(() => undefined); // the caller awaits it; a stop before that is not an unhandled rejection
  return {
    onProgress: (listener) => void listeners.push(listener),
    finished,
    async stop(reason) {
      stopReason ??= { reason };
      await thread.terminate();
    },
  };
}
