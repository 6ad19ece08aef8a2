// Form posts, read for a schema: fields arrive as strings, so a number that is not one stays as sent
// and the schema, through parseInput (services/errors.ts) as for the JSON API, names the field.
import type { Context } from 'hono';
import { ServiceError } from '../services/errors.ts';

export type Form = Record<string, unknown>;

/** A field as a number when it is one; anything else as it was sent. */
export function numberOrAsSent(value: unknown): unknown {
  return typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;
}

/**
 * A posted form's fields. A body that is not a form (JSON, a broken multipart body) is a 400 naming
 * the problem, not a 500: Hono's parser throws on a multipart body without its boundary.
 */
export async function readForm(c: Context): Promise<Form> {
  const type = c.req.header('content-type') ?? '';
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(type)) {
    throw new ServiceError(415, 'unsupported_media_type', `The form was sent as ${type || 'an untyped body'}: send application/x-www-form-urlencoded or multipart/form-data.`);
  }
  try {
    return await c.req.parseBody();
  } catch {
    throw new ServiceError(400, 'invalid_form', 'The form body could not be read.');
  }
}
