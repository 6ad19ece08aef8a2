// The seed's config API, served by every API instance from its own cache:
//   PUT /config/<key> (POST too, as the seed's README says) with a JSON body → 200, the value echoed
//   GET /config/<key>?use_cache=true|false → 200 with the value, or null for a missing key
//   DELETE /config/<key> → 204
// plus GET /api/config-cache: this instance's cache state, a digest of what it holds, and its memory.
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { HttpBindings } from '@hono/node-server';
import { CONFIG_ROUTE, configCacheHeaders, configKeySchema, configReadQuerySchema, configValueSchema } from '../services/configCache.shared.ts';
import { ConfigStoreUnavailableError, type ConfigCache } from '../services/configCache.ts';
import { parseInput, ServiceError } from '../services/errors.ts';
import { parseOr } from '../workflows/validation.shared.ts';
import { readQuery } from './validation.ts';
import { access } from '../server/access.ts';

/**
 * Names the instance and its cache revision (as the request arrived) on every answer, errors
 * included. Mounted ahead of the app-wide body limit, so even its 413 says who answered. Set before
 * the answer exists: adding headers to a finished one makes @hono/node-server copy it into a
 * streamed Response, which costs more than the cached read itself.
 */
export function configCacheResponseHeaders(cache: ConfigCache): MiddlewareHandler {
  return async (c, next) => {
    c.header(configCacheHeaders.instance, cache.instance);
    c.header(configCacheHeaders.revision, String(cache.revision));
    await next();
  };
}

/** The request target as the client sent it: @hono/node-server resolves `.` and `..` in the URL it gives Hono. */
const rawTarget = (c: Context) => (c.env as Partial<HttpBindings> | undefined)?.incoming?.url;

/**
 * Keys are plain text, so a raw target under /config/ whose `..` segments resolve elsewhere
 * (`/config/../x` is `/x`) is still a config request: it is served as one, under a stand-in path;
 * the key is read from the raw target.
 */
export function rawConfigTargets(fetch: (request: Request, env: unknown) => Response | Promise<Response>): MiddlewareHandler {
  return async (c, next) => {
    if (!rawTarget(c)?.startsWith(CONFIG_ROUTE) || c.req.path.startsWith(CONFIG_ROUTE)) return next();
    const url = new URL(c.req.url);
    url.pathname = `${CONFIG_ROUTE}-`;
    const { method, headers, body } = c.req.raw;
    return fetch(new Request(url, { method, headers, body, duplex: 'half' } as RequestInit), c.env);
  };
}

/** The key exactly as the client sent it; configKeySchema (configCache.shared.ts) says which keys are refused. */
function requestedKey(c: Context): string {
  const raw = rawTarget(c);
  let target = raw?.startsWith(CONFIG_ROUTE) ? raw : undefined;
  if (target === undefined) {
    const url = c.req.url;
    target = url.slice(url.indexOf('/', url.indexOf('//') + 2));
  }
  const end = target.search(/[?#]/);
  return parseInput(configKeySchema, (end === -1 ? target : target.slice(0, end)).slice(CONFIG_ROUTE.length), 'key');
}

async function available<T>(operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    if (error instanceof ConfigStoreUnavailableError) throw new ServiceError(503, 'etcd_unavailable', error.message);
    throw error;
  }
}

const json = (c: Context, text: string) => c.body(text, 200, { 'content-type': 'application/json; charset=utf-8' });

export function configCacheRoutes(cache: ConfigCache) {
  const valueLimit = bodyLimit({
    maxSize: cache.maxValueBytes,
    onError: () => {
      throw new ServiceError(413, 'payload_too_large', `The value is larger than ${cache.maxValueBytes} bytes (CONFIG_CACHE_MAX_VALUE_BYTES).`);
    },
  });
  // The seed's API: the body is one JSON value whatever its content type (its README's curl -d sends a form type).
  const valueSchema = configValueSchema(cache.maxValueBytes);
  const write = async (c: Context) => {
    const key = requestedKey(c);
    // Kept as sent (big numbers keep their digits).
    const value = parseOr(valueSchema, await c.req.text(), ({ message }) => {
      throw new ServiceError(400, 'invalid_json', message);
    });
    await available(cache.put(key, value));
    return json(c, value);
  };
  return new Hono()
    .get(`${CONFIG_ROUTE}*`, access('dataPlane'), async (c) => {
      const key = requestedKey(c);
      const read = await available(cache.get(key, readQuery(c, configReadQuerySchema)));
      c.header(configCacheHeaders.source, read.source);
      return json(c, read.json ?? 'null');
    })
    .put(`${CONFIG_ROUTE}*`, access('dataPlane'), valueLimit, write)
    .post(`${CONFIG_ROUTE}*`, access('dataPlane'), valueLimit, write)
    .delete(`${CONFIG_ROUTE}*`, access('dataPlane'), async (c) => {
      await available(cache.delete(requestedKey(c)));
      return c.body(null, 204);
    })
    .all(`${CONFIG_ROUTE}*`, access('dataPlane'), (c) => {
      c.header('allow', 'GET, HEAD, PUT, POST, DELETE');
      throw new ServiceError(405, 'method_not_allowed', `${c.req.method} is not served on ${CONFIG_ROUTE}<key>: use GET, PUT (or POST) or DELETE.`);
    })
    .get('/api/config-cache', access('dataPlane'), (c) => {
      const memory = process.memoryUsage();
      return c.json({ ...cache.status(), digest: cache.digest(), pid: process.pid, rssBytes: memory.rss, heapUsedBytes: memory.heapUsed });
    });
}
