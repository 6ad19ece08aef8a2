// CPU-load activities: the burn that load slots run one slice each, and the memcached mirror of
// each target's switch that the control worker writes.
import { hostname } from 'node:os';
import { Context } from '@temporalio/activity';
import type { ServiceClients } from '../db/clients.ts';
import type { BurnRequest, CpuLoadState, CpuSample } from '../workflows/cpuLoad.shared.ts';
import { startBurnThread, type BurnProgress } from './cpuBurnThread.ts';

/** What a load slot reports about each slice it runs (tests use it to time starts and stops). */
export interface SliceEvent {
  type: 'start' | 'end';
  /** Date.now() when it happened. */
  at: number;
  /** The slot's worker ID (`<base>/<slot>`). */
  workerId: string;
  request: BurnRequest;
  /** For 'end': how the slice ended. */
  outcome?: 'completed' | 'cancelled' | 'failed';
  /** For 'end': what the slice's thread measured last (none if it never reported). */
  progress?: BurnProgress;
}

/** The heartbeat details of a running slice: who burns, and the CPU its thread measured so far. */
export interface BurnHeartbeat {
  workerId: string;
  cpuMs: number;
  wallMs: number;
  cpuPercent: number;
}

export interface BurnOptions {
  /** Names the load worker; each slot's samples say `<workerId>/<slot>` (default `pid@host`). */
  workerId?: string;
  /** Heartbeat period: the thread reports its CPU this often (default 100 ms; the worker throttles sends to 200 ms). */
  heartbeatEveryMs?: number;
  onSlice?: (event: SliceEvent) => void;
}

export function defaultLoadWorkerId(): string {
  return `${process.pid}@${hostname()}`;
}

const percentOfOneCore = (progress: Pick<BurnProgress, 'cpuMs' | 'wallMs'>) =>
  progress.wallMs > 0 ? Math.round((progress.cpuMs / progress.wallMs) * 1000) / 10 : 0;

/** Slot numbers from 1: each running slice holds the lowest free one, so a slot's chart line goes on. */
function slotNumbers() {
  const taken = new Set<number>();
  return {
    take(): number {
      let slot = 1;
      while (taken.has(slot)) slot++;
      taken.add(slot);
      return slot;
    },
    release: (slot: number) => void taken.delete(slot),
  };
}

export function createCpuBurnActivities(options: BurnOptions = {}) {
  const baseId = options.workerId ?? defaultLoadWorkerId();
  const heartbeatEveryMs = options.heartbeatEveryMs ?? 100;
  const slots = slotNumbers();
  return {
    /**
     * Burns one core for `sliceMs` in a thread of its own, heartbeating with the CPU that thread
     * measured; a cancellation (OFF, delivered with a heartbeat answer) ends the thread at once.
     * The result is the thread's CPU over the wall time, in percent of one core.
     */
    async burnCpu(request: BurnRequest): Promise<CpuSample> {
      const context = Context.current();
      const slot = slots.take();
      const workerId = `${baseId}/${slot}`;
      const startedAt = Date.now();
      let outcome: SliceEvent['outcome'] = 'failed';
      let last: BurnProgress | undefined;
      options.onSlice?.({ type: 'start', at: startedAt, workerId, request });
      const thread = startBurnThread(request.sliceMs, heartbeatEveryMs);
      const cancel = () => void thread.stop(context.cancellationSignal.reason);
      try {
        thread.onProgress((progress) => {
          last = progress;
          context.heartbeat({ workerId, cpuMs: Math.round(progress.cpuMs), wallMs: Math.round(progress.wallMs), cpuPercent: percentOfOneCore(progress) } satisfies BurnHeartbeat);
        });
        if (context.cancellationSignal.aborted) cancel();
        else context.cancellationSignal.addEventListener('abort', cancel, { once: true });
        const done = await thread.finished.catch((error: unknown) => {
          if (context.cancellationSignal.aborted) outcome = 'cancelled';
          throw error; // a CancelledFailure reports the slice as cancelled
        });
        outcome = 'completed';
        return {
          workerId,
          pid: process.pid,
          startedAt: new Date(startedAt).toISOString(),
          endedAt: new Date().toISOString(),
          wallMs: Math.round(done.wallMs),
          cpuMs: Math.round(done.cpuMs),
          cpuPercent: percentOfOneCore(done),
        };
      } finally {
        context.cancellationSignal.removeEventListener('abort', cancel);
        await thread.stop(new Error('slice over'));
        slots.release(slot);
        options.onSlice?.({ type: 'end', at: Date.now(), workerId, request, outcome, progress: last });
      }
    },
  };
}

export function createCpuLoadActivities(clients: Pick<ServiceClients, 'memcached'>) {
  return {
    /**
     * Mirrors a target's switch in memcached, as the seed's web app did with
     * `mc.set('CPULoad', state, time=3600)`: the value expires with the TTL.
     */
    async mirrorCpuLoadKey(request: { key: string; value: CpuLoadState; expirySeconds: number }): Promise<void> {
      const stored = await clients.memcached.set(request.key, request.value, { expires: request.expirySeconds });
      if (!stored) throw new Error(`memcached did not store ${request.key}`);
    },
  };
}

export type CpuBurnActivities = ReturnType<typeof createCpuBurnActivities>;
export type CpuLoadActivities = ReturnType<typeof createCpuLoadActivities>;
