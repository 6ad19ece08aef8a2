// Request bodies checked the way CC's messages check them: malformed JSON is a 400
// MessageParseError, unknown or wrong fields a 422 naming them.
import type { Context } from 'hono';
import { cfErrors } from './errors.ts';
import type { Metadata } from './state.ts';

export type Body = Record<string, unknown>;

export async function readBody(c: Context, allowedFields: string[]): Promise<Body> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw cfErrors.messageParseError();
  }
  if (!isObject(body)) throw cfErrors.messageParseError();
  const unknown = Object.keys(body).filter((key) => !allowedFields.includes(key));
  if (unknown.length > 0) throw cfErrors.unprocessable(`Unknown field(s): '${unknown.join("', '")}'`);
  return body;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A required, non-blank string field; `label` is CC's humanized field name ("Name", "Host"). */
export function requiredString(body: Body, field: string, label: string): string {
  const value = body[field];
  if (value === undefined || value === null || value === '') throw cfErrors.unprocessable(`${label} can't be blank`);
  if (typeof value !== 'string') throw cfErrors.unprocessable(`${label} must be a string`);
  return value;
}

export function optionalString(body: Body, field: string, label: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw cfErrors.unprocessable(`${label} must be a string`);
  return value;
}

/** relationships.<name>.data.guid, as every v3 create takes its parents. */
export function relationshipGuid(body: Body, name: string): string {
  const relationships = body.relationships;
  const data = isObject(relationships) && isObject(relationships[name]) ? (relationships[name] as Body).data : undefined;
  const guid = isObject(data) ? data.guid : undefined;
  if (typeof guid !== 'string' || guid === '') {
    throw cfErrors.unprocessable(`Relationships ${name} must be a valid relationship with data.guid`);
  }
  return guid;
}

export function optionalWholeNumber(body: Body, field: string, label: string, min: number): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw cfErrors.unprocessable(`${label} is not a number`);
  if (value < min) throw cfErrors.unprocessable(`${label} must be greater than or equal to ${min}`);
  return value;
}

export function stringMap(value: unknown, label: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw cfErrors.unprocessable(`${label} must be an object`);
  const result: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === null) continue;
    result[key] = typeof item === 'string' ? item : JSON.stringify(item);
  }
  return result;
}

/** metadata.labels / metadata.annotations; a null value removes the key, as a PATCH does in CC. */
export function applyMetadata(target: Metadata, value: unknown): void {
  if (value === undefined) return;
  if (!isObject(value)) throw cfErrors.unprocessable('Metadata must be an object');
  for (const part of ['labels', 'annotations'] as const) {
    const changes = value[part];
    if (changes === undefined) continue;
    if (!isObject(changes)) throw cfErrors.unprocessable(`Metadata ${part} must be an object`);
    for (const [key, item] of Object.entries(changes)) {
      if (item === null) delete target[part][key];
      else if (typeof item === 'string') target[part][key] = item;
      else throw cfErrors.unprocessable(`Metadata ${part} values must be strings`);
    }
  }
}
