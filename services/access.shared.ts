// The vocabulary of access: roles, who a request acts as, and the schemas of users and tokens that
// the API, the UI's forms and the tests all use.
import * as z from 'zod/mini';

/** Each role may do everything the ones before it may. */
export const roles = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof roles)[number];

export const roleDescriptions: Record<Role, string> = {
  viewer: 'reads everything but secrets',
  operator: 'also starts, cancels and pauses work, switches CPU load, converges CF, deploys and removes nodes, runs scripts',
  admin: 'also manages profiles, clusters, users and tokens',
};

export function roleAllows(held: Role, needed: Role): boolean {
  return roles.indexOf(held) >= roles.indexOf(needed);
}

/** Who a request acts as: a signed-in operator (a session) or a bearer token. */
export interface Principal {
  kind: 'session' | 'token';
  /** The operator's username, or the token's name. */
  name: string;
  role: Role;
  /** How the audit log names it: `user:alice`, `token:ci#3`. */
  actor: string;
  /** A session's CSRF token, which its forms and htmx requests send back. */
  csrfToken?: string;
  /** A session whose password was chosen by someone else (the first admin's): it is asked for a new one. */
  mustChangePassword?: boolean;
}

/** Header htmx sends the session's CSRF token in (set on <body> with hx-headers); plain forms use the field. */
export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = '_csrf';
export const SESSION_COOKIE = 'fleet_session';

export const usernameSchema = z.string().check(
  z.regex(/^[a-z][a-z0-9._-]{1,63}$/, 'must be 2 to 64 characters: lower-case letters, digits, dots, dashes or underscores, starting with a letter'),
);
/** Long enough that guessing is hopeless; no composition rules (NIST SP 800-63B). */
export const passwordSchema = z.string().check(
  z.minLength(12, 'must be at least 12 characters'),
  z.maxLength(256, 'must be at most 256 characters'),
);
export const roleSchema = z.enum(roles, { error: `must be one of ${roles.join(', ')}` });

export const createUserSchema = z.strictObject({ username: usernameSchema, role: roleSchema, password: passwordSchema });
export type CreateUserInput = z.infer<typeof createUserSchema>;

export const changePasswordSchema = z.strictObject({ currentPassword: z.string(), newPassword: passwordSchema });

export const tokenNameSchema = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/, 'must be 1 to 64 letters, digits, spaces, dots, dashes or underscores'));
export const createTokenSchema = z.strictObject({ name: tokenNameSchema, role: roleSchema });
export type CreateTokenInput = z.infer<typeof createTokenSchema>;

export const tokenIdSchema = z.pipe(z.coerce.number(), z.int().check(z.minimum(1, 'is not a token ID')));

export const signInSchema = z.object({ username: z.string(), password: z.string(), next: z.optional(z.string()) });

/** `GET /api/audit` and the audit page: the newest `limit` entries, older than `before`, of one actor. */
export const auditQuerySchema = z.object({
  limit: z._default(z.pipe(z.coerce.number(), z.int().check(z.minimum(1), z.maximum(500))), 100),
  before: z.optional(z.pipe(z.coerce.number(), z.int().check(z.minimum(1)))),
  actor: z.optional(z.string().check(z.maxLength(96))),
});
