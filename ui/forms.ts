// Form posts, read for a schema: fields arrive as strings, so a number that is not one stays as sent
// and the schema, through parseInput (services/errors.ts) as for the JSON API, names the field.
export type Form = Record<string, unknown>;

/** A field as a number when it is one; anything else as it was sent. */
export function numberOrAsSent(value: unknown): unknown {
  return typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;
}
