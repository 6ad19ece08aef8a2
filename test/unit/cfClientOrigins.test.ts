// Where the CF client sends its bearer token: only to the API's own origin, whatever URL a response
// names. The simulator (sim/cf, fake clock) is served in process on one port as the API and on
// another as the UAA; a third listener stands for a foreign origin and records what reaches it.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serve, type ServerType } from '@hono/node-server';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { CfApiError, CfForeignOriginError, createCfClient, type CfClient, type CfCredentials } from '../../activities/cf/client.ts';
import { createCfConvergeActivities } from '../../activities/cf/converge.ts';
import { createFastFetch } from '../../activities/cf/transport.ts';
import { loginBase, onApiOrigin } from '../../activities/cf/urls.ts';
import { fakeClock, type FakeClock } from '../../sim/cf/clock.ts';
import { createCfSimulator } from '../../sim/cf/simulator.ts';
import type { Counters } from '../../sim/cf/traffic.ts';
import { CF_FOREIGN_ORIGIN_FAILURE } from '../../workflows/cfConverge.shared.ts';

interface Seen {
  method: string;
  path: string;
  authorization: string | null;
}

interface Listener {
  origin: string;
  /** Every request that reached this listener, with its Authorization header. */
  seen: Seen[];
  close(): Promise<void>;
}

async function listen(handle: (request: Request) => Response | Promise<Response>): Promise<Listener> {
  const seen: Seen[] = [];
  const server: ServerType = serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: (request) => {
      const url = new URL(request.url);
      seen.push({ method: request.method, path: `${url.pathname}${url.search}`, authorization: request.headers.get('authorization') });
      return handle(request);
    },
  });
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
}

const password: CfCredentials = { kind: 'password', username: 'admin', password: 'admin-secret' };
const clientCredentials: CfCredentials = { kind: 'client', clientId: 'fleet-automation', clientSecret: 'fleet-automation-secret' };

describe.each([
  ['WHATWG fetch', () => fetch],
  ['createFastFetch (undici request, as the workers send)', () => createFastFetch()],
])('CF client over %s: the bearer token goes to the API origin only', (_transport, makeFetch) => {
  let clock: FakeClock;
  let sim: ReturnType<typeof createCfSimulator>;
  let api: Listener;
  let uaa: Listener;
  let foreign: Listener;
  /** When set, the API answers list calls with this redirect (a proxy sending the client elsewhere). */
  let redirectListsTo: string | undefined;

  beforeEach(async () => {
    // Tokens are valid from the client's point of view (Date.now()) for as long as the knob says.
    clock = fakeClock(Date.now());
    redirectListsTo = undefined;
    // A foreign origin that would answer like a CC, so that only what reached it can tell.
    foreign = await listen(() => Response.json({ pagination: { total_results: 0, total_pages: 1, next: null }, resources: [], state: 'COMPLETE', errors: [] }));
    uaa = await listen((request) => sim.fetch(request));
    sim = createCfSimulator({ clock, uaaOrigin: uaa.origin, jobDelayMs: 50 });
    api = await listen((request) => {
      if (redirectListsTo && new URL(request.url).pathname === '/v3/organizations') return new Response(null, { status: 307, headers: { location: redirectListsTo } });
      return sim.fetch(request);
    });
  });
  afterEach(async () => {
    await Promise.all([api.close(), uaa.close(), foreign.close()]);
  });

  const client = (credentials: CfCredentials = password): CfClient =>
    createCfClient({ apiUrl: api.origin, credentials, fetch: makeFetch(), sleep: async (ms) => clock.advance(ms) });
  const configure = async (patch: object) => {
    const response = await sim.request('/__sim/config', { method: 'PUT', body: JSON.stringify(patch) });
    expect(response.status, await response.clone().text()).toBe(200);
  };
  const counters = async () => (await (await sim.request('/__sim/counters')).json()) as Counters;
  const withBearer = (listener: Listener) => listener.seen.filter((s) => /^bearer /i.test(s.authorization ?? ''));
  async function appIn(cf: CfClient, name: string) {
    const org = await cf.createOrganization('origin-org');
    const space = await cf.createSpace(org.guid, 'origin-space');
    return cf.createApp(space.guid, name);
  }

  it('lists across pages whose next hrefs are absolute URLs on the API origin', async () => {
    const cf = client();
    for (const name of ['a', 'b', 'c', 'd', 'e']) await cf.createOrganization(`org-${name}`);

    const orgs = await cf.listAll<{ name: string }>('/v3/organizations', { per_page: 2 });
    expect(orgs.map((o) => o.name)).toEqual(['org-a', 'org-b', 'org-c', 'org-d', 'org-e']);
    // Pages 2 and 3 come from the simulator's next links, absolute URLs like CC's.
    expect(api.seen.filter((s) => s.method === 'GET' && s.path.startsWith('/v3/organizations')).map((s) => s.path)).toEqual([
      '/v3/organizations?per_page=2',
      '/v3/organizations?page=2&per_page=2',
      '/v3/organizations?page=3&per_page=2',
    ]);
    expect(withBearer(api)).toHaveLength(api.seen.length - 1); // all but GET /
    expect(foreign.seen).toEqual([]);
  });

  it('refuses a pagination.next on another origin before sending anything there', async () => {
    const cf = client();
    for (const name of ['a', 'b', 'c']) await cf.createOrganization(`org-${name}`);
    await configure({ foreignLinks: { origin: foreign.origin, pagination: true } });

    const error = await cf.listAll('/v3/organizations', { per_page: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CfForeignOriginError);
    expect(error).toMatchObject({ source: 'pagination.next', origin: foreign.origin, apiOrigin: api.origin, retryable: false });
    expect((error as Error).message).toContain(`pagination.next ${foreign.origin}/v3/organizations?`);
    expect((error as Error).message).toContain(`is not the CF API's (${api.origin})`);
    expect(foreign.seen).toEqual([]);
    // The first page was read from the API, and nothing after it.
    expect(api.seen.filter((s) => s.path.startsWith('/v3/organizations?'))).toHaveLength(1);
  });

  it('follows a job Location on the API origin until the delete completes', async () => {
    const cf = client();
    const app = await appIn(cf, 'doomed');
    await cf.deleteApp(app.guid, { intervalMs: 100 });
    expect(api.seen.some((s) => s.method === 'GET' && s.path.startsWith('/v3/jobs/'))).toBe(true);
    expect((await counters()).mutations.applied.byKind['DELETE /v3/apps/:guid']).toBe(1);
    expect(await cf.findApp(app.relationships.space.data!.guid, 'doomed')).toBeUndefined();
    expect(foreign.seen).toEqual([]);
  });

  it('refuses a job Location on another origin before polling it', async () => {
    const cf = client();
    const app = await appIn(cf, 'doomed');
    await configure({ foreignLinks: { origin: foreign.origin, jobLocation: true } });

    const error = await cf.deleteApp(app.guid, { intervalMs: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CfForeignOriginError);
    expect(error).toMatchObject({ source: 'job Location', origin: foreign.origin, apiOrigin: api.origin });
    expect((error as Error).message).toMatch(new RegExp(`^Refused to follow job Location ${foreign.origin}/v3/jobs/[\\w-]+: `));
    expect(foreign.seen).toEqual([]);
    expect(api.seen.filter((s) => s.path.startsWith('/v3/jobs/'))).toEqual([]);
  });

  it('does not follow a redirect, so neither the token nor the request goes elsewhere', async () => {
    const cf = client();
    redirectListsTo = `${foreign.origin}/v3/organizations`;
    const error = await cf.listAll('/v3/organizations').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CfApiError);
    expect(error).toMatchObject({ status: 307, retryable: false });
    expect(foreign.seen).toEqual([]);
  });

  it.each([
    ['the password grant (and its refresh)', password, ['password', 'refresh_token']],
    ['client credentials', clientCredentials, ['client_credentials']],
  ])('asks the UAA origin of GET / for tokens with %s, and sends the bearer token to the API only', async (_grant, credentials, grants) => {
    // A token that expires within the client's refresh margin: every call asks for a new one.
    await configure({ accessTokenTtlSeconds: 30 });
    const cf = client(credentials);
    await cf.createOrganization('org-a');
    await cf.listAll('/v3/organizations');

    expect(uaa.seen.length).toBeGreaterThanOrEqual(2);
    for (const request of uaa.seen) {
      expect(request).toMatchObject({ method: 'POST', path: '/login/oauth/token' });
      expect(request.authorization ?? '').not.toMatch(/^bearer /i);
    }
    expect(Object.keys((await counters()).tokens.byGrant).sort()).toEqual([...grants].sort());
    expect(api.seen[0]).toEqual({ method: 'GET', path: '/', authorization: null });
    expect(api.seen.filter((s) => s.path.includes('/oauth/token'))).toEqual([]);
    expect(withBearer(api).map((s) => s.path)).toEqual(['/v3/organizations', '/v3/organizations?per_page=5000']);
    expect(foreign.seen).toEqual([]);
  });

  it('fails applyApps for good on a foreign job Location, and starts no app after it', async () => {
    const cf = client();
    const first = await appIn(cf, 'p-web-0');
    const second = await cf.createApp(first.relationships.space.data!.guid, 'p-web-1');
    await configure({ foreignLinks: { origin: foreign.origin, jobLocation: true } });
    const activities = createCfConvergeActivities({
      clientFor: (_foundation, signal) => createCfClient({ apiUrl: api.origin, credentials: password, fetch: makeFetch(), sleep: async (ms) => clock.advance(ms), signal }),
      readBits: () => Promise.reject(new Error('no bits in this test')),
    });
    const plan = (app: typeof first) => ({ name: app.name, kind: 'web', guid: app.guid, actions: ['delete' as const], instances: 1, env: {}, route: false });

    // Its "Activity failed" warning is this test's expected outcome: log errors only.
    const failure = await new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') })
      .run(activities.applyApps, {
        foundation: 'default', spaceGuid: first.relationships.space.data!.guid, domainGuid: 'unused', apps: [plan(first), plan(second)],
        sourceDroplets: {}, concurrency: 1, pollIntervalMs: 100, waitForRunning: false, owner: 'cf-converge.apps',
      })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: CF_FOREIGN_ORIGIN_FAILURE, nonRetryable: true });
    expect((failure as Error).message).toContain(`job Location ${foreign.origin}/v3/jobs/`);
    expect(api.seen.filter((s) => s.method === 'DELETE').map((s) => s.path)).toEqual([`/v3/apps/${first.guid}`]);
    expect(foreign.seen).toEqual([]);
  });
});

/** The fields these tests read from the simulator's answers. */
interface SimAnswer {
  links: Record<string, { href: string }>;
  foreignLinks: Record<string, unknown>;
  pagination: Record<string, { href: string } | null>;
  resources: { guid: string; links: { self: { href: string } } }[];
  state: string;
  error: { code: string; field?: string };
}

describe('CF simulator: links on another origin, and the UAA on its own', () => {
  const BASE = 'http://cf.test';
  async function simulator() {
    const sim = createCfSimulator({ clock: fakeClock(), jobDelayMs: 0, uaaOrigin: 'https://login.sys.example.com/' });
    const send = async (method: string, path: string, init: { body?: unknown; token?: string } = {}) => {
      const headers: Record<string, string> = init.token ? { authorization: `bearer ${init.token}` } : {};
      const response = await sim.request(`${BASE}${path}`, { method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
      const text = await response.text();
      return { status: response.status, location: response.headers.get('location'), body: (text ? JSON.parse(text) : {}) as SimAnswer };
    };
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: 'fleet-automation', client_secret: 'fleet-automation-secret' });
    const token = ((await (await sim.request(`${BASE}/login/oauth/token`, { method: 'POST', body: form })).json()) as { access_token: string }).access_token;
    return { send, token };
  }

  it('names the uaaOrigin in the login and uaa links of GET /, and the API itself everywhere else', async () => {
    const { send } = await simulator();
    const { links } = (await send('GET', '/')).body;
    expect(links).toMatchObject({ self: { href: BASE }, login: { href: 'https://login.sys.example.com/login' }, uaa: { href: 'https://login.sys.example.com/uaa' } });
  });

  it('writes pagination links and job Locations on the foreignLinks origin when told, and on its own after a reset', async () => {
    const { send, token } = await simulator();
    expect((await send('GET', '/__sim/config')).body.foreignLinks).toEqual({ origin: 'http://cf-foreign.invalid', pagination: false, jobLocation: false });
    for (const name of ['a', 'b']) await send('POST', '/v3/organizations', { token, body: { name } });
    const changed = await send('PUT', '/__sim/config', { body: { foreignLinks: { origin: 'https://evil.test:8443', pagination: true } } });
    expect(changed.body.foreignLinks).toEqual({ origin: 'https://evil.test:8443', pagination: true, jobLocation: false });

    const page = (await send('GET', '/v3/organizations?per_page=1', { token })).body.pagination;
    expect(page).toMatchObject({ first: { href: 'https://evil.test:8443/v3/organizations?page=1&per_page=1' }, next: { href: 'https://evil.test:8443/v3/organizations?page=2&per_page=1' } });
    const org = (await send('GET', '/v3/organizations?names=a', { token })).body.resources[0]!;
    expect(org.links.self.href).toBe(`${BASE}/v3/organizations/${org.guid}`);
    expect((await send('DELETE', `/v3/organizations/${org.guid}`, { token })).location).toMatch(new RegExp(`^${BASE}/v3/jobs/`));

    await send('PUT', '/__sim/config', { body: { foreignLinks: { jobLocation: true } } });
    const other = (await send('GET', '/v3/organizations?names=b', { token })).body.resources[0]!;
    const deleted = await send('DELETE', `/v3/organizations/${other.guid}`, { token });
    expect(deleted).toMatchObject({ status: 202, location: expect.stringMatching(/^https:\/\/evil\.test:8443\/v3\/jobs\/[0-9a-f-]{36}$/) });
    // The job is real: on the simulator's own origin it answers.
    expect((await send('GET', new URL(deleted.location!).pathname, { token })).body.state).toBe('COMPLETE');

    await send('POST', '/__sim/reset');
    expect((await send('GET', '/__sim/config')).body.foreignLinks).toMatchObject({ pagination: false, jobLocation: false });
    expect((await send('GET', '/v3/organizations', { token })).body.pagination.first!.href).toMatch(new RegExp(`^${BASE}/`));
  });

  it('takes only an origin as foreignLinks.origin', async () => {
    const { send } = await simulator();
    for (const origin of ['evil.test', 'https://evil.test/path', 'ftp://evil.test']) {
      const refused = await send('PUT', '/__sim/config', { body: { foreignLinks: { origin } } });
      expect(refused.status, origin).toBe(400);
      expect(refused.body.error).toMatchObject({ code: 'validation_failed', field: 'foreignLinks.origin' });
    }
  });
});

describe('onApiOrigin: API paths and the URLs responses name', () => {
  const apiUrl = 'https://api.sys.example.com';

  it.each([
    ['an API path with its query', '/v3/apps?page=2', 'https://api.sys.example.com/v3/apps?page=2'],
    ['an absolute URL on the API origin', 'https://api.sys.example.com/v3/jobs/j1', 'https://api.sys.example.com/v3/jobs/j1'],
    ['the default port written out, in capitals', 'HTTPS://API.SYS.EXAMPLE.COM:443/v3/jobs/j1', 'https://api.sys.example.com/v3/jobs/j1'],
    ['a relative URL', 'v3/jobs/j1', 'https://api.sys.example.com/v3/jobs/j1'],
    ['a path with a backslash (the host is already set)', '/\\evil.test/v3', 'https://api.sys.example.com//evil.test/v3'],
  ])('resolves %s against the API', (_what, href, expected) => {
    expect(onApiOrigin(apiUrl, href, 'test')).toBe(expected);
  });

  it.each([
    ['another scheme', 'http://api.sys.example.com/v3/jobs/j1', 'http://api.sys.example.com'],
    ['another host', 'https://api.sys.example.com.evil.test/v3/jobs/j1', 'https://api.sys.example.com.evil.test'],
    ['another port', 'https://api.sys.example.com:8443/v3/jobs/j1', 'https://api.sys.example.com:8443'],
    ['a scheme-relative URL', '//evil.test/v3/jobs/j1', 'https://evil.test'],
    ['user info before another host', 'https://api.sys.example.com@evil.test/v3/jobs/j1', 'https://evil.test'],
    ['a URL without an origin', 'data:text/plain,hello', 'null'],
  ])('refuses %s, naming both origins', (_what, href, origin) => {
    const refuse = () => onApiOrigin(apiUrl, href, 'job Location');
    expect(refuse).toThrow(CfForeignOriginError);
    expect(refuse).toThrow(`Refused to follow job Location ${href}: its origin ${origin} is not the CF API's (https://api.sys.example.com)`);
  });

  it('takes only an absolute http(s) login link as the base of token requests', () => {
    expect(loginBase('https://login.sys.example.com/')).toBe('https://login.sys.example.com');
    expect(loginBase('http://127.0.0.1:9022/login')).toBe('http://127.0.0.1:9022/login');
    expect(loginBase('/login')).toBeUndefined();
    expect(loginBase('javascript:alert(1)')).toBeUndefined();
  });

  it('names its failure type as the workflow retry policy lists it', () => {
    expect(new CfForeignOriginError('pagination.next', 'https://x', 'https://x', apiUrl).name).toBe(CF_FOREIGN_ORIGIN_FAILURE);
  });
});
