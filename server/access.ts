// Who may call which route. Every route declares its access as its first handler (`access('operator')`),
// and one middleware enforces it before anything runs: it finds the matched route's declaration,
// resolves the caller (a bearer token, or a session cookie), checks a session's CSRF token on every
// state-changing request, checks the role, and records each state-changing request in the audit
// log. A route that declares nothing answers 500 and runs nothing (a test walks the route table).
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { matchedRoutes } from 'hono/route';
import { CSRF_FIELD, CSRF_HEADER, roleAllows, SESSION_COOKIE, type Principal, type Role } from '../services/access.shared.ts';
import { sameSecret, type AccessService } from '../services/access.ts';
import { ServiceError } from '../services/errors.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** Who the request acts as; set on every route that is not public or an open data-plane route. */
    principal: Principal;
  }
}

/**
 * - `public`: anyone (probes, static assets, the login page, redirects of moved pages, CORS preflights).
 * - `dataPlane`: what load tools call (the request-run receiver, the config API): anyone when the data
 *   plane is open (DATA_PLANE_OPEN), otherwise a viewer to read and an operator to write.
 * - a role: at least that role.
 */
export type AccessLevel = 'public' | 'dataPlane' | Role;

export interface AccessDeclaration {
  level: AccessLevel;
  /**
   * A POST that changes nothing (the codec server's pure encode/decode): no CSRF token is asked for
   * and nothing is audited, since another site gains nothing by sending it and CORS keeps the answer
   * from other sites' pages.
   */
  readOnly?: boolean;
}

const accessMark = Symbol('access');
type MarkedHandler = MiddlewareHandler & { [accessMark]: AccessDeclaration };

/** The declaration a route starts with: it does nothing itself; `authorize` reads it from the matched route. */
export function access(level: AccessLevel, options: { readOnly?: boolean } = {}): MiddlewareHandler {
  const handler: MiddlewareHandler = (_c, next) => next();
  return Object.assign(handler, { [accessMark]: { level, ...options } }) as MarkedHandler;
}

function declarationOf(handler: unknown): AccessDeclaration | undefined {
  return typeof handler === 'function' ? (handler as Partial<MarkedHandler>)[accessMark] : undefined;
}

export function declaredLevel(handler: unknown): AccessLevel | undefined {
  return declarationOf(handler)?.level;
}

/**
 * The access the route that answers this request declares: the first matched handler that carries a
 * declaration, unless a route handler (not `use()` middleware, which is registered for ALL methods)
 * comes before it; `unmatched` when no route matches (a 404 for whoever may see it).
 */
function requestDeclaration(c: Context): AccessDeclaration | 'undeclared' | 'unmatched' {
  for (const route of matchedRoutes(c)) {
    const declaration = declarationOf(route.handler);
    if (declaration) return declaration;
    if (route.method !== 'ALL') return 'undeclared';
  }
  return 'unmatched';
}

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Answers for a browser's page load go to the login page; everything else gets a 401 it can read. */
function unauthenticated(c: Context): Response {
  const wantsPage = c.req.method === 'GET' && (c.req.header('accept') ?? '').includes('text/html') && !c.req.header('authorization');
  const next = c.req.path + (new URL(c.req.url).search || '');
  if (c.req.header('hx-request')) {
    // htmx follows HX-Redirect whatever the status; a poll of a page whose session ended lands on the login page.
    const from = c.req.header('hx-current-url');
    let page = '/';
    try {
      if (from) page = new URL(from).pathname + new URL(from).search;
    } catch {
      // an unreadable HX-Current-URL: back to Home after signing in
    }
    c.header('HX-Redirect', `/login?next=${encodeURIComponent(page)}`);
  } else if (wantsPage) {
    return c.redirect(`/login?next=${encodeURIComponent(next)}`, 302);
  }
  c.header('WWW-Authenticate', 'Bearer realm="fleet"');
  return c.json({ error: { code: 'unauthenticated', message: 'Sign in at /login, or send a token: Authorization: Bearer <token>.' } }, 401);
}

/** The CSRF token a state-changing request of a session sends back: the htmx header, or the form field. */
async function sentCsrfToken(c: Context): Promise<string | undefined> {
  const header = c.req.header(CSRF_HEADER);
  if (header) return header;
  const type = c.req.header('content-type') ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded') && !type.startsWith('multipart/form-data')) return undefined;
  // parseBody caches the body on the request, so the route reads the same form again. A body it
  // cannot read carries no token.
  const field = await c.req.parseBody().then(
    (form) => form[CSRF_FIELD],
    () => undefined,
  );
  return typeof field === 'string' ? field : undefined;
}

async function resolvePrincipal(c: Context, service: AccessService): Promise<Principal | undefined | 'bad-token'> {
  const authorization = c.req.header('authorization');
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    const principal = match ? await service.tokenPrincipal(match[1]!) : undefined;
    // A token that does not work is an error, not a fallback to the cookie: the client should know.
    return principal ?? 'bad-token';
  }
  const session = getCookie(c, SESSION_COOKIE);
  return session ? service.sessionPrincipal(session) : undefined;
}

/** What the audit log names as the target: the path, and the workflow a start created when the answer names it. */
async function auditTarget(c: Context): Promise<string> {
  const location = c.res.headers.get('location') ?? c.res.headers.get('hx-redirect') ?? c.res.headers.get('hx-location');
  if (location) return `${c.req.path} → ${location}`;
  if ((c.res.headers.get('content-type') ?? '').startsWith('application/json') && c.res.status < 300) {
    try {
      const body = (await c.res.clone().json()) as Record<string, unknown>;
      const created = body.workflowId ?? body.runId;
      if (typeof created === 'string' && !c.req.path.split('/').includes(encodeURIComponent(created))) return `${c.req.path} → ${created}`;
    } catch {
      // not an object: the path alone
    }
  }
  return c.req.path;
}

/** Paths a session whose password someone else chose may use before choosing its own. */
const passwordChangePaths = new Set(['/account/password', '/logout']);

export interface AuthorizeOptions {
  service: AccessService;
  /** DATA_PLANE_OPEN: the receiver and the config API need no credentials. */
  dataPlaneOpen: boolean;
}

export function authorize(options: AuthorizeOptions): MiddlewareHandler {
  const { service } = options;
  return async (c, next) => {
    const declaration = requestDeclaration(c);
    const level = typeof declaration === 'string' ? declaration : declaration.level;
    if (level === 'public' || (level === 'dataPlane' && options.dataPlaneOpen)) return next();
    if (level === 'undeclared') {
      console.error(`${c.req.method} ${c.req.path}: its route declares no access; refused`);
      throw new ServiceError(500, 'access_undeclared', 'This route declares no access, so it serves no one.');
    }
    const principal = await resolvePrincipal(c, service);
    if (principal === 'bad-token') {
      c.header('WWW-Authenticate', 'Bearer realm="fleet", error="invalid_token"');
      throw new ServiceError(401, 'invalid_token', 'The bearer token is unknown or revoked.');
    }
    if (!principal) return unauthenticated(c);
    const safe = safeMethods.has(c.req.method) || (typeof declaration === 'object' && declaration.readOnly === true);
    // A cookie rides along with any request the browser sends; the token in the page proves the page sent it.
    if (!safe && principal.kind === 'session' && !sameSecret(await sentCsrfToken(c), principal.csrfToken)) {
      throw new ServiceError(403, 'csrf_failed', 'The request did not carry this session’s CSRF token; reload the page and try again.');
    }
    c.set('principal', principal);
    // A password someone else chose (the printed first one) opens only the page that replaces it.
    if (principal.mustChangePassword && !passwordChangePaths.has(c.req.path)) {
      if (c.req.method === 'GET' && (c.req.header('accept') ?? '').includes('text/html') && !c.req.header('hx-request')) return c.redirect('/account/password', 302);
      throw new ServiceError(403, 'password_change_required', 'Choose your own password first, at /account/password.');
    }
    const needed: Role = level === 'dataPlane' ? (safe ? 'viewer' : 'operator') : level === 'unmatched' ? 'viewer' : level;
    if (!roleAllows(principal.role, needed)) {
      if (!safe) await recordAudit(c, service, principal, 403);
      throw new ServiceError(403, 'forbidden', `This needs the ${needed} role; ${principal.name} is ${principal.role === 'admin' ? 'an' : 'a'} ${principal.role}.`, {
        role: needed,
      });
    }
    await next();
    if (!safe && level !== 'dataPlane') await recordAudit(c, service, principal, c.res.status);
  };
}

async function recordAudit(c: Context, service: AccessService, principal: Principal, status: number): Promise<void> {
  const route = matchedRoutes(c).find((r) => r.method !== 'ALL' || declaredLevel(r.handler))?.path ?? c.req.path;
  try {
    await service.audit.record({ principal, action: `${c.req.method} ${route}`, target: status < 400 ? await auditTarget(c) : c.req.path, status });
  } catch (error) {
    // The change happened; a lost audit line must not turn it into an error for the caller.
    console.error(`audit log: could not record ${c.req.method} ${c.req.path} by ${principal.actor}:`, error);
  }
}
