// CPU-load activities: the burn that load workers run one slice at a time, and the memcached
// mirror of each target's switch that the control worker writes.
import { hostname } from 'node:os';
import { Context } from '@temporalio/activity';
import type { ServiceClients } from '../db/clients.ts';
import type { BurnRequest, CpuLoadState, CpuSample } from '../workflows/cpuLoad.shared.ts';

/** What a load worker reports about each slice it runs (tests use it to time starts and stops). */
export interface SliceEvent {
  type: 'start' | 'end';
  /** Date.now() when it happened. */
  at: number;
  workerId: string;
  request: BurnRequest;
  /** For 'end': how the slice ended. */
  outcome?: 'completed' | 'cancelled' | 'failed';
}

export interface BurnOptions {
  /** Names the load worker in samples (default `pid@host`, like a Temporal worker identity). */
  workerId?: string;
  /** Longest busy stretch between looks at cancellation (default 20 ms). */
  burstMs?: number;
  /** Heartbeat period (default 100 ms; the load worker throttles sends to 200 ms). */
  heartbeatEveryMs?: number;
  onSlice?: (event: SliceEvent) => void;
}

export function defaultLoadWorkerId(): string {
  return `${process.pid}@${hostname()}`;
}

let sink = 0; // keeps the busy loop's result alive so it is not optimised away

/** Spins for `ms` milliseconds, like the seed's `a = 2 ** 0.5` loop. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  let x = sink;
  while (performance.now() < until) {
    for (let i = 1; i < 2000; i++) x = (x + Math.sqrt(i * 2)) % 1e9;
  }
  sink = x;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export function createCpuBurnActivities(options: BurnOptions = {}) {
  const workerId = options.workerId ?? defaultLoadWorkerId();
  const burstMs = options.burstMs ?? 20;
  const heartbeatEveryMs = options.heartbeatEveryMs ?? 100;
  return {
    /**
     * Burns one core for `sliceMs` in short bursts, heartbeating and checking for cancellation
     * between them, and reports the CPU the process used over the wall time.
     */
    async burnCpu(request: BurnRequest): Promise<CpuSample> {
      const context = Context.current();
      const startedAt = Date.now();
      const started = performance.now();
      const cpuBefore = process.cpuUsage();
      let outcome: SliceEvent['outcome'] = 'failed';
      options.onSlice?.({ type: 'start', at: startedAt, workerId, request });
      try {
        let lastBeat = -Infinity;
        for (let elapsed = 0; elapsed < request.sliceMs; elapsed = performance.now() - started) {
          busy(Math.min(burstMs, request.sliceMs - elapsed));
          if (performance.now() - lastBeat >= heartbeatEveryMs) {
            context.heartbeat();
            lastBeat = performance.now();
          }
          await yieldToEventLoop(); // lets the cancellation (delivered with a heartbeat answer) arrive
          if (context.cancellationSignal.aborted) {
            outcome = 'cancelled';
            throw context.cancellationSignal.reason; // a CancelledFailure: reports the slice as cancelled
          }
        }
        const wallMs = performance.now() - started;
        const cpu = process.cpuUsage(cpuBefore);
        const cpuMs = (cpu.user + cpu.system) / 1000;
        outcome = 'completed';
        return {
          workerId,
          pid: process.pid,
          startedAt: new Date(startedAt).toISOString(),
          endedAt: new Date().toISOString(),
          wallMs: Math.round(wallMs),
          cpuMs: Math.round(cpuMs),
          cpuPercent: Math.round((cpuMs / wallMs) * 1000) / 10,
        };
      } finally {
        options.onSlice?.({ type: 'end', at: Date.now(), workerId, request, outcome });
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
