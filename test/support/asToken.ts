// Requests to an app as a token holder: every app.request() carries `Authorization: Bearer <token>`
// unless the test sets its own, so a test reads as the API's users call it.
import type { Hono } from 'hono';

type Requestable = Pick<Hono, 'request' | 'fetch'>;

function withAuthorization(headers: HeadersInit | undefined, token: string): Headers {
  const merged = new Headers(headers);
  if (!merged.has('authorization')) merged.set('authorization', `Bearer ${token}`);
  return merged;
}

/** `app` as the holder of `token`: its request() adds the token (fetch() is left as it is, for servers and browsers). */
export function asToken<App extends Requestable>(app: App, token: string): App {
  const request: Hono['request'] = (input, init, env, executionContext) => {
    if (input instanceof Request) return app.request(new Request(input, { headers: withAuthorization(input.headers, token) }), init, env, executionContext);
    return app.request(input, { ...init, headers: withAuthorization(init?.headers, token) }, env, executionContext);
  };
  return new Proxy(app, { get: (target, property, receiver) => (property === 'request' ? request : Reflect.get(target, property, receiver)) });
}
