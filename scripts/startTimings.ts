// `npm start -- --timings`: how long each part of the start took. Parts overlap (servers start side
// by side, the workflow bundles build meanwhile), so each is shown as a span from the launch.

export interface StartTimings {
  /** Runs `work`, recording when it began and ended as `part`. */
  time<T>(part: string, work: () => Promise<T>): Promise<T>;
  /** Records a moment reached: a span from `since` (a performance.now() value) to now. */
  mark(part: string, since: number): void;
  /** One line per part, in the order they ended. */
  lines(): string[];
}

interface Span {
  part: string;
  startMs: number;
  endMs: number;
}

export function createStartTimings(origin = performance.now()): StartTimings {
  const spans: Span[] = [];
  const record = (part: string, startMs: number) => spans.push({ part, startMs: startMs - origin, endMs: performance.now() - origin });
  return {
    async time(part, work) {
      const startMs = performance.now();
      try {
        return await work();
      } finally {
        record(part, startMs);
      }
    },
    mark(part, since) {
      record(part, since);
    },
    lines() {
      const width = Math.max(...spans.map((s) => s.part.length), 4);
      const seconds = (ms: number) => (ms / 1000).toFixed(2).padStart(6);
      return [
        `${'part'.padEnd(width)}  ${'from'.padStart(6)}  ${'to'.padStart(6)}  ${'took'.padStart(6)}   (seconds since launch)`,
        ...[...spans].sort((a, b) => a.endMs - b.endMs).map((s) => `${s.part.padEnd(width)}  ${seconds(s.startMs)}  ${seconds(s.endMs)}  ${seconds(s.endMs - s.startMs)}`),
      ];
    },
  };
}

/** Timings that record nothing: the start without --timings. */
export const noStartTimings: StartTimings = {
  time: (_part, work) => work(),
  mark: () => undefined,
  lines: () => [],
};
