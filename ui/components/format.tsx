// How every page writes a moment, a duration, a percentage and a state, so that each reads the same
// on every page. The string functions serve where markup cannot go (SVG text, attributes).
import type { Child } from 'hono/jsx';

/** `2024-11-22T10:15:03.123Z` → `2024-11-22 10:15:03`: UTC, to the second. */
export const dateTime = (iso: string) => iso.replace('T', ' ').slice(0, 19);

/** The time of day of a moment given in milliseconds, `10:15:03` (UTC). */
export const timeOfDay = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/** Milliseconds in the unit a person reads best: `850 ms`, `4.2 s`, `95 s`, `12 min`, `1 h`, `4 h 30 min`. */
export function formatDuration(ms: number): string {
  const value = Math.max(0, ms);
  if (value < 1000) return `${Math.round(value)} ms`;
  if (value < 10_000) return `${(value / 1000).toFixed(1)} s`;
  const seconds = Math.round(value / 1000);
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return minutes % 60 === 0 ? `${minutes / 60} h` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** `part` of `whole` in percent, to one decimal and at most 100 (0 of nothing is 0): the width of a bar. */
export function percentOf(part: number, whole: number): number {
  return whole > 0 ? Math.min(100, Math.round((part / whole) * 1000) / 10) : 0;
}

const missingValue = (missing: Child = '–') => <span class="muted">{missing}</span>;

/** A moment, machine-readable in `datetime`; without one, `missing` (a dash unless told), muted. */
export function Time({ iso, missing }: { iso: string | null | undefined; missing?: Child }) {
  return iso ? <time datetime={iso}>{dateTime(iso)}</time> : missingValue(missing);
}

/** How long, given in milliseconds or as a start and an end (no end: until now); unknown is a dash. */
export type DurationProps = { ms: number | null | undefined } | { from: string; to?: string | null };

export function Duration(props: DurationProps) {
  const ms = 'from' in props ? (props.to ? Date.parse(props.to) : Date.now()) - Date.parse(props.from) : props.ms;
  return ms === null || ms === undefined || Number.isNaN(ms) ? missingValue() : <>{formatDuration(ms)}</>;
}

/** A share as `25 %`: a fraction of 1, or a part of a whole (of nothing it is 0 %). */
export type PercentProps = ({ fraction: number } | { part: number; whole: number }) & { digits?: number };

export function Percent(props: PercentProps) {
  const fraction = 'fraction' in props ? props.fraction : props.whole > 0 ? props.part / props.whole : 0;
  return <>{`${(fraction * 100).toFixed(props.digits ?? 0)} %`}</>;
}

/**
 * A state as a badge. Its class is the state, lowercase with `-` for `_` (app.css colours the states
 * of every domain); its text is the state in words (`TIMED_OUT` → `timed out`) unless a label is given.
 */
export function StatusBadge({ status, label, title }: { status: string; label?: Child; title?: string }) {
  const state = status.toLowerCase();
  return (
    <span class={`badge ${state.replaceAll('_', '-')}`} title={title}>
      {label ?? state.replaceAll('_', ' ')}
    </span>
  );
}
