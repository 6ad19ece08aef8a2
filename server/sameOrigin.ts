// Requests from other sites change nothing. A browser marks where a request comes from: a form or
// fetch of another site's page carries its Origin (or `Origin: null`) and `Sec-Fetch-Site:
// cross-site`, so any state-changing request marked that way is refused with a 403, whatever its
// content type. A DNS-rebinding page is same-origin to the browser but names its own host in the
// Host header, so a request for a host this server does not answer for is refused too, reads
// included. Clients that send neither header (curl, the workflows' HTTP calls, app.request in
// tests) are not browsers acting for a page and pass.
import type { MiddlewareHandler } from 'hono';
import { isLoopbackHost } from '../config.ts';
import { ServiceError } from '../services/errors.ts';

/** Methods that change nothing, so another site may send them (they still need a known Host). */
const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Probes answer whatever host a load balancer or orchestrator names. */
const probePaths = new Set(['/healthz', '/readyz']);
/** What `Sec-Fetch-Site` says of a request the user made on this site or typed in themselves. */
const ownSites = new Set(['same-origin', 'none']);

/** A host name as the URL parser writes it (lower case, IPv6 in brackets), or undefined when it is not one. */
function hostname(host: string): string | undefined {
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return undefined;
  }
}

/** An origin as the URL parser writes it (default port dropped), or undefined when it is not one. */
function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

export interface SameOriginOptions {
  /** Host names answered besides loopback ones, on any port (the address the API listens on). */
  allowedHosts?: readonly string[];
  /**
   * Other sites' pages that may send state-changing requests under a path prefix: the Temporal Web
   * UI's origin on /codec/ (the codec server it calls from the browser). Only an exact Origin match
   * passes; the routes under the prefix answer CORS for that origin themselves.
   */
  crossOriginPaths?: readonly { pathPrefix: string; origin: string }[];
}

export function sameOrigin(options: SameOriginOptions = {}): MiddlewareHandler {
  // A bare IPv6 address (API_HOST=::1) is written in brackets in a Host header.
  const allowed = new Set((options.allowedHosts ?? []).map((host) => hostname(/^[^[].*:/.test(host) ? `[${host}]` : host)));
  const refuse = (code: string, message: string) => new ServiceError(403, code, message);
  const crossOriginPaths = (options.crossOriginPaths ?? []).map((entry) => ({ ...entry, origin: originOf(entry.origin) }));
  const mayCrossOrigin = (path: string, origin: string | undefined) =>
    origin !== undefined && crossOriginPaths.some((entry) => path.startsWith(entry.pathPrefix) && entry.origin === originOf(origin));
  // A Host's verdict depends on the header alone, and a server sees few: remembered, so the hot path
  // (a cached config read) parses no URL. Bounded, since the header is the client's to choose.
  const knownHosts = new Map<string, boolean>();
  const answersFor = (host: string) => {
    let known = knownHosts.get(host);
    if (known === undefined) {
      const name = hostname(host);
      known = name !== undefined && (isLoopbackHost(name) || allowed.has(name));
      if (knownHosts.size >= 64) knownHosts.clear();
      knownHosts.set(host, known);
    }
    return known;
  };
  return async (c, next) => {
    // @hono/node-server builds the URL from the Host header; app.request() has none and names localhost.
    const host = c.req.header('host') ?? new URL(c.req.url).host;
    if (!probePaths.has(c.req.path) && !answersFor(host)) throw refuse('unknown_host', `This server does not answer for host ${JSON.stringify(host)}.`);
    if (!safeMethods.has(c.req.method) && !mayCrossOrigin(c.req.path, c.req.header('origin'))) {
      const site = c.req.header('sec-fetch-site');
      if (site !== undefined && !ownSites.has(site)) throw refuse('cross_site_request', `A ${c.req.method} from another site (Sec-Fetch-Site: ${site}) is refused.`);
      const origin = c.req.header('origin');
      const own = originOf(`${new URL(c.req.url).protocol}//${host}`);
      if (origin !== undefined && (origin === 'null' || own === undefined || originOf(origin) !== own))
        throw refuse('cross_site_request', `A ${c.req.method} from origin ${origin} is refused: only this server's own pages may send it.`);
    }
    await next();
  };
}
