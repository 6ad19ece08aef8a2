// cf-pusher convergence: start one (a dry run returns the plan), watch its phases,
// pause, resume and cancel it. The desired state is checked here (against the configured
// foundations too) and again in the workflow, with the same schema.
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { cfConverge } from '../workflows/cfConverge.ts';
import {
  DEFAULT_FOUNDATION,
  cfConvergeWorkflowIdSchema,
  convergeProgressQuery,
  convergeRequestSchema,
  convergeWorkflowId,
  pauseSignal,
  resumeSignal,
  settingsFrom,
  type AppOutcome,
  type ConvergeInput,
  type ConvergeProgress,
} from '../workflows/cfConverge.shared.ts';
import { parseId, ServiceError } from './errors.ts';
import { describeOwn, listRecentExecutions, pendingHeartbeats, type ExecutionSummary, type WorkflowLinks } from './executions.ts';

export interface CfConvergeApiDependencies {
  temporal: Client;
  taskQueue: string;
  links: WorkflowLinks;
  /** Foundations a desired state may name (the workers' configured ones; default: the default one). */
  foundations?: readonly string[];
}

export interface ConvergenceView extends ConvergeProgress {
  workflowId: string;
  runId: string;
  execution: string;
  startTime: string;
  closeTime: string | null;
  error: string | null;
  webUiUrl: string;
}

export function createCfConvergeService(deps: CfConvergeApiDependencies) {
  /** A convergence by its workflow ID: the ID by the domain's own scheme, the execution a cfConverge workflow (404 otherwise). */
  const convergence = (workflowId: string) => describeOwn(deps.temporal, [cfConverge.name], parseId(cfConvergeWorkflowIdSchema, workflowId));

  async function view(workflowId: string): Promise<ConvergenceView> {
    const { description, handle } = await convergence(workflowId);
    let progress: ConvergeProgress | undefined;
    let error: string | null = null;
    if (description.status.name === 'FAILED') {
      const failure = await handle.result().catch((e: unknown) => e);
      const cause = failure instanceof WorkflowFailedError ? failure.cause : undefined;
      error = cause?.message ?? String(failure);
      // A convergence that gave up carries its progress in the failure's details.
      if (cause instanceof ApplicationFailure && cause.details?.[0]) progress = cause.details[0] as ConvergeProgress;
    }
    progress ??= await handle.query(convergeProgressQuery);
    const live = (await pendingHeartbeats<{ outcomes: AppOutcome[] }>(deps.temporal, description)).flatMap((d) => d.outcomes);
    // Apps finished inside the batch still running: count them now, the workflow will when the batch returns.
    const phases = structuredClone(progress.phases);
    for (const outcome of live) for (const action of outcome.done) phases[action].done++;
    return {
      ...progress,
      phases,
      outcomes: [...progress.outcomes, ...live],
      failures: [...progress.failures, ...live.filter((o) => !o.ok)],
      workflowId,
      runId: description.runId,
      execution: description.status.name,
      startTime: description.startTime.toISOString(),
      closeTime: description.closeTime?.toISOString() ?? null,
      error,
      webUiUrl: deps.links.execution(workflowId, description.runId),
    };
  }

  return {
    /** What a start request must look like: the workflow's schema, its foundation one of the configured ones. */
    inputSchema: convergeRequestSchema(deps.foundations ?? [DEFAULT_FOUNDATION]),
    view,
    async start(input: ConvergeInput): Promise<{ workflowId: string; runId: string; webUiUrl: string }> {
      const workflowId = convergeWorkflowId(settingsFrom(input));
      try {
        const handle = await deps.temporal.workflow.start(cfConverge, { workflowId, taskQueue: deps.taskQueue, args: [input], workflowIdConflictPolicy: 'FAIL' });
        return { workflowId, runId: handle.firstExecutionRunId, webUiUrl: deps.links.execution(workflowId, handle.firstExecutionRunId) };
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) {
          throw new ServiceError(409, 'already_running', `A convergence of ${workflowId.replace(/^cf-converge-/, '')} is already running; pause, cancel or wait for it.`, { workflowId });
        }
        throw error;
      }
    },
    recent: (limit: number): Promise<ExecutionSummary[]> => listRecentExecutions(deps.temporal, deps.links, { limit, query: 'FleetDomain = "cf-converge"' }),
    async signal(workflowId: string, action: 'pause' | 'resume' | 'cancel'): Promise<void> {
      const { description, handle } = await convergence(workflowId);
      if (description.status.name !== 'RUNNING') throw new ServiceError(409, 'not_running', `Convergence ${workflowId} has ended (${description.status.name.toLowerCase()}).`, { workflowId });
      if (action === 'cancel') await handle.cancel();
      else await handle.signal(action === 'pause' ? pauseSignal : resumeSignal);
    },
  };
}

export type CfConvergeService = ReturnType<typeof createCfConvergeService>;
