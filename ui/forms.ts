// Form posts, read for a schema: fields arrive as strings, so a number that is not one stays as sent
// (the schema then names the field), and a refusal is worded as the JSON API words it.
export type Form = Record<string, unknown>;

/** A field as a number when it is one; anything else as it was sent. */
export function numberOrAsSent(value: unknown): unknown {
  return typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;
}
