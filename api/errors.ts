// One JSON error shape for every failure the API reports:
//   { "error": { "code": "validation_failed", "message": "…", "field": "dependencies.0" } }
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { safeParse, type $ZodType, type output } from 'zod/v4/core';
import { ServiceError, validationError } from '../services/errors.ts';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';

export interface ErrorBody {
  error: { code: string; message: string; field?: string; [extra: string]: unknown };
}

function fieldPath(path: PropertyKey[]): string {
  return path.map(String).join('.');
}

/** Parses a JSON body against a schema; malformed JSON and invalid fields become 400s naming the problem. */
export async function readJson<Schema extends $ZodType>(c: Context, schema: Schema): Promise<output<Schema>> {
  const text = await c.req.text();
  let body: unknown = {};
  if (text.trim() !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      throw new ServiceError(400, 'invalid_json', 'The request body is not valid JSON.');
    }
  }
  const parsed = safeParse(schema, body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw validationError(fieldPath(issue.path), issue.message);
  }
  return parsed.data;
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
