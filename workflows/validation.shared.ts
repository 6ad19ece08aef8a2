// How every layer reports a zod problem: the first issue as a dotted field and a message. The API
// and the UI turn it into a 400 (services/errors.ts), workflows into a non-retryable InvalidInput
// failure. Safe in the workflow bundle: it needs only zod's core and Temporal's common package.
import { ApplicationFailure } from '@temporalio/common';
import { config, safeParse, type $ZodError, type $ZodType, type output } from 'zod/v4/core';
import en from 'zod/v4/locales/en.js';
import * as z from 'zod/mini';

// zod/mini ships without messages ("Invalid input"); the English ones say what was expected.
config(en());

/** A whole number in bounds, with one message for every way of missing them (wrong type included). */
export function wholeNumber(min: number, max?: number) {
  const message = max === undefined ? `must be a whole number from ${min}` : `must be a whole number from ${min} to ${max}`;
  return z.int({ error: message }).check(z.minimum(min, message), z.maximum(max ?? Number.MAX_SAFE_INTEGER, message));
}

/**
 * The IDs one domain's routes take (workflow IDs, or run IDs), recognised by the domain's own ID
 * scheme (`recognises` is the inverse of its ID builder). A refusal says the ID "is not <what>":
 * the API and the services answer it with 404, before asking Temporal (services/errors.ts parseId).
 */
export function idSchema(what: string, recognises: (id: string) => boolean) {
  return z.string().check(z.refine(recognises, `is not ${what}`));
}

export interface Problem {
  /** Dotted path of the offending field (`kinds.0.count`); the unknown keys for unknown fields; '' for the whole value. */
  field: string;
  message: string;
}

export function firstProblem(error: $ZodError): Problem {
  const issue = error.issues[0]!;
  const at = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    return { field: issue.keys.map((key) => [...at, key].join('.')).join(', '), message: issue.keys.length === 1 ? 'unknown field' : 'unknown fields' };
  }
  return { field: at.join('.'), message: issue.message };
}

/** `field: message`, or the message alone when the whole value is wrong. */
export function describeProblem({ field, message }: Problem): string {
  return field ? `${field}: ${message}` : message;
}

/** Parses `value`; on failure calls `refuse` with the first problem, `at` (a field name) prefixed to its path. */
export function parseOr<Schema extends $ZodType>(schema: Schema, value: unknown, refuse: (problem: Problem) => never, at = ''): output<Schema> {
  const parsed = safeParse(schema, value);
  if (parsed.success) return parsed.data;
  const problem = firstProblem(parsed.error);
  return refuse(at ? { ...problem, field: problem.field ? `${at}.${problem.field}` : at } : problem);
}

/** What is wrong with `value`, as `field: message`, or undefined when the schema accepts it. */
export function problemOf(schema: $ZodType, value: unknown): string | undefined {
  const parsed = safeParse(schema, value);
  return parsed.success ? undefined : describeProblem(firstProblem(parsed.error));
}

/** A workflow's input checked at start with its domain's schema; invalid input fails the workflow for good. */
export function workflowInput<Schema extends $ZodType>(schema: Schema, value: unknown): output<Schema> {
  return parseOr(schema, value, (problem) => {
    throw ApplicationFailure.nonRetryable(`Invalid input: ${describeProblem(problem)}`, 'InvalidInput', problem);
  });
}
