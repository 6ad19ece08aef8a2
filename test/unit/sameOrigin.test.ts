// Requests from other sites change nothing, through the whole app on stub clients
// (support/stubApp.ts, which records every workflow start and MySQL query): a state-changing request
// that a browser marks as another site's (its Origin, `Origin: null`, `Sec-Fetch-Site`) is a 403
// whatever its content type, and a request naming a host the server does not answer for (a
// DNS-rebinding page) is a 403 even on GET. Clients that send neither header still pass.
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { errorResponse, type ErrorBody } from '../../api/errors.ts';
import { sameOrigin } from '../../server/sameOrigin.ts';
import { cluster } from './support/nodes.ts';
import { stubApp } from './support/stubApp.ts';

const SCRIPTS = '/ui/nodes/clusters/web/scripts';
const OWN = 'http://localhost';

/** A cluster with one active node, so a script form that gets through starts a run. */
function rows(sql: string): unknown {
  if (sql.includes('FROM clusters')) return [{ name: cluster.name }];
  if (sql.includes('FROM nodes')) return [{ name: 'web01', ssh_host: 'web01.internal', ssh_port: 22, host_key_sha256: null, user: 'ops', key_ref: 'ops-key', port: 22 }];
  return [];
}

/** The form the script page posts, with the headers a browser would add. */
const scriptForm = (headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  body: new URLSearchParams({ script: 'touch /tmp/pwned' }),
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
});

/** Expects a 403 with `code` and nothing started, queried or looked up. */
async function expectRefused(path: string, init: RequestInit, code = 'cross_site_request') {
  const stub = stubApp({ rows });
  const response = await stub.app.request(path, init);
  const { error } = (await response.json()) as ErrorBody;
  expect(response.status, JSON.stringify(error)).toBe(403);
  expect(error.code).toBe(code);
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  expect(stub.starts).toEqual([]);
  expect(stub.queries).toEqual([]);
  expect(stub.handles).toEqual([]);
}

/** Expects the script form to get through: a distributedScript run started. */
async function expectScriptStarted(init: RequestInit) {
  const stub = stubApp({ rows });
  const response = await stub.app.request(SCRIPTS, init);
  expect(response.status, await response.text()).toBeLessThan(400);
  expect(stub.starts.map((s) => s.workflowType)).toEqual(['distributedScript']);
}

describe('state-changing requests from other sites', () => {
  it.each([
    ['a form posted from another site', { origin: 'http://evil.example' }],
    ['a form whose Origin differs only in port', { origin: 'http://localhost:8080' }],
    ['a form whose Origin differs only in scheme', { origin: 'https://localhost' }],
    ['a form from an opaque origin (Origin: null: a sandboxed frame, a data: URL)', { origin: 'null' }],
    ['a form a browser marks cross-site (no Origin)', { 'sec-fetch-site': 'cross-site' }],
    ['a form a browser marks same-site (a sibling subdomain)', { 'sec-fetch-site': 'same-site' }],
    ['a same-origin Origin with Sec-Fetch-Site: cross-site', { origin: OWN, 'sec-fetch-site': 'cross-site' }],
  ])('refuse %s with 403, running nothing', async (_what, headers) => {
    await expectRefused(SCRIPTS, scriptForm(headers));
  });

  it('refuses a text/plain POST to the JSON API from another origin with 403, not 415', async () => {
    const body = JSON.stringify({ kinds: [{ kind: 'proxy', count: 1, instances: 1 }] });
    await expectRefused('/api/cf-convergences', { method: 'POST', body, headers: { 'content-type': 'text/plain', origin: 'http://evil.example' } });
  });

  it.each(['PUT', 'PATCH', 'DELETE'])('refuses a %s from another origin', async (method) => {
    await expectRefused('/api/config/feature-flags/x', { method, body: '{}', headers: { 'content-type': 'application/json', origin: 'http://evil.example' } });
  });

  it.each([
    ['its own Origin', { origin: OWN }],
    ['its own Origin with the default port written out', { origin: 'http://localhost:80' }],
    ['Sec-Fetch-Site: same-origin', { 'sec-fetch-site': 'same-origin' }],
    ['both, as Chromium sends them', { origin: OWN, 'sec-fetch-site': 'same-origin' }],
    ['Sec-Fetch-Site: none (typed in by the user)', { 'sec-fetch-site': 'none' }],
    ['neither header (curl)', {}],
  ])('let a form with %s through', async (_what, headers) => {
    await expectScriptStarted(scriptForm(headers));
  });

  it('compares Origin with the Host the request names, on loopback addresses', async () => {
    await expectScriptStarted(scriptForm({ host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000' }));
    await expectScriptStarted(scriptForm({ host: '[::1]:3000', origin: 'http://[::1]:3000' }));
    await expectRefused(SCRIPTS, scriptForm({ host: '127.0.0.1:3000', origin: 'http://localhost:3000' }));
  });

  it('lets another site read (GET carries no state change)', async () => {
    const response = await stubApp().app.request('/api/workflows', { headers: { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' } });
    expect(response.status).toBe(200);
  });
});

describe('hosts the server does not answer for (DNS rebinding)', () => {
  it('refuses a page for a foreign Host with 403', async () => {
    await expectRefused('/', { headers: { host: 'evil.example:3000' } }, 'unknown_host');
  });

  it('refuses a same-origin POST for a foreign Host with 403, running nothing', async () => {
    await expectRefused(SCRIPTS, scriptForm({ host: 'evil.example:3000', origin: 'http://evil.example:3000', 'sec-fetch-site': 'same-origin' }), 'unknown_host');
  });

  it.each(['/healthz', '/readyz'])('answers %s for any Host', async (path) => {
    const response = await stubApp().app.request(path, { headers: { host: 'evil.example:3000' } });
    expect(response.status).not.toBe(403);
    expect(((await response.json()) as { status: string }).status).toMatch(/ok|unready/);
  });

  it.each(['localhost:3000', 'localhost', '127.0.0.1:3000', '127.1.2.3:8080', '[::1]:3000', 'LOCALHOST:3000'])('answers for the loopback host %s', async (host) => {
    expect((await stubApp().app.request('/api/workflows', { headers: { host } })).status).toBe(200);
  });

  it.each(['localhost.evil.example', '127.0.0.1.evil.example', '10.0.0.5:3000', 'not a host'])('refuses the host %s', async (host) => {
    await expectRefused('/api/workflows', { headers: { host } }, 'unknown_host');
  });
});

describe('hosts configured besides loopback (API_HOST)', () => {
  const app = new Hono().use(sameOrigin({ allowedHosts: ['Fleet.Internal', '10.0.0.5', 'fe80::1'] })).all('*', (c) => c.text('ok'));
  app.onError(errorResponse);
  const status = async (host: string) => (await app.request('/', { headers: { host } })).status;

  it('answers for them on any port, and for loopback still', async () => {
    for (const host of ['fleet.internal:3000', 'FLEET.INTERNAL', '10.0.0.5:3000', '[fe80::1]:3000', 'localhost:3000']) expect(await status(host), host).toBe(200);
  });

  it('refuses every other host', async () => {
    for (const host of ['fleet.internal.evil.example', '10.0.0.6:3000', '[fe80::2]:3000']) expect(await status(host), host).toBe(403);
  });
});

describe('another origin allowed on a path prefix (the Temporal Web UI on /codec/)', () => {
  const WEB_UI = 'http://127.0.0.1:8233';
  const app = new Hono().use(sameOrigin({ crossOriginPaths: [{ pathPrefix: '/codec/', origin: `${WEB_UI}/` }] })).all('*', (c) => c.text('ok'));
  app.onError(errorResponse);
  /** A fetch POST from a page at `origin`, as a browser marks it. */
  const status = async (path: string, origin: string, site = 'same-site') =>
    (await app.request(path, { method: 'POST', body: '{}', headers: { host: '127.0.0.1:3000', origin, 'sec-fetch-site': site } })).status;

  it('lets that origin POST under the prefix, whatever Sec-Fetch-Site says', async () => {
    expect(await status('/codec/decode', WEB_UI)).toBe(200);
    expect(await status('/codec/encode', 'http://127.0.0.1:8233', 'cross-site')).toBe(200);
  });

  it('refuses that origin elsewhere, and other origins under the prefix', async () => {
    expect(await status('/api/health-checks', WEB_UI)).toBe(403);
    expect(await status('/codecs', WEB_UI)).toBe(403);
    for (const origin of ['http://127.0.0.1:8234', 'http://localhost:8233', 'https://127.0.0.1:8233', 'null', 'http://evil.example']) {
      expect(await status('/codec/decode', origin), origin).toBe(403);
    }
  });

  it('refuses a request under the prefix that a browser marks cross-site without an Origin', async () => {
    const response = await app.request('/codec/decode', { method: 'POST', body: '{}', headers: { 'sec-fetch-site': 'cross-site' } });
    expect(response.status).toBe(403);
  });
});
