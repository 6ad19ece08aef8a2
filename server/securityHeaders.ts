// Security headers of every response. Pages get a Content-Security-Policy that runs only our own
// scripts and styles (htmx is served from /static, configured by a <meta> to need no eval and to
// inject no <style>), may not be framed (clickjacking of Deploy and Delete) and keep their URL to
// themselves; every response, JSON included, is marked nosniff.
import type { MiddlewareHandler } from 'hono';

/** The pages' policy, directive by directive: nothing inline, nothing from elsewhere. */
const contentSecurityPolicy: Readonly<Record<string, readonly string[]>> = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'form-action': ["'self'"],
  'base-uri': ["'none'"],
  'object-src': ["'none'"],
  'frame-ancestors': ["'none'"],
};

const policyText = Object.entries(contentSecurityPolicy)
  .map(([directive, sources]) => `${directive} ${sources.join(' ')}`)
  .join('; ');

/** What a document (an HTML page or fragment) carries besides nosniff. */
const documentHeaders: readonly (readonly [name: string, value: string])[] = [
  ['Content-Security-Policy', policyText],
  ['X-Frame-Options', 'DENY'],
  ['Referrer-Policy', 'same-origin'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
];

/**
 * Set after the handler, on the response it made, whoever made it (HTML is known by its content type
 * then). On the config cache's hot path the response's headers are already a Headers object (the
 * cache's own headers put them there), so a cached read pays one await, one lookup and one set: under
 * a microsecond, against some 75 µs the read costs over HTTP.
 */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const { headers } = c.res;
    headers.set('X-Content-Type-Options', 'nosniff');
    if (headers.get('content-type')?.startsWith('text/html')) for (const [name, value] of documentHeaders) headers.set(name, value);
  };
}
