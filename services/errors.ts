// The errors services throw for the API and the UI alike: a status, a stable code and a message
// that names the problem. The API turns them into its one JSON error shape; pages show the message.
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { $ZodType, output } from 'zod/v4/core';
import { describeProblem, parseOr } from '../workflows/validation.shared.ts';

export class ServiceError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

export function validationError(field: string, message: string): ServiceError {
  return new ServiceError(400, 'validation_failed', describeProblem({ field, message }), field ? { field } : {});
}

/**
 * A request's value (body, query, path parameter, form) parsed with its domain's schema; the first
 * problem is a 400 `validation_failed` naming the field. `at` names a value that is one field itself.
 */
export function parseInput<Schema extends $ZodType>(schema: Schema, value: unknown, at?: string): output<Schema> {
  return parseOr(schema, value, ({ field, message }) => {
    throw validationError(field, message);
  }, at);
}

/**
 * A workflow or run ID from a request, parsed with its domain's ID schema (workflows/validation.shared.ts
 * idSchema): one the domain does not recognise, another domain's included, is a 404 `not_found` naming
 * it, as if there were no such workflow. `field` names the ID in the error's details.
 */
export function parseId(schema: $ZodType<string>, id: string, field = 'workflowId'): string {
  return parseOr(schema, id, ({ message }) => {
    throw new ServiceError(404, 'not_found', `${id} ${message}.`, { [field]: id });
  });
}
