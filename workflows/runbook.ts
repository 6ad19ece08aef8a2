// A runbook's steps and its saga: each step is tracked for the status query, each completed step
// may register its compensation, and a failure runs them in reverse, even when cancelled.
import { ActivityFailure, ApplicationFailure, CancellationScope, TimeoutFailure, upsertSearchAttributes } from '@temporalio/workflow';
import { FleetStatus } from '../temporal/searchAttributes.ts';
import type { RunbookStatus, StepProgress } from './nodes.shared.ts';

/** The most useful sentence in a failure chain: the activity's own message, not "Activity task failed". */
export function failureMessage(error: unknown): string {
  let current: unknown = error;
  while (current instanceof ActivityFailure && current.cause) current = current.cause;
  if (current instanceof TimeoutFailure) {
    const last = current.cause ? `; last error: ${failureMessage(current.cause)}` : '';
    return `timed out (${current.timeoutType === undefined ? 'timeout' : String(current.timeoutType).replace(/^TIMEOUT_TYPE_/, '').toLowerCase().replace(/_/g, '-')})${last}`;
  }
  return current instanceof Error ? current.message : String(current);
}

export class Runbook {
  readonly status: RunbookStatus;
  private readonly compensations: { step: string; undo: () => Promise<unknown> }[] = [];

  constructor(kind: RunbookStatus['kind'], cluster: string, steps: readonly { name: string; label: string }[]) {
    this.status = { kind, cluster, node: null, instanceId: null, state: 'running', steps: steps.map((s) => ({ ...s, status: 'pending' })) };
    upsertSearchAttributes([{ key: FleetStatus, value: 'running' }]);
  }

  private find(name: string): StepProgress {
    const step = this.status.steps.find((s) => s.name === name);
    if (!step) throw new Error(`unknown step ${name}`);
    return step;
  }

  /** Runs one step, recording when it ran and how it ended; `detail` summarises its result. */
  async step<T>(name: string, work: () => Promise<T>, detail?: (result: T) => string | undefined): Promise<T> {
    const step = this.find(name);
    step.status = 'running';
    step.startedAt = new Date().toISOString();
    try {
      const result = await work();
      step.status = 'done';
      step.detail = detail?.(result);
      return result;
    } catch (error) {
      step.status = 'failed';
      step.error = failureMessage(error);
      this.status.failure ??= { step: name, message: step.error };
      throw error;
    } finally {
      step.endedAt = new Date().toISOString();
    }
  }

  skip(name: string, why: string): void {
    const step = this.find(name);
    step.status = 'skipped';
    step.detail = why;
  }

  /** Registers how to undo `step`; registered before the step runs when the step's effect may outlive its failure. */
  compensate(step: string, undo: () => Promise<unknown>): void {
    this.compensations.push({ step, undo });
  }

  /** Undoes what was done, newest first; a compensation that fails is recorded and the rest still run. */
  async rollBack(): Promise<void> {
    this.setState('rolling-back');
    await CancellationScope.nonCancellable(async () => {
      for (const { step, undo } of [...this.compensations].reverse()) {
        const progress = this.find(step);
        try {
          await undo();
          if (progress.status !== 'failed') progress.status = 'compensated';
          else progress.detail = 'undone';
        } catch (error) {
          progress.status = 'compensation-failed';
          progress.error = `${progress.error ? `${progress.error}; ` : ''}undo failed: ${failureMessage(error)}`;
        }
      }
    });
    this.setState(this.status.steps.some((s) => s.status === 'compensation-failed') ? 'failed' : 'rolled-back');
  }

  setState(state: RunbookStatus['state']): void {
    this.status.state = state;
    upsertSearchAttributes([{ key: FleetStatus, value: state }]);
  }

  /** The workflow's final failure, naming the step and the reason. */
  failure(kind: string): ApplicationFailure {
    const failed = this.status.failure;
    const label = failed ? this.find(failed.step).label : 'unknown step';
    return ApplicationFailure.nonRetryable(`${kind} failed at "${label}": ${failed?.message ?? 'unknown error'}`, `${kind.replace(/\s/g, '')}Failed`, this.status);
  }

  stepLines(): string {
    return this.status.steps.map((s) => `  ${s.status.padEnd(20)} ${s.label}${s.detail ? ` (${s.detail})` : ''}${s.error ? `: ${s.error}` : ''}`).join('\n');
  }
}
