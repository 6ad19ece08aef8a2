// A progress bar: what is done (blue, or green when `counted`), what failed in red right after it, and
// a caption over both. Request runs, convergence phases, runbook steps and script runs draw it.
// The parts are SVG rects sized in percent of a 100-wide view box: attributes, not inline styles, so
// pages need no 'unsafe-inline' styles (server/securityHeaders.ts).
import type { Child } from 'hono/jsx';
import { percentOf } from './format.tsx';

export interface ProgressBarProps {
  total: number;
  done: number;
  /** Drawn after `done` when given (even as 0, so the bar can grow one). */
  failed?: number;
  /** `counted`: the done part in green (things finished), otherwise blue (things under way). */
  tone?: 'counted';
  /** `data-progress`, how tests and scripts find the bar. */
  name?: string;
  title?: string;
  children?: Child;
}

export function ProgressBar({ total, done, failed, tone, name, title, children }: ProgressBarProps) {
  const donePercent = percentOf(done, total);
  return (
    <div class="progress" title={title} data-progress={name}>
      <svg class="bars" viewBox="0 0 100 1" preserveAspectRatio="none" aria-hidden="true">
        <rect class={tone ? `bar ${tone}` : 'bar'} width={donePercent} height="1" />
        {failed === undefined ? null : <rect class="bar failed" x={donePercent} width={percentOf(failed, total)} height="1" />}
      </svg>
      <span>{children}</span>
    </div>
  );
}
