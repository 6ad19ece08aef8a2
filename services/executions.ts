// Recent executions from Temporal's visibility store, with links into the Temporal Web UI.
import type { Client, WorkflowExecutionDescription, WorkflowExecutionInfo } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { FleetDomain, FleetStatus } from '../temporal/searchAttributes.ts';

export interface WorkflowLinks {
  execution(workflowId: string, runId: string): string;
  list(): string;
}

export function temporalWebUiLinks(webUiUrl: string, namespace: string): WorkflowLinks {
  const ns = encodeURIComponent(namespace);
  return {
    execution: (workflowId, runId) => `${webUiUrl}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}/history`,
    list: () => `${webUiUrl}/namespaces/${ns}/workflows`,
  };
}

export interface ExecutionSummary {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  domain: string | undefined;
  fleetStatus: string | undefined;
  startTime: string;
  closeTime: string | undefined;
  webUiUrl: string;
}

function summarize(info: Omit<WorkflowExecutionInfo, 'raw'>, links: WorkflowLinks): ExecutionSummary {
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    type: info.type,
    status: info.status.name,
    domain: info.typedSearchAttributes.get(FleetDomain),
    fleetStatus: info.typedSearchAttributes.get(FleetStatus),
    startTime: info.startTime.toISOString(),
    closeTime: info.closeTime?.toISOString(),
    webUiUrl: links.execution(info.workflowId, info.runId),
  };
}

export async function describeExecution(client: Client, workflowId: string, links: WorkflowLinks): Promise<ExecutionSummary> {
  return summarize(await client.workflow.getHandle(workflowId).describe(), links);
}

export async function listRecentExecutions(client: Client, links: WorkflowLinks, options: { limit: number; query?: string }): Promise<ExecutionSummary[]> {
  const executions: ExecutionSummary[] = [];
  for await (const info of client.workflow.list({ query: options.query, pageSize: options.limit })) {
    executions.push(summarize(info, links));
    if (executions.length >= options.limit) break;
  }
  return executions;
}

/**
 * The latest heartbeat details of each activity still running: how workflows here report progress
 * inside a long activity without writing every step into history.
 */
export function pendingHeartbeats<T>(description: WorkflowExecutionDescription): T[] {
  const details: T[] = [];
  for (const activity of description.raw.pendingActivities ?? []) {
    const payload = activity.heartbeatDetails?.payloads?.[0];
    if (payload) details.push(defaultPayloadConverter.fromPayload<T>(payload));
  }
  return details;
}
