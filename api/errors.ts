// One JSON error shape for every failure the API reports:
//   { "error": { "code": "validation_failed", "message": "…", "field": "dependencies.0" } }
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { MysqlUnavailableError } from '../db/clients.ts';
import { ServiceError } from '../services/errors.ts';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';

export interface ErrorBody {
  error: { code: string; message: string; field?: string; [extra: string]: unknown };
}

export function errorResponse(error: unknown, c: Context): Response {
  const respond = (status: ContentfulStatusCode, code: string, message: string, details: Record<string, unknown> = {}) =>
    c.json<ErrorBody>({ error: { code, message, ...details } }, status);

  if (error instanceof ServiceError) return respond(error.status, error.code, error.message, error.details);
  if (error instanceof WorkflowExecutionAlreadyStartedError) {
    return respond(409, 'already_running', `A ${error.workflowType} workflow with ID ${error.workflowId} is already running.`, {
      workflowId: error.workflowId,
    });
  }
  if (error instanceof WorkflowNotFoundError) {
    return respond(404, 'not_found', `No workflow with ID ${error.workflowId}.`, { workflowId: error.workflowId });
  }
  if (error instanceof WorkflowUpdateFailedError) {
    return respond(422, 'update_rejected', (error.cause as Error | undefined)?.message ?? error.message);
  }
  // A dependency that is down is the dependency's name and a 503, at once, not a hung request or a 500.
  if (error instanceof MysqlUnavailableError) return respond(503, 'mysql_unavailable', error.message);
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    return respond(status, status === 413 ? 'payload_too_large' : 'http_error', error.message || 'Request failed.');
  }
  console.error(error);
  return respond(500, 'internal', 'Internal error; the server log has the details.');
}

export function notFoundResponse(c: Context): Response {
  return c.json<ErrorBody>({ error: { code: 'not_found', message: `No route for ${c.req.method} ${c.req.path}.` } }, 404);
}
