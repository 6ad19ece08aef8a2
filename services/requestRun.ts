// Request runs: start one (409 naming the running run), list and show runs with live
// progress, cancel. Finished runs are read from MySQL; a running one from its workflow.
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { requestRun } from '../workflows/requestRun.ts';
import {
  DEFAULT_SCOPE,
  isRequestRunId,
  requestRunIdSchema,
  requestRunWorkflowId,
  mergeTally,
  requestRunProgressQuery,
  requestRunRequestSchema,
  type CallTally,
  type CountingMode,
  type LatencySummary,
  type RequestRunProgress,
  type RequestRunRequest,
  type RunStatus,
  type TimelineBucket,
} from '../workflows/requestRun.shared.ts';
import { parseId, ServiceError } from './errors.ts';
import { describeOwn, pendingHeartbeats, type WorkflowLinks } from './executions.ts';

export interface RequestRunApiDependencies {
  temporal: Client;
  mysql: Pool;
  taskQueue: string;
  allowedDestinations: readonly string[];
  links: WorkflowLinks;
  /** Lock scope of the runs this service starts (tests use their own). */
  scope?: string;
}

/** A run as the UI and API show it: the MySQL row, plus live progress while it runs. */
export interface RunView {
  runId: string;
  scope: string;
  timestamp: number;
  status: RunStatus;
  mode: CountingMode;
  calls: number;
  concurrency: number;
  destination: string;
  counted: number;
  ok: number;
  failed: number;
  startedAt: string;
  endedAt: string | null;
  latencyMs: LatencySummary | null;
  timeline: TimelineBucket[];
  webUiUrl: string;
}

const runColumns = `run_id, scope, \`timestamp\`, status, mode, max_possible_count, concurrency, destination_url, current_request_count,
  sent_calls, failed_calls, started_at, ended_at, latency_p50_ms, latency_p90_ms, latency_p99_ms, latency_max_ms, timeline`;

function toView(row: RowDataPacket, links: WorkflowLinks): RunView {
  const latency = row.latency_p50_ms === null ? null : { p50: row.latency_p50_ms, p90: row.latency_p90_ms, p99: row.latency_p99_ms, max: row.latency_max_ms };
  const timeline = typeof row.timeline === 'string' ? JSON.parse(row.timeline) : (row.timeline ?? []);
  return {
    runId: row.run_id,
    scope: row.scope,
    timestamp: row.timestamp,
    status: row.status,
    mode: row.mode,
    calls: row.max_possible_count,
    concurrency: row.concurrency,
    destination: row.destination_url,
    counted: row.current_request_count,
    ok: row.sent_calls - row.failed_calls,
    failed: row.failed_calls,
    startedAt: new Date(row.started_at).toISOString(),
    endedAt: row.ended_at ? new Date(row.ended_at).toISOString() : null,
    latencyMs: latency,
    timeline,
    webUiUrl: links.execution(requestRunWorkflowId(row.scope), row.run_id),
  };
}

/**
 * Progress of a running run: finished chunks from the workflow, the chunk under way from its heartbeat.
 * Only a requestRun workflow is asked; another one under the same IDs has no progress to show.
 */
async function liveProgress(temporal: Client, workflowId: string, runId: string): Promise<RequestRunProgress | undefined> {
  try {
    const { handle } = await describeOwn(temporal, [requestRun.name], workflowId, runId);
    // Read together, so the heartbeats belong with the progress they complete.
    const [progress, description] = await Promise.all([handle.query(requestRunProgressQuery), handle.describe()]);
    let tally: CallTally = { ok: progress.ok, failed: progress.failed, histogram: [], timeline: progress.timeline };
    for (const checkpoint of await pendingHeartbeats<{ tally: CallTally }>(temporal, description)) tally = mergeTally(tally, { ...checkpoint.tally, histogram: [] });
    return { ...progress, ok: tally.ok, failed: tally.failed, timeline: tally.timeline };
  } catch {
    return undefined; // finished between the read and the query (or not a request run): the row is the truth
  }
}

export function createRequestRunService(deps: RequestRunApiDependencies) {
  const scope = deps.scope ?? DEFAULT_SCOPE;
  const workflowId = requestRunWorkflowId(scope);
  const view = (row: RowDataPacket) => toView(row, deps.links);

  async function runningRunId(): Promise<string | undefined> {
    try {
      const description = await deps.temporal.workflow.getHandle(workflowId).describe();
      return description.status.name === 'RUNNING' ? description.runId : undefined;
    } catch {
      return undefined;
    }
  }

  /** A run whose workflow has started but not yet written its row: shown from the workflow alone. */
  async function startingRun(runId: string): Promise<RunView | undefined> {
    const progress = await liveProgress(deps.temporal, workflowId, runId);
    if (!progress) return undefined;
    return {
      ...progress,
      timestamp: Math.floor(Date.parse(progress.startedAt) / 1000),
      counted: 0,
      endedAt: null,
      latencyMs: null,
      webUiUrl: deps.links.execution(workflowId, runId),
    };
  }

  /** A run by its ID; none for an ID that cannot name a request run (another domain's, say). */
  async function get(runId: string): Promise<RunView | undefined> {
    if (!isRequestRunId(runId)) return undefined;
    const [rows] = await deps.mysql.query<RowDataPacket[]>(`SELECT ${runColumns} FROM request_recorder WHERE run_id = ?`, [runId]);
    if (!rows[0]) return startingRun(runId);
    const run = view(rows[0]);
    if (run.status !== 'running') return run;
    const live = await liveProgress(deps.temporal, requestRunWorkflowId(run.scope), runId);
    return live ? { ...run, ok: live.ok, failed: live.failed, timeline: live.timeline, status: live.status } : run;
  }

  return {
    allowedDestinations: deps.allowedDestinations,
    /** What a start request must look like: its destination must be on this service's allowlist. */
    inputSchema: requestRunRequestSchema(deps.allowedDestinations),
    runningRunId,
    get,

    async start(input: RequestRunRequest): Promise<{ runId: string; workflowId: string; webUiUrl: string }> {
      try {
        const handle = await deps.temporal.workflow.start(requestRun, {
          workflowId,
          taskQueue: deps.taskQueue,
          args: [{ ...input, scope }],
          workflowIdConflictPolicy: 'FAIL',
        });
        const runId = handle.firstExecutionRunId;
        return { runId, workflowId, webUiUrl: deps.links.execution(workflowId, runId) };
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        const running = await runningRunId();
        const progress = running ? await liveProgress(deps.temporal, workflowId, running) : undefined;
        const done = progress ? ` (${progress.ok + progress.failed} of ${progress.calls} calls done)` : '';
        throw new ServiceError(409, 'already_running', `Request run ${running ?? '?'} is running${done}; wait for it to finish or cancel it.`, {
          runId: running,
          workflowId,
        });
      }
    },

    async list(limit: number): Promise<RunView[]> {
      const [rows] = await deps.mysql.query<RowDataPacket[]>(`SELECT ${runColumns} FROM request_recorder ORDER BY ID DESC LIMIT ?`, [limit]);
      return Promise.all(rows.map(view).map(async (run) => (run.status === 'running' ? ((await get(run.runId)) ?? run) : run)));
    },

    async cancel(runId: string): Promise<RunView> {
      const run = await get(parseId(requestRunIdSchema, runId, 'runId'));
      if (!run) throw new ServiceError(404, 'not_found', `No request run ${runId}.`, { runId });
      if (run.status !== 'running') throw new ServiceError(409, 'not_running', `Request run ${runId} has already ended (${run.status}).`, { runId });
      const { handle } = await describeOwn(deps.temporal, [requestRun.name], requestRunWorkflowId(run.scope), runId);
      await handle.cancel();
      return run;
    },
  };
}

export type RequestRunService = ReturnType<typeof createRequestRunService>;
