// A progress bar: what is done (blue, or green when `counted`), what failed in red right after it, and
// a caption over both. Request runs, convergence phases, runbook steps and script runs draw it.
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
  return (
    <div class="progress" title={title} data-progress={name}>
      <div class={tone ? `bar ${tone}` : 'bar'} style={`width:${percentOf(done, total)}%`}></div>
      {failed === undefined ? null : <div class="bar failed" style={`left:${percentOf(done, total)}%;width:${percentOf(failed, total)}%`}></div>}
      <span>{children}</span>
    </div>
  );
}
