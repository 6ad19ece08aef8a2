// Time and randomness are injected so tests run background transitions (staging, copies, jobs,
// instance starts) and faults deterministically, without waiting.

export interface SimClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Waits `ms` (the latency knob); a fake clock just moves its time forward. */
  sleep(ms: number): Promise<void>;
}

export const systemClock: SimClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** A clock that only moves when told to (or when a request "sleeps"). */
export interface FakeClock extends SimClock {
  advance(ms: number): void;
}

export function fakeClock(startMs = Date.parse('2025-01-01T00:00:00Z')): FakeClock {
  let now = startMs;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

/** mulberry32: tiny, fast and good enough to make fault injection reproducible from a seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** CC renders timestamps to the second, in UTC. */
export function ccTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
