// Who may drive the fleet: operators who sign in with a password (scrypt, memory-hard), sessions
// with idle and absolute expiry, bearer tokens for the HTTP API (only their SHA-256 is stored, the
// token is shown once), and the audit log of what each of them changed.
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { AccessModel, AuditEntry, OperatorRow, TokenRow } from '../db/access.ts';
import type { CreateTokenInput, CreateUserInput, Principal, Role } from './access.shared.ts';
import { ServiceError } from './errors.ts';

/** 2^15 × 8 × 128 bytes = 32 MiB per hash, about 50–100 ms here: OWASP's scrypt baseline. */
const scryptCost = { N: 2 ** 15, r: 8, p: 1 } as const;
const scryptKeyLength = 32;

function scryptAsync(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, keyLength, { ...options, maxmem: 128 * options.N! * options.r! * 2 }, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** `scrypt$N$r$p$salt$hash`: the parameters travel with the hash, so a later cost change keeps old hashes valid. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, scryptKeyLength, scryptCost);
  return ['scrypt', scryptCost.N, scryptCost.r, scryptCost.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, N, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length, { N: Number(N), r: Number(r), p: Number(p) });
  return timingSafeEqual(key, expected);
}

/** A random secret (256 bits) in URL-safe text. */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Compares two secrets in time independent of where they differ. */
export function sameSecret(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right);
}

export const TOKEN_PREFIX = 'fleet_';

export interface AccessSettings {
  /** A session unused this long ends (default 1 hour). */
  sessionIdleMs: number;
  /** A session ends this long after sign-in, however busy (default 12 hours). */
  sessionMaxMs: number;
  /** Failed sign-ins of one username per window before it is refused for the rest of the window (default 10 per 5 minutes). */
  signInFailures?: { limit: number; windowMs: number };
}

export interface ApiToken extends TokenRow {
  status: 'active' | 'revoked';
}

export interface OperatorView {
  username: string;
  role: Role;
  mustChangePassword: boolean;
  createdAt: Date;
}

/** Last-seen times are written at most this often: a busy session costs one read per request, not a write. */
const touchIntervalMs = 60_000;

export function createAccessService(deps: { model: AccessModel; settings: AccessSettings; now?: () => Date }) {
  const { model, settings } = deps;
  const now = deps.now ?? (() => new Date());
  const failures = new Map<string, { count: number; since: number }>();
  const failureLimit = settings.signInFailures ?? { limit: 10, windowMs: 5 * 60_000 };
  // Unknown usernames cost one hash too, so timing does not tell which usernames exist.
  const decoyHash = hashPassword(randomSecret());

  const sessionPrincipal = (operator: OperatorRow, csrfToken: string): Principal => ({
    kind: 'session',
    name: operator.username,
    role: operator.role,
    actor: `user:${operator.username}`,
    csrfToken,
    mustChangePassword: operator.mustChangePassword,
  });

  function throttled(username: string): boolean {
    const entry = failures.get(username);
    if (!entry) return false;
    if (now().getTime() - entry.since > failureLimit.windowMs) {
      failures.delete(username);
      return false;
    }
    return entry.count >= failureLimit.limit;
  }

  function noteFailure(username: string) {
    const entry = failures.get(username);
    if (entry) entry.count++;
    else {
      if (failures.size > 10_000) failures.clear();
      failures.set(username, { count: 1, since: now().getTime() });
    }
  }

  async function startSession(operator: OperatorRow) {
    const sessionToken = randomSecret();
    const csrfToken = randomSecret();
    const at = now();
    const expiresAt = new Date(at.getTime() + settings.sessionMaxMs);
    await model.insertSession({ idHash: sha256(sessionToken), operatorId: operator.id, csrfToken, now: at, expiresAt });
    return { sessionToken, expiresAt, principal: sessionPrincipal(operator, csrfToken) };
  }

  return {
    settings,

    /** A new session (never a reused one: the cookie is rotated at each sign-in); 401 on a wrong username or password. */
    async signIn(username: string, password: string, previousSessionToken?: string) {
      if (throttled(username)) {
        throw new ServiceError(429, 'too_many_attempts', 'Too many failed sign-ins for this username; wait a few minutes and try again.');
      }
      const operator = await model.findOperator(username);
      const valid = operator ? await verifyPassword(password, operator.passwordHash) : (await verifyPassword(password, await decoyHash), false);
      if (!operator || !valid) {
        noteFailure(username);
        throw new ServiceError(401, 'invalid_credentials', 'Wrong username or password.');
      }
      failures.delete(username);
      if (previousSessionToken) await model.deleteSession(sha256(previousSessionToken));
      // The operator's ended sessions go at their next sign-in (the others' at theirs), so the table stays small.
      await model.deleteEndedSessionsOf(operator.id, now(), new Date(now().getTime() - settings.sessionIdleMs));
      return startSession(operator);
    },

    async signOut(sessionToken: string): Promise<void> {
      await model.deleteSession(sha256(sessionToken));
    },

    /** The operator a session cookie names, unless the session is unknown, idle too long or past its absolute expiry. */
    async sessionPrincipal(sessionToken: string): Promise<Principal | undefined> {
      const idHash = sha256(sessionToken);
      const session = await model.findSession(idHash);
      if (!session) return undefined;
      const at = now();
      if (at >= session.expiresAt || at.getTime() - session.lastSeenAt.getTime() >= settings.sessionIdleMs) {
        await model.deleteSession(idHash);
        return undefined;
      }
      if (at.getTime() - session.lastSeenAt.getTime() >= touchIntervalMs) await model.touchSession(idHash, at);
      return sessionPrincipal(session.operator, session.csrfToken);
    },

    async tokenPrincipal(token: string): Promise<Principal | undefined> {
      if (!token.startsWith(TOKEN_PREFIX)) return undefined;
      const row = await model.findActiveToken(sha256(token));
      if (!row) return undefined;
      const at = now();
      if (!row.lastUsedAt || at.getTime() - row.lastUsedAt.getTime() >= touchIntervalMs) await model.touchToken(row.id, at);
      return { kind: 'token', name: row.name, role: row.role, actor: `token:${row.name}#${row.id}` };
    },

    async changePassword(username: string, currentPassword: string, newPassword: string, keepSessionToken?: string): Promise<void> {
      const operator = await model.findOperator(username);
      if (!operator || !(await verifyPassword(currentPassword, operator.passwordHash))) {
        throw new ServiceError(422, 'wrong_password', 'currentPassword: is not your current password', { field: 'currentPassword' });
      }
      if (currentPassword === newPassword) throw new ServiceError(422, 'same_password', 'newPassword: must differ from the current one', { field: 'newPassword' });
      await model.setPassword(operator.id, await hashPassword(newPassword));
      // Anyone else holding a session of this account is signed out.
      await model.deleteSessionsOf(operator.id, keepSessionToken ? sha256(keepSessionToken) : undefined);
    },

    users: {
      async list(): Promise<OperatorView[]> {
        return (await model.listOperators()).map(({ username, role, mustChangePassword, createdAt }) => ({ username, role, mustChangePassword, createdAt }));
      },
      async create(input: CreateUserInput, options: { mustChangePassword?: boolean } = {}): Promise<OperatorView> {
        const created = await model.insertOperator({ ...input, passwordHash: await hashPassword(input.password), mustChangePassword: options.mustChangePassword ?? true });
        if (!created) throw new ServiceError(409, 'user_exists', `A user named ${input.username} already exists.`, { username: input.username });
        return { username: input.username, role: input.role, mustChangePassword: options.mustChangePassword ?? true, createdAt: now() };
      },
      async remove(username: string, by: Principal): Promise<void> {
        const operator = await model.findOperator(username);
        if (!operator) throw new ServiceError(404, 'not_found', `No user named ${username}.`, { username });
        if (by.kind === 'session' && by.name === username) throw new ServiceError(409, 'own_account', 'You cannot delete the account you are signed in with.');
        if (operator.role === 'admin' && (await model.countAdmins()) <= 1) throw new ServiceError(409, 'last_admin', 'This is the last admin; make another admin first.');
        await model.deleteOperator(username);
      },
    },

    tokens: {
      async list(): Promise<ApiToken[]> {
        return (await model.listTokens()).map((token) => ({ ...token, status: token.revokedAt ? 'revoked' : 'active' }));
      },
      /** The token itself is in the answer once; only its hash is stored. */
      async create(input: CreateTokenInput, by: Principal): Promise<ApiToken & { token: string }> {
        const token = TOKEN_PREFIX + randomSecret();
        const prefix = token.slice(0, TOKEN_PREFIX.length + 6);
        const id = await model.insertToken({ ...input, tokenHash: sha256(token), prefix, createdBy: by.actor });
        return { id, ...input, prefix, createdBy: by.actor, createdAt: now(), lastUsedAt: null, revokedAt: null, status: 'active', token };
      },
      async revoke(id: number): Promise<ApiToken> {
        const token = await model.findToken(id);
        if (!token) throw new ServiceError(404, 'not_found', `No token with ID ${id}.`, { tokenId: id });
        await model.revokeToken(id, now());
        const revoked = (await model.findToken(id))!;
        return { ...revoked, status: 'revoked' };
      },
    },

    audit: {
      record: (entry: { principal: { actor: string; role: string }; action: string; target: string; status: number; detail?: string }) =>
        model.insertAudit({ actor: entry.principal.actor, role: entry.principal.role, action: entry.action, target: entry.target, status: entry.status, detail: entry.detail ?? null }),
      list: (options: { limit: number; before?: number; actor?: string }): Promise<AuditEntry[]> => model.listAudit(options),
    },

    /**
     * The first admin, when there is none: `admin` with a random password that must be changed at
     * first sign-in. Returns the password, or undefined when an admin exists.
     */
    async ensureAdmin(): Promise<{ username: string; password: string } | undefined> {
      if ((await model.countAdmins()) > 0) return undefined;
      const password = randomBytes(18).toString('base64url');
      const created = await model.insertOperator({ username: 'admin', role: 'admin', passwordHash: await hashPassword(password), mustChangePassword: true });
      if (!created) throw new ServiceError(409, 'user_exists', 'A user named admin exists but is not an admin; make an admin with another name.');
      return { username: 'admin', password };
    },
  };
}

export type AccessService = ReturnType<typeof createAccessService>;
