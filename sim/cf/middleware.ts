// What stands in front of every CC request, in CC's order: the request log, latency, injected
// faults (as a load balancer would answer them), the rate limiter, then authentication.
import type { Context, MiddlewareHandler, Next } from 'hono';
import { systemClock } from './clock.ts';
import { cfErrors } from './errors.ts';
import type { SimEnv, SimRuntime } from './context.ts';
import { redactedPath, requestKind } from './traffic.ts';

type Middleware = MiddlewareHandler<SimEnv>;

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const isAdmin = (path: string) => path.startsWith('/__sim');
/** CC API calls: what the rate limiter, faults and (but for /v3/info) auth apply to. CC exempts / and /v3. */
export const isCcCall = (path: string) => path.startsWith('/v3/');

export function baseUrl(runtime: SimRuntime): Middleware {
  return async (c, next) => {
    const url = new URL(c.req.url);
    const proto = c.req.header('x-forwarded-proto') ?? url.protocol.replace(':', '');
    const host = c.req.header('x-forwarded-host') ?? url.host;
    const base = `${proto}://${host}`;
    const foreign = runtime.knobs.foreignLinks;
    c.set('baseUrl', base);
    c.set('linkBaseUrls', { pagination: foreign.pagination ? foreign.origin : base, jobLocation: foreign.jobLocation ? foreign.origin : base });
    c.set('applied', false);
    await next();
  };
}

export function requestLog(runtime: SimRuntime): Middleware {
  return async (c, next) => {
    const url = new URL(c.req.url);
    if (isAdmin(url.pathname)) return next();
    const started = runtime.now();
    const startedReal = performance.now();
    await next();
    const api = isCcCall(url.pathname) ? 'cc' : url.pathname.endsWith('/oauth/token') ? 'uaa' : 'other';
    runtime.traffic.record({
      at: new Date(started).toISOString(),
      method: c.req.method,
      path: api === 'uaa' ? url.pathname : redactedPath(url),
      kind: requestKind(c.req.method, url.pathname),
      status: c.res.status,
      mutating: api === 'cc' && MUTATING.has(c.req.method),
      durationMs: Math.round(performance.now() - startedReal),
      ...(c.var.fault ? { fault: c.var.fault } : {}),
      applied: c.var.applied,
      api,
    });
  };
}

/**
 * Every request takes at least `latencyMs` from arrival to answer. The simulator's own processing
 * counts towards it (it stands for the server's share of a real round trip), so a request is not
 * slower than the knob says by however long this process needed to handle it.
 */
export function latency(runtime: SimRuntime): Middleware {
  return async (c, next) => {
    const latencyMs = isAdmin(c.req.path) ? 0 : runtime.knobs.latencyMs;
    if (latencyMs <= 0) return next();
    const arrived = performance.now();
    await next();
    // A fake clock (tests) only moves when told: there the whole latency is waited.
    const spent = runtime.clock === systemClock ? performance.now() - arrived : 0;
    if (latencyMs - spent > 0) await runtime.clock.sleep(latencyMs - spent);
  };
}

/** Background transitions due by now happen before the request sees the state. */
export function settle(runtime: SimRuntime): Middleware {
  return async (_c, next) => {
    runtime.state.settle(runtime.now());
    await next();
  };
}

function retryAfter(runtime: SimRuntime, resetMs: number): string {
  if (runtime.knobs.retryAfter === 'delay-seconds') return String(Math.max(1, Math.ceil((resetMs - runtime.now()) / 1000)));
  return String(Math.floor(resetMs / 1000));
}

/** CC answers 429s with Content-Type text/plain although the body is the JSON error envelope. */
function tooManyRequests(headers: Record<string, string>): Response {
  return new Response(JSON.stringify(cfErrors.rateLimitExceeded().body()), {
    status: 429,
    headers: { ...headers, 'Content-Type': 'text/plain; charset=utf-8' },
  });
}

export function faultInjection(runtime: SimRuntime): Middleware {
  return async (c, next) => {
    if (!isCcCall(c.req.path)) return next();
    const now = runtime.now();
    const storm = runtime.storm;
    if (storm.remainingRequests > 0 || storm.until > now) {
      if (storm.remainingRequests > 0) storm.remainingRequests--;
      const reset = storm.until > now ? storm.until : now + 1000;
      c.set('fault', 'storm-429');
      c.res = tooManyRequests({
        'X-RateLimit-Limit': String(runtime.knobs.rateLimit.limit),
        'X-RateLimit-Remaining': '0',
        'X-RateLimit-Reset': String(Math.floor(reset / 1000)),
        'Retry-After': retryAfter(runtime, reset),
      });
      return;
    }
    const { serverErrorRate, lostResponseRate } = runtime.knobs.faults;
    if (serverErrorRate > 0 && runtime.random() < serverErrorRate) {
      c.set('fault', 'server-error');
      c.res = injectedServerError(c, runtime.random() < 0.5 ? 502 : 503);
      return;
    }
    await next();
    if (MUTATING.has(c.req.method) && c.res.status < 300 && lostResponseRate > 0 && runtime.random() < lostResponseRate) {
      c.set('fault', 'lost-response');
      c.res = injectedServerError(c, 502);
    }
  };
}

function injectedServerError(c: Context<SimEnv>, status: 502 | 503): Response {
  // 503 is CC's own ServiceUnavailable. 502 is the gorouter's answer when CC drops the connection:
  // plain text, not CC's envelope (gorouter handlers/helpers.go writeStatus).
  if (status === 503) return c.json(cfErrors.serviceUnavailable().body(), 503);
  return c.text('502 Bad Gateway: Registered endpoint failed to handle the request.\n', 502, { 'X-Cf-Routererror': 'endpoint_failure' });
}

/** Reads the bearer token without rejecting yet: the rate limiter counts per user, then auth decides. */
export function identify(runtime: SimRuntime): Middleware {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const match = header ? /^bearer\s+(.+)$/i.exec(header) : null;
    if (!match) {
      c.set('tokenProblem', header ? 'invalid' : 'missing');
    } else {
      const verified = runtime.tokens.verify(match[1]!.trim());
      if (typeof verified === 'string') c.set('tokenProblem', verified);
      else c.set('principal', verified);
    }
    await next();
  };
}

/**
 * CC's fixed-window limiter (middleware/base_rate_limiter.rb): per user, or per client IP without a
 * valid token. Admins are exempt (`admin_limit` defaults to -1: unlimited).
 */
export function rateLimiter(runtime: SimRuntime): Middleware {
  return async (c, next) => {
    const { limit, windowSeconds } = runtime.knobs.rateLimit;
    if (!isCcCall(c.req.path) || limit <= 0 || c.var.principal?.admin) return next();
    const now = runtime.now();
    const key = c.var.principal?.subject ?? `ip:${c.req.header('x-forwarded-for')?.split(',')[0]?.trim() ?? 'local'}`;
    let window = runtime.rateWindows.get(key);
    if (!window || window.validUntil < now) {
      window = { count: 0, validUntil: now + windowSeconds * 1000 };
      runtime.rateWindows.set(key, window);
    }
    const newCount = window.count + 1;
    const headers = {
      'X-RateLimit-Limit': String(limit),
      'X-RateLimit-Reset': String(Math.floor(window.validUntil / 1000)),
      // CC's estimate: the share left, floored to tenths, times the limit.
      'X-RateLimit-Remaining': String(Math.max(0, Math.floor((Math.floor(((limit - newCount) / limit) * 10) / 10) * limit))),
    };
    if (newCount > limit) {
      c.set('fault', 'rate-limited');
      c.res = tooManyRequests({ ...headers, 'Retry-After': retryAfter(runtime, window.validUntil) });
      return;
    }
    window.count = newCount;
    await next();
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
  };
}

export function requireToken(): Middleware {
  return async (c: Context<SimEnv>, next: Next) => {
    if (isCcCall(c.req.path) && c.req.path !== '/v3/info' && !c.var.principal) {
      throw c.var.tokenProblem === 'missing' ? cfErrors.notAuthenticated() : cfErrors.invalidAuthToken();
    }
    await next();
  };
}

/** Marks a request whose handler answered 2xx: it changed the state, whatever the client then receives. */
export function markApplied(): Middleware {
  return async (c, next) => {
    await next();
    if (c.res.status < 300) c.set('applied', true);
  };
}
