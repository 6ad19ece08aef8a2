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
