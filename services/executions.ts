// Recent executions from Temporal's visibility store, with links into the Temporal Web UI.
import type { Client, WorkflowExecutionDescription, WorkflowExecutionInfo } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { decodeOptionalSinglePayload } from '@temporalio/common/lib/internal-non-workflow/index.js';
import { FleetDomain, FleetStatus } from '../temporal/searchAttributes.ts';
import { ServiceError } from './errors.ts';

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

export function summarize(info: Omit<WorkflowExecutionInfo, 'raw'>, links: WorkflowLinks): ExecutionSummary {
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

/**
 * Refuses an execution that is not a workflow of one of `types` with a 404, as if there were none:
 * each route acts only on its own domain's workflows, and its ID scheme (checked first) is no proof.
 */
export function requireType(description: WorkflowExecutionDescription, types: readonly string[]): void {
  if (!types.includes(description.type)) {
    throw new ServiceError(404, 'not_found', `No ${types.join(' or ')} workflow with ID ${description.workflowId}.`, { workflowId: description.workflowId });
  }
}

/**
 * The execution `workflowId` names (its latest run, or `runId`), when it is a workflow of one of
 * `types` (requireType). The handle is pinned to the run described, so what follows (query,
 * signal, cancel, result) reaches that run and no later one.
 */
export async function describeOwn(client: Client, types: readonly string[], workflowId: string, runId?: string) {
  const description = await client.workflow.getHandle(workflowId, runId).describe();
  requireType(description, types);
  return { description, handle: client.workflow.getHandle(workflowId, description.runId) };
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
export async function pendingHeartbeats<T>(temporal: Client, description: WorkflowExecutionDescription): Promise<T[]> {
  const details: T[] = [];
  for (const activity of description.raw.pendingActivities ?? []) {
    const payload = activity.heartbeatDetails?.payloads?.[0];
    if (payload) details.push((await decodePayload<T>(temporal, payload))!);
  }
  return details;
}

/**
 * A payload read from raw history or a description, decoded as the client's own data converter
 * would (its payload codec decrypts what the workers wrote; temporal/codec.ts).
 */
export async function decodePayload<T>(temporal: Client, payload: Payload | null | undefined): Promise<T | undefined> {
  return (await decodeOptionalSinglePayload<T>(temporal.options.loadedDataConverter, payload)) ?? undefined;
}
