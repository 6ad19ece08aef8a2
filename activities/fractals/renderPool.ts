// Up to `threads` render threads (node:worker_threads) in one fractal worker process: the render is
// CPU-bound and synchronous, so one thread per core is what lets a process use every core it has.
// Threads start when jobs need them and stop once idle for `idleMs`, so an idle worker holds none.
// Jobs wait in FIFO order while every thread is busy; the PNG comes back transferred, not copied.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, parentPort } from 'node:worker_threads';
import { projectRoot, runningBuildDir } from '../../configValues.ts';
import type { JuliaView, RenderedImage } from './julia.ts';

interface JobMessage {
  id: number;
  view: JuliaView;
}
type ResultMessage =
  | { id: number; ok: true; png: ArrayBuffer; checksum: string; duration: number }
  | { id: number; ok: false; message: string };

export interface RenderPool {
  /** The most threads it runs at once. */
  readonly threads: number;
  /** Renders `view` on the next free thread (started if none is); a signal that aborts drops it from the queue, or stops its thread. */
  render(view: JuliaView, options?: { signal?: AbortSignal }): Promise<RenderedImage>;
  /** Jobs running, jobs waiting for a thread, and threads running (busy, idle or starting). */
  stats(): { busy: number; queued: number; running: number };
  /** Ends the threads; waiting and running jobs fail. */
  close(): Promise<void>;
}

export interface RenderPoolOptions {
  threads: number;
  /** A thread with no job for this long is stopped (default 30 s; config FRACTAL_RENDER_IDLE_SECONDS). */
  idleMs?: number;
  /** The thread's module; tests pass one of their own. Default: renderThread.ts beside this file. */
  entry?: URL;
}

interface Job {
  id: number;
  view: JuliaView;
  signal: AbortSignal | undefined;
  resolve(image: RenderedImage): void;
  reject(error: Error): void;
  onAbort?: () => void;
}

interface Slot {
  thread: Worker;
  job: Job | undefined;
  /** Set while the thread waits for a job; stops it when it fires. */
  idleTimer: NodeJS.Timeout | undefined;
}

export const DEFAULT_RENDER_IDLE_MS = 30_000;

/** Starts a thread on its module: compiled JavaScript as it is, TypeScript through tsx's loader (see typescriptThread.mjs). */
function startThread(entry: URL): Worker {
  if (entry.pathname.endsWith('.js')) return new Worker(entry);
  return new Worker(pathToFileURL(join(projectRoot, 'activities', 'fractals', 'typescriptThread.mjs')), { workerData: { entry: entry.href } });
}

/** renderThread.ts, or its compiled build when this process runs one (scripts/build.mjs). */
const defaultEntry = runningBuildDir ? pathToFileURL(join(runningBuildDir, 'render-thread.js')) : new URL('./renderThread.ts', import.meta.url);

export function createRenderPool(options: RenderPoolOptions): RenderPool {
  const threads = Math.max(1, Math.floor(options.threads));
  const idleMs = Math.max(0, options.idleMs ?? DEFAULT_RENDER_IDLE_MS);
  const entry = options.entry ?? defaultEntry;
  const queue: Job[] = [];
  const slots: Slot[] = [];
  let nextId = 1;
  let closed = false;

  const settle = (job: Job) => {
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
  };

  const run = (slot: Slot, job: Job) => {
    clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    slot.job = job;
    slot.thread.postMessage({ id: job.id, view: job.view } satisfies JobMessage);
  };

  /** A thread left without a job is stopped after idleMs, unless a job reaches it first. */
  const awaitJob = (slot: Slot) => {
    slot.idleTimer = setTimeout(() => {
      if (slot.job || closed) return;
      slots.splice(slots.indexOf(slot), 1); // given no job from now on, and not replaced
      void slot.thread.terminate();
    }, idleMs);
    slot.idleTimer.unref();
  };

  /** Queued jobs go to idle threads first, then to new threads while fewer than `threads` run. */
  const dispatch = () => {
    for (const slot of slots) {
      if (queue.length === 0) break;
      if (!slot.job) run(slot, queue.shift()!);
    }
    while (queue.length > 0 && slots.length < threads) {
      const slot = spawn();
      slots.push(slot);
      run(slot, queue.shift()!);
    }
    for (const slot of slots) if (!slot.job && !slot.idleTimer) awaitJob(slot);
  };

  const spawn = (): Slot => {
    const slot: Slot = { thread: startThread(entry), job: undefined, idleTimer: undefined };
    // Threads do not keep the process alive: a process that is done exits without closing its pool.
    slot.thread.unref();
    slot.thread.on('message', (message: ResultMessage) => {
      const job = slot.job;
      if (!job || job.id !== message.id) return;
      slot.job = undefined;
      settle(job);
      if (message.ok) job.resolve({ png: Buffer.from(message.png), checksum: message.checksum, duration: message.duration });
      else job.reject(new Error(`Render failed: ${message.message}`));
      dispatch();
    });
    let error: Error | undefined;
    slot.thread.on('error', (e) => (error = e));
    slot.thread.on('exit', (code) => {
      clearTimeout(slot.idleTimer);
      const job = slot.job;
      slot.job = undefined;
      if (job) {
        settle(job);
        job.reject(job.signal?.aborted ? abortError(job.signal) : new Error(`Render thread exited (code ${code})${error ? `: ${error.message}` : ''} during the render`));
      }
      const index = slots.indexOf(slot);
      if (index >= 0) slots.splice(index, 1);
      if (closed) return;
      // A thread that died (or was stopped for a cancelled job) is replaced by a new one if a job waits.
      dispatch();
    });
    return slot;
  };

  return {
    threads,
    render(view, { signal } = {}) {
      if (closed) return Promise.reject(new Error('The render pool is closed'));
      if (signal?.aborted) return Promise.reject(abortError(signal));
      return new Promise<RenderedImage>((resolve, reject) => {
        const job: Job = { id: nextId++, view, signal, resolve, reject };
        if (signal) {
          job.onAbort = () => {
            const waiting = queue.indexOf(job);
            if (waiting >= 0) {
              queue.splice(waiting, 1);
              settle(job);
              reject(abortError(signal));
              return;
            }
            // Running: a synchronous render cannot be interrupted, so its thread is stopped (and replaced).
            const slot = slots.find((s) => s.job === job);
            if (slot) void slot.thread.terminate();
          };
          signal.addEventListener('abort', job.onAbort, { once: true });
        }
        queue.push(job);
        dispatch();
      });
    },
    stats() {
      return { busy: slots.filter((s) => s.job).length, queued: queue.length, running: slots.length };
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) {
        settle(job);
        job.reject(new Error('The render pool is closed'));
      }
      for (const slot of slots) clearTimeout(slot.idleTimer);
      await Promise.all(slots.map((slot) => slot.thread.terminate()));
    },
  };
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('The render was cancelled');
}

/**
 * A render thread's loop: runs `render` for each job the pool posts and answers with the PNG's bytes
 * transferred. Used by renderThread.ts (and by tests' own thread modules).
 */
export function serveRenders(render: (view: JuliaView) => RenderedImage): void {
  const port = parentPort;
  if (!port) throw new Error('serveRenders() runs in a render thread, not in the main thread');
  port.on('message', ({ id, view }: JobMessage) => {
    let image: RenderedImage;
    try {
      image = render(view);
    } catch (error) {
      port.postMessage({ id, ok: false, message: error instanceof Error ? error.message : String(error) } satisfies ResultMessage);
      return;
    }
    const png = ownArrayBuffer(image.png);
    port.postMessage({ id, ok: true, png, checksum: image.checksum, duration: image.duration } satisfies ResultMessage, [png]);
  });
}

/**
 * The PNG's bytes as an ArrayBuffer of their own, to transfer. A large Buffer usually owns its memory
 * whole; a small one may be a slice of Node's shared pool, which must not be transferred: it is copied.
 */
function ownArrayBuffer(bytes: Buffer): ArrayBuffer {
  const { buffer } = bytes;
  if (buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength) return buffer;
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
