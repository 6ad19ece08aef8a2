// Cloud Controller's v3 error envelope, {"errors":[{"code","title","detail"}]}, with the codes and
// wording of cloud_controller_ng's errors/v2.yml and v3.yml, and UAA's {"error","error_description"}.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export interface CfErrorBody {
  errors: { code: number; title: string; detail: string }[];
}

export class CfError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: number,
    readonly title: string,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'CfError';
  }

  body(): CfErrorBody {
    return { errors: [{ code: this.code, title: this.title, detail: this.detail }] };
  }
}

export const cfErrors = {
  invalidAuthToken: () => new CfError(401, 1000, 'CF-InvalidAuthToken', 'Invalid Auth Token'),
  messageParseError: () => new CfError(400, 1001, 'CF-MessageParseError', 'Request invalid due to parse error: invalid request body'),
  unknownRequest: () => new CfError(404, 10000, 'CF-NotFound', 'Unknown request'),
  notAuthenticated: () => new CfError(401, 10002, 'CF-NotAuthenticated', 'Authentication error'),
  notAuthorized: () => new CfError(403, 10003, 'CF-NotAuthorized', 'You are not authorized to perform the requested action'),
  badQueryParameter: (detail: string) => new CfError(400, 10005, 'CF-BadQueryParameter', `The query parameter is invalid: ${detail}`),
  unprocessable: (detail: string) => new CfError(422, 10008, 'CF-UnprocessableEntity', detail),
  notFound: (resource: string) => new CfError(404, 10010, 'CF-ResourceNotFound', `${resource} not found`),
  rateLimitExceeded: () => new CfError(429, 10013, 'CF-RateLimitExceeded', 'Rate Limit Exceeded'),
  serviceUnavailable: () => new CfError(503, 10015, 'CF-ServiceUnavailable', 'The service is temporarily unavailable'),
  uniqueness: (detail: string) => new CfError(422, 10016, 'CF-UniquenessError', detail),
  packageBitsAlreadyUploaded: () =>
    new CfError(400, 150004, 'CF-PackageBitsAlreadyUploaded', 'Bits may be uploaded only once. Create a new package to upload different bits.'),
  unknown: () => new CfError(500, 10001, 'UnknownError', 'An unknown error occurred.'),
  badRequest: (detail: string) => new CfError(400, 1004, 'CF-BadRequest', `Bad request: ${detail}`),
  unableToPerform: (operation: string, detail: string) => new CfError(400, 10009, 'CF-UnableToPerform', `${operation} could not be completed: ${detail}`),
  stagingInProgress: () => new CfError(422, 170017, 'CF-StagingInProgress', 'Only one build can be STAGING at a time per application.'),
};

export function cfErrorResponse(error: CfError, c: Context): Response {
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
  return c.json(error.body(), error.status);
}

/** UAA's own error shape, e.g. {"error":"unauthorized","error_description":"Bad credentials"}. */
export class UaaError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
    this.name = 'UaaError';
  }
}
