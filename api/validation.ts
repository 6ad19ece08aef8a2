// The API's one way in for request data: JSON bodies, query strings and path parameters are all
// parsed with their domain's schema (services/errors.ts parseInput), so every refusal is the same
// 400 naming the field, or a 415 for a body that is not JSON.
import type { Context } from 'hono';
import * as z from 'zod/mini';
import type { $ZodType, output } from 'zod/v4/core';
import { parseId, parseInput, ServiceError } from '../services/errors.ts';

/** application/json or application/<something>+json, with any parameters (charset…). */
const jsonMediaType = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/**
 * Parses a JSON body against a schema. An empty body means `{}`; a body of another content type is
 * a 415, malformed JSON a 400 `invalid_json`, and the first invalid or unknown field a 400 naming it.
 */
export async function readJson<Schema extends $ZodType>(c: Context, schema: Schema): Promise<output<Schema>> {
  const text = await c.req.text();
  if (text.trim() === '') return parseInput(schema, {});
  const type = c.req.header('content-type')?.trim() ?? '';
  if (!jsonMediaType.test(type)) {
    throw new ServiceError(415, 'unsupported_media_type', `The request body is ${type ? `of type ${type}` : 'untyped'}, not JSON: send Content-Type: application/json`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ServiceError(400, 'invalid_json', 'The request body is not valid JSON.');
  }
  return parseInput(schema, body);
}

/** The query string (first value of each parameter) parsed with a schema; parameters it does not name are ignored. */
export function readQuery<Schema extends $ZodType>(c: Context, schema: Schema): output<Schema> {
  return parseInput(schema, c.req.query());
}

/** A path parameter parsed with a schema; a problem names the parameter as the field. */
export function readParam<Schema extends $ZodType>(c: Context, name: string, schema: Schema): output<Schema> {
  return parseInput(schema, c.req.param(name), name);
}

/**
 * A path parameter naming a workflow or run, parsed with its domain's ID schema: an ID the domain does
 * not recognise (another domain's, say) is a 404 `not_found` naming it, before Temporal is asked.
 */
export function readIdParam(c: Context, name: string, schema: $ZodType<string>): string {
  return parseId(schema, c.req.param(name) ?? '', name);
}

/** `?limit=` of the list routes: a whole number from 1 to `max`, `fallback` when absent. */
export function listQuery(max: number, fallback: number) {
  return z.object({ limit: z._default(z.pipe(z.coerce.number(), z.int().check(z.minimum(1), z.maximum(max))), fallback) });
}
