// Form posts, read for a schema: fields arrive as strings, so a number that is not one stays as sent
// (the schema then names the field), and a refusal is worded as the JSON API words it.
import type { z } from 'zod';

export type Form = Record<string, unknown>;

/** A field as a number when it is one; anything else as it was sent. */
export function numberOrAsSent(value: unknown): unknown {
  return typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;
}

/** A schema's first complaint: the field's path and the message. */
export function firstIssue(error: z.ZodError): { field: string; message: string } {
  const issue = error.issues[0]!;
  return { field: issue.path.map(String).join('.'), message: issue.message };
}

/** The same as one line, `field: message`. */
export function issueText(error: z.ZodError): string {
  const { field, message } = firstIssue(error);
  return `${field}: ${message}`;
}
