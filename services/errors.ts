// The errors services throw for the API and the UI alike: a status, a stable code and a message
// that names the problem. The API turns them into its one JSON error shape; pages show the message.
import type { ContentfulStatusCode } from 'hono/utils/http-status';

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
  return new ServiceError(400, 'validation_failed', field ? `${field}: ${message}` : message, field ? { field } : {});
}
