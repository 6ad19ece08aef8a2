// Who may call which route, over the whole app on stub clients: every route declares its access (the
// route table is walked), no credentials get a 401 or the login page, a viewer gets a 403 on every
// state-changing route, a session's state-changing request needs its CSRF token, and every change is
// in the audit log.
import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { access, authorize, declaredLevel, type AccessLevel } from '../../server/access.ts';
import { roleAllows, roles, SESSION_COOKIE, type Role } from '../../services/access.shared.ts';
import { localPath } from '../../ui/pages/access.tsx';
import { stubApp } from './support/stubApp.ts';
import { csrfOf, stubAccess, unitSessions, unitTokens } from './support/stubAccess.ts';

interface RouteEntry {
  method: string;
  path: string;
  level: AccessLevel | undefined;
}

/** Each route of the app once: its method, path and the access its first handler declares. */
function routeTable(app: Hono): RouteEntry[] {
  const seen = new Map<string, RouteEntry>();
  for (const route of app.routes) {
    const key = `${route.method} ${route.path}`;
    const level = declaredLevel(route.handler);
    // `use()` middleware is registered for ALL methods and declares nothing; an ALL route declares.
    if (route.method === 'ALL' && !level && !seen.has(key)) continue;
    if (!seen.has(key)) seen.set(key, { method: route.method, path: route.path, level });
  }
  return [...seen.values()];
}

/** A path that reaches the route: each parameter filled with a value its pattern accepts. */
function concretePath(path: string): string {
  return path
    .replace(/:(\w+)\{([^}|]+)[^}]*\}/g, '$2')
    .replace(/:tokenId/g, '1')
    .replace(/:(\w+)/g, 'x')
    .replace(/\*$/, 'some-key');
}

const state = (method: string) => !['GET', 'HEAD', 'OPTIONS'].includes(method);
const { app, anonymous } = stubApp();
const table = routeTable(anonymous);

describe('the route table', () => {
  it('declares access on every route, as the route’s first handler', () => {
    expect(table.length).toBeGreaterThan(80);
    const undeclared = table.filter((route) => !route.level).map((route) => `${route.method} ${route.path}`);
    expect(undeclared).toEqual([]);
  });

  it('is the route table docs/security.md shows', () => {
    const documented = [...readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8').matchAll(/^\| `(\w+)` \| `([^`]+)` \| (\w+) \|$/gm)].map(([, method, path, level]) => `${method} ${path} ${level}`);
    expect(documented).toEqual(table.map((route) => `${route.method} ${route.path} ${route.level}`));
  });

  it('keeps the public and data-plane routes to the few that must be', () => {
    const open = table.filter((route) => route.level === 'public' || route.level === 'dataPlane').map((route) => `${route.method} ${route.path}`);
    for (const route of open) expect(route).toMatch(/^OPTIONS \/codec\/|^(GET|POST) \/(healthz|readyz|login|static\/|autoscaler|sender|receiver-stats|runs\/|cf\b)|^\w+ \/(receiver|config\/\*|api\/config-cache)$/);
  });

  it('refuses to serve a route that declares nothing (500) and runs none of it', async () => {
    let ran = false;
    const bare = new Hono();
    bare.use('*', authorize({ service: stubAccess().service, dataPlaneOpen: true }));
    bare.onError((error, c) => c.json({ error: (error as Error).message }, 500));
    bare.get('/forgotten', (c) => {
      ran = true;
      return c.text('served');
    });
    bare.get('/declared', access('viewer'), (c) => c.text('served'));
    expect((await bare.request('/forgotten', { headers: { authorization: `Bearer ${unitTokens.admin}` } })).status).toBe(500);
    expect(ran).toBe(false);
    expect((await bare.request('/declared', { headers: { authorization: `Bearer ${unitTokens.viewer}` } })).status).toBe(200);
  });
});

describe('without credentials', () => {
  const controlRoutes = table.filter((route) => route.level && route.level !== 'public' && route.level !== 'dataPlane');

  it.each(controlRoutes.map((route) => [`${route.method} ${route.path}`, route] as const))('%s answers 401 to an API client', async (_name, route) => {
    const response = await anonymous.request(concretePath(route.path), { method: route.method, headers: { accept: 'application/json', 'content-type': 'application/json' }, body: state(route.method) ? '{}' : undefined });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('sends a browser’s page load to the login page, and htmx there by HX-Redirect', async () => {
    const page = await anonymous.request('/nodes/clusters/web?tab=nodes', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe(`/login?next=${encodeURIComponent('/nodes/clusters/web?tab=nodes')}`);
    const poll = await anonymous.request('/ui/partials/health', { headers: { 'hx-request': 'true', 'hx-current-url': 'http://127.0.0.1:3000/cpu-load?target=web' } });
    expect(poll.status).toBe(401);
    expect(poll.headers.get('hx-redirect')).toBe(`/login?next=${encodeURIComponent('/cpu-load?target=web')}`);
  });

  it('serves probes, static assets and the login page', async () => {
    for (const path of ['/healthz', '/static/app.css', '/static/htmx.min.js', '/login']) expect((await anonymous.request(path)).status, path).toBe(200);
  });

  it('answers an unknown or revoked token with 401 invalid_token, not as no token', async () => {
    const response = await anonymous.request('/api/workflows', { headers: { authorization: 'Bearer fleet_not-a-token' } });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_token');
  });

  it('lets load tools call the data plane only while it is open', async () => {
    const closed = stubApp({ dataPlaneOpen: false });
    expect((await anonymous.request('/config/some-key')).status).toBe(200);
    expect((await closed.anonymous.request('/config/some-key')).status).toBe(401);
    expect((await closed.anonymous.request('/receiver?timestamp=1')).status).toBe(401);
    expect((await closed.anonymous.request('/config/some-key', { headers: { authorization: `Bearer ${unitTokens.viewer}` } })).status).toBe(200);
    const write = (role: Role) =>
      closed.anonymous.request('/config/some-key', { method: 'PUT', headers: { authorization: `Bearer ${unitTokens[role]}`, 'content-type': 'application/json' }, body: '1' });
    expect((await write('viewer')).status).toBe(403);
    expect((await write('operator')).status).toBe(200);
  });
});

describe('roles', () => {
  const byRole = (role: Role) => table.filter((route) => route.level && roles.includes(route.level as Role) && !roleAllows(role, route.level as Role));

  it.each(byRole('viewer').map((route) => [`${route.method} ${route.path} (${route.level})`, route] as const))('a viewer token gets 403 on %s', async (_name, route) => {
    const { app: viewerApp, anonymous: raw, starts, stored } = stubApp();
    void viewerApp;
    const response = await raw.request(concretePath(route.path), {
      method: route.method,
      headers: { authorization: `Bearer ${unitTokens.viewer}`, 'content-type': 'application/json' },
      body: state(route.method) ? '{}' : undefined,
    });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { code: string; role: string } }).error).toMatchObject({ code: 'forbidden', role: route.level });
    expect(starts).toEqual([]);
    expect(stored).toEqual([]);
  });

  it('lets an operator start work but not manage clusters, profiles, users or tokens', async () => {
    const { anonymous: raw, starts } = stubApp();
    const asOperator = { authorization: `Bearer ${unitTokens.operator}`, 'content-type': 'application/json' };
    const run = await raw.request('/api/health-checks', { method: 'POST', headers: asOperator, body: '{}' });
    expect(run.status).toBe(201);
    expect(starts).toHaveLength(1);
    for (const [method, path] of [['POST', '/api/clusters'], ['PUT', '/api/ec2-profiles/small'], ['POST', '/api/tokens'], ['GET', '/api/users'], ['GET', '/admin/tokens']]) {
      expect((await raw.request(path!, { method, headers: asOperator, body: method === 'GET' ? undefined : '{}' })).status, `${method} ${path}`).toBe(403);
    }
  });
});

describe('a refused page load', () => {
  it('is a page in the app’s frame, not JSON', async () => {
    const cookie = `${SESSION_COOKIE}=${unitSessions.viewer}`;
    const forbidden = await anonymous.request('/admin/tokens', { headers: { cookie, accept: 'text/html' } });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await forbidden.text()).toMatch(/<h1>Not allowed<\/h1>.*This needs the admin role; viewer-user is a viewer\./s);
    const missing = await anonymous.request('/no-such-page', { headers: { cookie, accept: 'text/html' } });
    expect([missing.status, (await missing.text()).includes('There is no page at /no-such-page.')]).toEqual([404, true]);
    const api = await anonymous.request('/admin/tokens', { headers: { cookie } });
    expect([api.status, api.headers.get('content-type')]).toEqual([403, 'application/json']);
  });
});

describe('a session', () => {
  const cookie = (role: Role) => `${SESSION_COOKIE}=${unitSessions[role]}`;

  it('reads with its cookie alone', async () => {
    const me = await anonymous.request('/api/me', { headers: { cookie: cookie('viewer') } });
    expect(await me.json()).toMatchObject({ kind: 'session', role: 'viewer' });
  });

  it('changes nothing without its CSRF token (403), whatever the body', async () => {
    const { anonymous: raw, starts } = stubApp();
    const attempts: RequestInit[] = [
      { method: 'POST', headers: { cookie: cookie('operator'), 'content-type': 'application/json' }, body: '{}' },
      { method: 'POST', headers: { cookie: cookie('operator'), 'content-type': 'application/x-www-form-urlencoded' }, body: '_csrf=wrong' },
      { method: 'POST', headers: { cookie: cookie('operator'), 'x-csrf-token': csrfOf('viewer') }, body: '' },
    ];
    for (const init of attempts) {
      const response = await raw.request('/api/health-checks', init);
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('csrf_failed');
    }
    expect(starts).toEqual([]);
  });

  it('acts with its token in the htmx header or the form field', async () => {
    const { anonymous: raw, starts } = stubApp();
    const byHeader = await raw.request('/api/health-checks', { method: 'POST', headers: { cookie: cookie('operator'), 'x-csrf-token': csrfOf('operator'), 'content-type': 'application/json' }, body: '{}' });
    expect(byHeader.status).toBe(201);
    const byField = await raw.request('/ui/health-checks', { method: 'POST', headers: { cookie: cookie('operator'), 'content-type': 'application/x-www-form-urlencoded' }, body: `_csrf=${csrfOf('operator')}` });
    expect(byField.status).toBe(200);
    expect(starts).toHaveLength(2);
  });

  it('puts its CSRF token on every page for htmx, and its name and role in the top bar', async () => {
    const html = await (await anonymous.request('/', { headers: { cookie: cookie('operator') } })).text();
    expect(html).toContain(`hx-headers="{&quot;x-csrf-token&quot;:&quot;${csrfOf('operator')}&quot;}"`);
    expect(html).toMatch(/operator-user <span class="role">operator<\/span>/);
    expect(html).toContain(`<input type="hidden" name="_csrf" value="${csrfOf('operator')}"/>`);
  });
});

describe('the audit log', () => {
  it('records who changed what, with the workflow a start made, and refused attempts', async () => {
    const { app: asAdmin, anonymous: raw, audited } = stubApp();
    await asAdmin.request('/api/health-checks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await raw.request('/api/clusters', { method: 'POST', headers: { authorization: `Bearer ${unitTokens.viewer}`, 'content-type': 'application/json' }, body: '{}' });
    await asAdmin.request('/api/workflows');
    expect(audited).toEqual([
      { actor: 'token:unit-admin#1', action: 'POST /api/health-checks', target: '/api/health-checks → health-check', status: 201 },
      { actor: 'token:unit-viewer#1', action: 'POST /api/clusters', target: '/api/clusters', status: 403 },
    ]);
  });
});

describe('a form post that is not a form', () => {
  it('is a 415 or a 400 naming the problem, not a 500', async () => {
    const json = await anonymous.request('/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect([json.status, ((await json.json()) as { error: { code: string } }).error.code]).toEqual([415, 'unsupported_media_type']);
    const broken = await anonymous.request('/login', { method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: 'username=a' });
    expect([broken.status, ((await broken.json()) as { error: { code: string } }).error.code]).toEqual([400, 'invalid_form']);
  });
});

describe('where a sign-in goes next', () => {
  it.each([
    ['/nodes?x=1', '/nodes?x=1'],
    ['//evil.example/', '/'],
    ['/\\evil.example', '/'],
    ['https://evil.example/', '/'],
    ['javascript:alert(1)', '/'],
    [undefined, '/'],
  ])('%s → %s', (next, expected) => expect(localPath(next)).toBe(expected));
});

it('calls as an admin through stubApp().app', async () => {
  expect(await (await app.request('/api/me')).json()).toMatchObject({ role: 'admin' });
});

describe('GET /metrics', () => {
  it('counts requests by route pattern and status, with latency buckets, for a viewer', async () => {
    const { app: asAdmin, anonymous: raw } = stubApp();
    await asAdmin.request('/api/health-checks/health-check');
    await asAdmin.request('/api/health-checks/health-check');
    expect((await raw.request('/metrics')).status).toBe(401);
    const response = await raw.request('/metrics', { headers: { authorization: `Bearer ${unitTokens.viewer}` } });
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toMatch(/^fleet_http_requests_total\{instance="[^"]+",method="GET",route="\/api\/health-checks\/:workflowId",status="404"\} 2$/m);
    expect(text).toMatch(/^fleet_http_requests_total\{instance="[^"]+",method="GET",route="\/metrics",status="401"\} 1$/m);
    expect(text).toMatch(/^fleet_http_request_duration_seconds_bucket\{.*route="\/api\/health-checks\/:workflowId".*le="\+Inf"\} 2$/m);
    expect(text).toMatch(/^fleet_process_resident_memory_bytes\{instance="[^"]+"\} \d+$/m);
  });
});
