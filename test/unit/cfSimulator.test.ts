// The Cloud Controller v3 + UAA simulator (sim/cf), in process with app.request() and a fake clock.
// (test/cfSimulatorStack.test.ts checks that the stack starts it and it answers over HTTP.)
import { describe, expect, it } from 'vitest';
import { storedZip } from '../../activities/cf/bits.ts';
import { fakeClock, systemClock, type FakeClock } from '../../sim/cf/clock.ts';
import type { CfErrorBody } from '../../sim/cf/errors.ts';
import type { SimOptions } from '../../sim/cf/options.ts';
import { createCfSimulator } from '../../sim/cf/simulator.ts';
import type { Counters, RequestLogEntry } from '../../sim/cf/traffic.ts';

const BASE = 'http://cf.test';
/** Bits binary_buildpack stages: a Procfile and an executable script that listens on $PORT. */
const LISTENING_BITS = storedZip({ Procfile: 'web: ./app\n', app: { text: '#!/bin/sh\nexec ./server --port="$PORT"\n', mode: 0o755 } });
const bitsForm = (bits: Uint8Array = LISTENING_BITS) => {
  const form = new FormData();
  form.append('bits', new Blob([Buffer.from(bits)]), 'app.zip');
  return form;
};
const CF_CLIENT = `Basic ${Buffer.from('cf:').toString('base64')}`;

interface Reply<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

interface Resource {
  guid: string;
  state?: string;
  [field: string]: unknown;
}

/** A simulator on a fake clock, with a logged-in admin and small helpers for CC calls. */
async function simulator(options: SimOptions = {}) {
  const clock: FakeClock = (options.clock as FakeClock | undefined) ?? fakeClock();
  const app = createCfSimulator({ clock, ...options });

  async function send<T = Record<string, unknown>>(method: string, path: string, init: { body?: unknown; token?: string | null; headers?: Record<string, string> } = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...init.headers };
    if (init.token !== null && init.token !== undefined) headers.authorization = `bearer ${init.token}`;
    let body: BodyInit | undefined;
    if (init.body instanceof FormData || init.body instanceof URLSearchParams) body = init.body;
    else if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['content-type'] = 'application/json';
    }
    const response = await app.request(`${BASE}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { text }; // a gorouter's plain-text answer
    }
    return { status: response.status, headers: response.headers, body: parsed as T };
  }

  const tokenRequest = (form: Record<string, string>, authorization: string | null = CF_CLIENT) =>
    send('POST', '/login/oauth/token', { body: new URLSearchParams(form), token: null, headers: authorization ? { authorization } : {} });
  const login = async (username = 'admin', password = 'admin-secret') => {
    const reply = await tokenRequest({ grant_type: 'password', username, password });
    expect(reply.status).toBe(200);
    return reply.body.access_token as string;
  };
  const token = await login();
  const cf = <T = Resource>(method: string, path: string, body?: unknown) => send<T>(method, path, { body, token });
  const created = async (path: string, body: unknown): Promise<Resource> => {
    const reply = await cf('POST', path, body);
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    return reply.body;
  };
  const admin = {
    configure: async (patch: unknown) => {
      const reply = await send('PUT', '/__sim/config', { body: patch });
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      return reply.body;
    },
    counters: async () => (await send<Counters>('GET', '/__sim/counters')).body,
    requests: async (since?: number) => (await send<{ requests: RequestLogEntry[]; last: number }>('GET', `/__sim/requests${since === undefined ? '' : `?since=${since}`}`)).body,
    reset: () => send('POST', '/__sim/reset'),
  };

  const org = (name = 'scale-org') => created('/v3/organizations', { name });
  const space = async (name = 'scale-space', orgGuid?: string) =>
    created('/v3/spaces', { name, relationships: { organization: { data: { guid: orgGuid ?? (await org()).guid } } } });
  const appIn = (spaceGuid: string, name: string) =>
    created('/v3/apps', { name, relationships: { space: { data: { guid: spaceGuid } } }, lifecycle: { type: 'buildpack', data: { buildpacks: ['binary_buildpack'] } } });

  /** Package → upload → build → STAGED droplet, the way a prototype gets its droplet. */
  async function stagedDroplet(appGuid: string): Promise<string> {
    const pkg = await created('/v3/packages', { type: 'bits', relationships: { app: { data: { guid: appGuid } } } });
    expect((await cf('POST', `/v3/packages/${pkg.guid}/upload`, bitsForm())).status).toBe(200);
    const build = await created('/v3/builds', { package: { guid: pkg.guid } });
    clock.advance(10_000);
    const staged = await cf('GET', `/v3/builds/${build.guid}`);
    expect(staged.body.state).toBe('STAGED');
    return (staged.body.droplet as { guid: string }).guid;
  }

  return { app, clock, send, cf, created, token, login, tokenRequest, admin, org, space, appIn, stagedDroplet };
}

const firstError = (body: unknown) => (body as CfErrorBody).errors[0];
const decodeJwt = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

describe('CF simulator: discovery and UAA tokens', () => {
  it('lists the v3 API, login and uaa links with absolute hrefs from the base URL the client used', async () => {
    const sim = await simulator();
    const root = await sim.send('GET', '/', { token: null });
    expect(root.status).toBe(200);
    const links = root.body.links as Record<string, { href: string } | null>;
    expect(links.self!.href).toBe(BASE);
    expect(links.cloud_controller_v3!.href).toBe(`${BASE}/v3`);
    expect(links.login!.href).toBe(`${BASE}/login`);
    expect(links.uaa!.href).toBe(`${BASE}/uaa`);
    const proxied = await sim.send('GET', '/', { token: null, headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'api.sys.example.com' } });
    expect((proxied.body.links as Record<string, { href: string }>).login!.href).toBe('https://api.sys.example.com/login');
    const info = await sim.send('GET', '/v3/info', { token: null });
    expect(info.status).toBe(200);
    expect(info.body.rate_limits).toMatchObject({ enabled: true });
  });

  it('issues JWT-shaped tokens with exp for the password grant (Basic cf:), with a refresh token', async () => {
    const sim = await simulator();
    const reply = await sim.tokenRequest({ grant_type: 'password', username: 'admin', password: 'admin-secret' });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ token_type: 'bearer', expires_in: 1199 });
    expect(reply.body.refresh_token).toEqual(expect.any(String));
    expect(reply.body.scope).toContain('cloud_controller.admin');
    const claims = decodeJwt(reply.body.access_token as string);
    expect(claims).toMatchObject({ user_name: 'admin', client_id: 'cf', grant_type: 'password' });
    expect((claims.exp as number) - (claims.iat as number)).toBe(1200);
    expect(claims.iat).toBe(Math.floor(sim.clock.now() / 1000));
    const orgs = await sim.send('GET', '/v3/organizations', { token: reply.body.access_token as string });
    expect(orgs.status).toBe(200);
  });

  it('issues client_credentials tokens without a refresh token, and refreshes password tokens', async () => {
    const sim = await simulator();
    const client = await sim.tokenRequest({ grant_type: 'client_credentials', client_id: 'fleet-automation', client_secret: 'fleet-automation-secret' }, null);
    expect(client.status).toBe(200);
    expect(client.body.refresh_token).toBeUndefined();
    expect(decodeJwt(client.body.access_token as string)).toMatchObject({ sub: 'fleet-automation', client_id: 'fleet-automation', grant_type: 'client_credentials' });
    expect((await sim.send('GET', '/v3/apps', { token: client.body.access_token as string })).status).toBe(200);

    const password = await sim.tokenRequest({ grant_type: 'password', username: 'admin', password: 'admin-secret' });
    sim.clock.advance(1000 * 1000);
    const refreshed = await sim.tokenRequest({ grant_type: 'refresh_token', refresh_token: password.body.refresh_token as string });
    expect(refreshed.status).toBe(200);
    expect(decodeJwt(refreshed.body.access_token as string)).toMatchObject({ user_name: 'admin', grant_type: 'refresh_token' });
    expect(refreshed.body.access_token).not.toBe(password.body.access_token);

    const bogus = await sim.tokenRequest({ grant_type: 'refresh_token', refresh_token: 'not-a-refresh-token' });
    expect(bogus.status).toBe(401);
    expect(bogus.body).toEqual({ error: 'invalid_token', error_description: 'Invalid refresh token.' });
  });

  it('refuses bad credentials with UAA error bodies', async () => {
    const sim = await simulator();
    const wrongPassword = await sim.tokenRequest({ grant_type: 'password', username: 'admin', password: 'nope' });
    expect(wrongPassword.status).toBe(401);
    expect(wrongPassword.body).toEqual({ error: 'unauthorized', error_description: 'Bad credentials' });
    const wrongClient = await sim.tokenRequest({ grant_type: 'client_credentials', client_id: 'fleet-automation', client_secret: 'guess' }, null);
    expect(wrongClient.status).toBe(401);
    expect(wrongClient.body.error).toBe('unauthorized');
    const noClient = await sim.tokenRequest({ grant_type: 'password', username: 'admin', password: 'admin-secret' }, null);
    expect(noClient.status).toBe(401);
    const unsupported = await sim.tokenRequest({ grant_type: 'implicit' });
    expect(unsupported.status).toBe(400);
    expect(unsupported.body.error).toBe('unsupported_grant_type');
  });

  it('answers 401 CF-NotAuthenticated without a token and CF-InvalidAuthToken for a bad or expired one', async () => {
    const sim = await simulator({ accessTokenTtlSeconds: 60 });
    const missing = await sim.send('GET', '/v3/apps', { token: null });
    expect(missing.status).toBe(401);
    expect(firstError(missing.body)).toEqual({ code: 10002, title: 'CF-NotAuthenticated', detail: 'Authentication error' });
    const forged = await sim.send('GET', '/v3/apps', { token: `${sim.token.slice(0, -4)}AAAA` });
    expect(firstError(forged.body)).toEqual({ code: 1000, title: 'CF-InvalidAuthToken', detail: 'Invalid Auth Token' });
    expect((await sim.cf('GET', '/v3/apps')).status).toBe(200);
    sim.clock.advance(60_000);
    const expired = await sim.cf('GET', '/v3/apps');
    expect(expired.status).toBe(401);
    expect(firstError(expired.body)!.code).toBe(1000);
  });
});

describe('CF simulator: the prototype flow', () => {
  it('creates org, space and app, stages bits into a droplet, sets it current, starts, scales, and instances go STARTING → RUNNING', async () => {
    const sim = await simulator({ stagingDelayMs: 5000, instanceStartDelayMs: 3000, uploadProcessingMs: 500 });
    const space = await sim.space();
    // The shared apps domain, and cf-deployment's internal domain apps.internal.
    const all = await sim.cf<{ resources: Resource[] }>('GET', '/v3/domains');
    expect(all.body.resources.map((d) => [d.name, d.internal])).toEqual([['apps.cf.test', false], ['apps.internal', true]]);
    const domains = await sim.cf<{ resources: Resource[] }>('GET', '/v3/domains?names=APPS.cf.test');
    expect(domains.body.resources.map((d) => d.name)).toEqual(['apps.cf.test']);
    expect(domains.body.resources[0]!.relationships).toEqual({ organization: { data: null }, shared_organizations: { data: [] } });

    const app = await sim.created('/v3/apps', {
      name: 'scale-proxy',
      relationships: { space: { data: { guid: space.guid } } },
      environment_variables: { GOPACKAGENAME: 'example-apps/proxy' },
      lifecycle: { type: 'buildpack', data: { buildpacks: ['go_buildpack'], stack: 'cflinuxfs4' } },
    });
    // CC renders "no current droplet" as {data:{guid:null}} (app_presenter.rb).
    expect(app).toMatchObject({ name: 'scale-proxy', state: 'STOPPED', relationships: { space: { data: { guid: space.guid } }, current_droplet: { data: { guid: null } } } });
    expect(app.metadata).toEqual({ labels: {}, annotations: {} });
    expect(app.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect((app.links as Record<string, { href: string; method?: string }>).start).toEqual({ href: `${BASE}/v3/apps/${app.guid}/actions/start`, method: 'POST' });
    const web = await sim.cf('GET', `/v3/apps/${app.guid}/processes/web`);
    // The web process has the app's guid (app_create.rb), 1 instance and a port health check.
    expect(web.body).toMatchObject({ guid: app.guid, type: 'web', instances: 1, health_check: { type: 'port' } });
    const env = await sim.cf('GET', `/v3/apps/${app.guid}/environment_variables`);
    expect(env.body.var).toEqual({ GOPACKAGENAME: 'example-apps/proxy' });

    const refused = await sim.cf('POST', `/v3/apps/${app.guid}/actions/start`);
    expect(refused.status).toBe(422);
    expect(firstError(refused.body)).toEqual({ code: 10008, title: 'CF-UnprocessableEntity', detail: 'Assign a droplet before starting this app.' });

    const pkg = await sim.created('/v3/packages', { type: 'bits', relationships: { app: { data: { guid: app.guid } } } });
    expect(pkg.state).toBe('AWAITING_UPLOAD');
    const goBits = storedZip({ 'go.mod': 'module proxy\n', Procfile: 'web: ./proxy\n', proxy: { text: '#!/bin/sh\nexec ./bin/proxy -port $PORT\n', mode: 0o755 } });
    const uploaded = await sim.cf('POST', `/v3/packages/${pkg.guid}/upload`, bitsForm(goBits));
    expect(uploaded.status).toBe(200);
    expect(uploaded.body.state).toBe('PROCESSING_UPLOAD');
    const tooEarly = await sim.cf('POST', '/v3/builds', { package: { guid: pkg.guid } });
    // app/actions/build_create.rb: InvalidPackage, rendered by builds_controller.rb as 400 BadRequest.
    expect(tooEarly.status).toBe(400);
    expect(firstError(tooEarly.body)).toEqual({ code: 1004, title: 'CF-BadRequest', detail: 'Bad request: Cannot stage package whose state is not ready.' });
    sim.clock.advance(500);
    const ready = await sim.cf('GET', `/v3/packages/${pkg.guid}`);
    expect(ready.body.state).toBe('READY');
    expect((ready.body.data as { checksum: { value: string } }).checksum.value).toMatch(/^[0-9a-f]{64}$/);

    const build = await sim.created('/v3/builds', { package: { guid: pkg.guid } });
    expect(build).toMatchObject({ state: 'STAGING', droplet: null });
    sim.clock.advance(4999);
    expect((await sim.cf('GET', `/v3/builds/${build.guid}`)).body.state).toBe('STAGING');
    sim.clock.advance(1);
    const staged = await sim.cf('GET', `/v3/builds/${build.guid}`);
    expect(staged.body.state).toBe('STAGED');
    const dropletGuid = (staged.body.droplet as { guid: string }).guid;
    const droplet = await sim.cf('GET', `/v3/droplets/${dropletGuid}`);
    expect(droplet.body).toMatchObject({ state: 'STAGED', relationships: { app: { data: { guid: app.guid } } }, process_types: { web: './proxy' }, stack: 'cflinuxfs4' });
    expect((droplet.body.buildpacks as { name: string }[]).map((b) => b.name)).toEqual(['go_buildpack']);

    const assigned = await sim.cf('PATCH', `/v3/apps/${app.guid}/relationships/current_droplet`, { data: { guid: dropletGuid } });
    expect(assigned.status).toBe(200);
    expect(assigned.body.data).toEqual({ guid: dropletGuid });
    const current = await sim.cf('GET', `/v3/apps/${app.guid}/relationships/current_droplet`);
    expect(current.body.links).toEqual({
      self: { href: `${BASE}/v3/apps/${app.guid}/relationships/current_droplet` },
      related: { href: `${BASE}/v3/apps/${app.guid}/droplets/current` },
    });

    const stopped = await sim.cf<{ resources: Resource[] }>('GET', `/v3/apps/${app.guid}/processes/web/stats`);
    expect(stopped.body.resources.map((i) => i.state)).toEqual(['DOWN']);
    const started = await sim.cf('POST', `/v3/apps/${app.guid}/actions/start`);
    expect(started.status).toBe(200);
    expect(started.body.state).toBe('STARTED');

    const scaled = await sim.cf('POST', `/v3/apps/${app.guid}/processes/web/actions/scale`, { instances: 3 });
    expect(scaled.status).toBe(202);
    expect(scaled.body).toMatchObject({ type: 'web', instances: 3 });
    const starting = await sim.cf<{ resources: Resource[] }>('GET', `/v3/apps/${app.guid}/processes/web/stats`);
    expect(starting.body.resources.map((i) => i.state)).toEqual(['STARTING', 'STARTING', 'STARTING']);
    sim.clock.advance(3000);
    const running = await sim.cf<{ resources: Resource[] }>('GET', `/v3/apps/${app.guid}/processes/web/stats`);
    expect(running.body.resources.map((i) => [i.index, i.state])).toEqual([[0, 'RUNNING'], [1, 'RUNNING'], [2, 'RUNNING']]);

    const byGuid = await sim.cf('POST', `/v3/processes/${web.body.guid}/actions/scale`, { instances: 4 });
    expect(byGuid.status).toBe(202);
    const mixed = await sim.cf<{ resources: Resource[] }>('GET', `/v3/processes/${web.body.guid}/stats`);
    expect(mixed.body.resources.map((i) => i.state)).toEqual(['RUNNING', 'RUNNING', 'RUNNING', 'STARTING']);
    const badScale = await sim.cf('POST', `/v3/processes/${web.body.guid}/actions/scale`, { instances: -1 });
    expect(badScale.status).toBe(422);
  });

  it('copies a droplet (COPYING → STAGED in the background) and refuses to make a COPYING droplet current', async () => {
    const sim = await simulator({ copyDelayMs: 2000 });
    const space = await sim.space();
    const prototype = await sim.appIn(space.guid, 'prototype');
    const source = await sim.stagedDroplet(prototype.guid);
    const target = await sim.appIn(space.guid, 'tick-1');

    const copy = await sim.cf('POST', `/v3/droplets?source_guid=${source}`, { relationships: { app: { data: { guid: target.guid } } } });
    expect(copy.status).toBe(201);
    expect(copy.body).toMatchObject({ state: 'COPYING', error: null, relationships: { app: { data: { guid: target.guid } } } });
    const early = await sim.cf('PATCH', `/v3/apps/${target.guid}/relationships/current_droplet`, { data: { guid: copy.body.guid } });
    expect(early.status).toBe(422);
    expect(firstError(early.body)!.detail).toBe('droplet must be in staged state');
    sim.clock.advance(2000);
    const done = await sim.cf('GET', `/v3/droplets/${copy.body.guid}`);
    expect(done.body).toMatchObject({ state: 'STAGED', process_types: { web: './app' } });
    expect((await sim.cf('PATCH', `/v3/apps/${target.guid}/relationships/current_droplet`, { data: { guid: copy.body.guid } })).status).toBe(200);

    const notStaged = await sim.cf('POST', '/v3/droplets?source_guid=' + copy.body.guid, { relationships: { app: { data: { guid: prototype.guid } } } });
    expect(notStaged.status).toBe(201);
    const fromCopying = await sim.cf('POST', `/v3/droplets?source_guid=${notStaged.body.guid}`, { relationships: { app: { data: { guid: target.guid } } } });
    // droplets_controller.rb#copy: unable_to_perform!('Droplet copy', 'source droplet is not staged').
    expect(fromCopying.status).toBe(400);
    expect(firstError(fromCopying.body)).toEqual({ code: 10009, title: 'CF-UnableToPerform', detail: 'Droplet copy could not be completed: source droplet is not staged' });
    const noApp = await sim.cf('POST', `/v3/droplets?source_guid=${source}`, { relationships: { app: { data: { guid: '00000000-0000-4000-8000-000000000000' } } } });
    expect(noApp.status).toBe(404);
    expect(firstError(noApp.body)).toEqual({ code: 10010, title: 'CF-ResourceNotFound', detail: 'App not found' });
    const seedShape = await sim.cf('POST', `/v3/droplets?source_guid=${source}`, { relationships: { app: { guid: target.guid } } });
    expect(seedShape.status).toBe(422);
    // The seed's 2017 endpoints were removed from CC; so they are here.
    const seedCopy = await sim.cf('POST', `/v3/droplets/${source}/copy`, { relationships: { app: { guid: target.guid } } });
    expect(seedCopy.status).toBe(404);
    expect(firstError(seedCopy.body)).toEqual({ code: 10000, title: 'CF-NotFound', detail: 'Unknown request' });
    expect((await sim.cf('PUT', `/v3/apps/${target.guid}/start`)).status).toBe(404);
    const unknownSource = await sim.cf('POST', '/v3/droplets?source_guid=00000000-0000-4000-8000-000000000000', { relationships: { app: { data: { guid: target.guid } } } });
    expect(unknownSource.status).toBe(404);
    expect(firstError(unknownSource.body)).toEqual({ code: 10010, title: 'CF-ResourceNotFound', detail: 'Droplet not found' });
  });

  it('ends a copy FAILED with "failed to copy - …" when the failed-copy fault fires', async () => {
    const sim = await simulator();
    const space = await sim.space();
    const prototype = await sim.appIn(space.guid, 'prototype');
    const source = await sim.stagedDroplet(prototype.guid);
    const target = await sim.appIn(space.guid, 'tick-1');
    const config = await sim.admin.configure({ faults: { failNextCopies: 1 } });
    expect((config.faults as Record<string, number>).failNextCopies).toBe(1);
    const copy = (guid: string) => sim.cf('POST', `/v3/droplets?source_guid=${guid}`, { relationships: { app: { data: { guid: target.guid } } } });
    const failed = await copy(source);
    const succeeded = await copy(source);
    sim.clock.advance(1000);
    const failedNow = await sim.cf('GET', `/v3/droplets/${failed.body.guid}`);
    expect(failedNow.body.state).toBe('FAILED');
    expect(failedNow.body.error).toMatch(/^failed to copy - /);
    expect((await sim.cf('GET', `/v3/droplets/${succeeded.body.guid}`)).body.state).toBe('STAGED');
    const refused = await sim.cf('PATCH', `/v3/apps/${target.guid}/relationships/current_droplet`, { data: { guid: failed.body.guid } });
    expect(refused.status).toBe(422);
  });

  it('refuses a current droplet that belongs to another app or does not exist', async () => {
    const sim = await simulator();
    const space = await sim.space();
    const owner = await sim.appIn(space.guid, 'owner');
    const other = await sim.appIn(space.guid, 'other');
    const droplet = await sim.stagedDroplet(owner.guid);
    const none = await sim.cf('GET', `/v3/apps/${other.guid}/relationships/current_droplet`);
    expect(none.status).toBe(404);
    expect(firstError(none.body)!.detail).toBe('Droplet not found');
    for (const guid of [droplet, '00000000-0000-4000-8000-000000000000']) {
      const reply = await sim.cf('PATCH', `/v3/apps/${other.guid}/relationships/current_droplet`, { data: { guid } });
      expect(reply.status).toBe(422);
      expect(firstError(reply.body)).toEqual({ code: 10008, title: 'CF-UnprocessableEntity', detail: 'Unable to assign current droplet. Ensure the droplet exists and belongs to this app.' });
    }
  });

  it('keeps app names unique per space (422 CF-UniquenessError 10016, case-insensitively) but not across spaces', async () => {
    const sim = await simulator();
    const org = await sim.org();
    const first = await sim.space('one', org.guid);
    const second = await sim.space('two', org.guid);
    await sim.appIn(first.guid, 'scale-tick-1');
    const duplicate = await sim.cf('POST', '/v3/apps', { name: 'Scale-Tick-1', relationships: { space: { data: { guid: first.guid } } } });
    expect(duplicate.status).toBe(422);
    expect(firstError(duplicate.body)).toEqual({ code: 10016, title: 'CF-UniquenessError', detail: "App with the name 'Scale-Tick-1' already exists." });
    await sim.appIn(second.guid, 'scale-tick-1');
    const unknownField = await sim.cf('POST', '/v3/apps', { name: 'x', space_guid: first.guid });
    expect(unknownField.status).toBe(422);
    expect(firstError(unknownField.body)!.detail).toBe("Unknown field(s): 'space_guid'");
    const badJson = await sim.app.request(`${BASE}/v3/apps`, { method: 'POST', body: '{"name":', headers: { authorization: `bearer ${sim.token}`, 'content-type': 'application/json' } });
    expect(badJson.status).toBe(400);
    expect(firstError(await badJson.json())).toMatchObject({ code: 1001, title: 'CF-MessageParseError' });
  });

  it('reports the usage set with PUT /__sim/apps/:guid/usage in the stats of every running instance (cpu as a fraction of a core)', async () => {
    const sim = await simulator({ instanceStartDelayMs: 1000 });
    const space = await sim.space();
    const app = await sim.appIn(space.guid, 'busy');
    const other = await sim.appIn(space.guid, 'idle');
    for (const a of [app, other]) {
      expect((await sim.cf('PATCH', `/v3/apps/${a.guid}/relationships/current_droplet`, { data: { guid: await sim.stagedDroplet(a.guid) } })).status).toBe(200);
      expect((await sim.cf('POST', `/v3/apps/${a.guid}/actions/start`)).status).toBe(200);
    }
    expect((await sim.cf('POST', `/v3/apps/${app.guid}/processes/web/actions/scale`, { instances: 2 })).status).toBe(202);
    sim.clock.advance(1000);
    const set = await sim.send('PUT', `/__sim/apps/${app.guid}/usage`, { body: { cpu: 85.5, memory: 300_000_000 } });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toEqual({ cpu: 85.5, memory: 300_000_000 });

    const stats = await sim.cf<{ resources: { state: string; usage: { cpu?: number; mem?: number } }[] }>('GET', `/v3/apps/${app.guid}/processes/web/stats`);
    expect(stats.body.resources.map((i) => [i.state, i.usage.cpu, i.usage.mem])).toEqual([['RUNNING', 0.855, 300_000_000], ['RUNNING', 0.855, 300_000_000]]);
    const web = await sim.cf('GET', `/v3/apps/${app.guid}/processes/web`);
    const byGuid = await sim.cf<{ resources: { usage: { cpu?: number } }[] }>('GET', `/v3/processes/${web.body.guid}/stats`);
    expect(byGuid.body.resources.map((i) => i.usage.cpu)).toEqual([0.855, 0.855]);
    // Another app keeps the idle default; a scaled-up instance that is still STARTING reports no usage.
    const idle = await sim.cf<{ resources: { usage: { cpu?: number } }[] }>('GET', `/v3/apps/${other.guid}/processes/web/stats`);
    expect(idle.body.resources[0]!.usage.cpu).toBeLessThan(0.01);
    await sim.cf('POST', `/v3/apps/${app.guid}/processes/web/actions/scale`, { instances: 3 });
    const scaled = await sim.cf<{ resources: { state: string; usage: { cpu?: number } }[] }>('GET', `/v3/apps/${app.guid}/processes/web/stats`);
    expect(scaled.body.resources.map((i) => i.usage.cpu)).toEqual([0.855, 0.855, undefined]);

    const negative = await sim.send('PUT', `/__sim/apps/${app.guid}/usage`, { body: { cpu: -1, memory: 1 } });
    expect(negative.status).toBe(400);
    expect(negative.body).toMatchObject({ error: { field: 'cpu' } });
    const fractionalBytes = await sim.send('PUT', `/__sim/apps/${app.guid}/usage`, { body: { cpu: 1, memory: 1.5 } });
    expect(fractionalBytes.body).toMatchObject({ error: { field: 'memory' } });
    expect((await sim.send('PUT', '/__sim/apps/no-such-app/usage', { body: { cpu: 1, memory: 1 } })).status).toBe(404);
  });
});

describe('CF simulator: roles and quotas, as CC enforces them', () => {
  it('lets only admins create organizations; a user works in a space once an admin makes it a space developer', async () => {
    const sim = await simulator();
    const developer = await sim.login('developer', 'developer-secret');
    const asDeveloper = <T = Resource>(method: string, path: string, body?: unknown) => sim.send<T>(method, path, { body, token: developer });
    const refused = await asDeveloper('POST', '/v3/organizations', { name: 'mine' });
    expect(refused.status).toBe(403);
    expect(firstError(refused.body)).toEqual({ code: 10003, title: 'CF-NotAuthorized', detail: 'You are not authorized to perform the requested action' });

    const space = await sim.space();
    const orgGuid = (space.relationships as { organization: { data: { guid: string } } }).organization.data.guid;
    // Without a role the space is invisible: apps cannot be created in it.
    const invisible = await asDeveloper('POST', '/v3/apps', { name: 'a', relationships: { space: { data: { guid: space.guid } } } });
    expect(invisible.status).toBe(422);
    expect((await asDeveloper<{ resources: Resource[] }>('GET', '/v3/spaces')).body.resources).toEqual([]);

    const developerGuid = decodeJwt(developer).sub as string;
    const role = (type: string, target: 'organization' | 'space', guid: string) =>
      sim.cf('POST', '/v3/roles', { type, relationships: { user: { data: { guid: developerGuid } }, [target]: { data: { guid } } } });
    const tooEarly = await role('space_developer', 'space', space.guid);
    expect(tooEarly.status).toBe(422);
    expect(firstError(tooEarly.body)!.detail).toBe("Users cannot be assigned roles in a space if they do not have a role in that space's organization.");
    expect((await role('organization_user', 'organization', orgGuid)).status).toBe(201);
    // An organization user sees the space's organization but not yet the space, and may not create spaces.
    expect((await asDeveloper('POST', '/v3/spaces', { name: 'other', relationships: { organization: { data: { guid: orgGuid } } } })).status).toBe(403);
    expect((await role('space_developer', 'space', space.guid)).status).toBe(201);
    const app = await asDeveloper('POST', '/v3/apps', { name: 'a', relationships: { space: { data: { guid: space.guid } } } });
    expect(app.status).toBe(201);
    expect((await asDeveloper<{ resources: Resource[] }>('GET', '/v3/apps')).body.resources.map((a) => a.name)).toEqual(['a']);
    // Admins' apps elsewhere stay out of sight (404), and out of reach.
    const elsewhere = await sim.appIn((await sim.space('other-space', orgGuid)).guid, 'theirs');
    expect((await asDeveloper('GET', `/v3/apps/${elsewhere.guid}`)).status).toBe(404);
    expect((await asDeveloper('POST', `/v3/apps/${elsewhere.guid}/actions/stop`)).status).toBe(404);
  });

  it('refuses a scale of a started app past the organization memory quota, and counts only started apps', async () => {
    const sim = await simulator({ instanceStartDelayMs: 0, defaultQuota: { totalMemoryInMb: 2048 } });
    const space = await sim.space();
    const app = await sim.appIn(space.guid, 'big');
    await sim.cf('PATCH', `/v3/apps/${app.guid}/relationships/current_droplet`, { data: { guid: await sim.stagedDroplet(app.guid) } });
    // Stopped apps use no quota: any size is accepted.
    expect((await sim.cf('POST', `/v3/apps/${app.guid}/processes/web/actions/scale`, { instances: 3 })).status).toBe(202);
    const start = await sim.cf('POST', `/v3/apps/${app.guid}/actions/start`);
    expect(start.status).toBe(422);
    expect(firstError(start.body)).toEqual({ code: 10008, title: 'CF-UnprocessableEntity', detail: 'memory quota_exceeded' });
    expect((await sim.cf('POST', `/v3/apps/${app.guid}/processes/web/actions/scale`, { instances: 2 })).status).toBe(202);
    expect((await sim.cf('POST', `/v3/apps/${app.guid}/actions/start`)).status).toBe(200);
    const scaleUp = await sim.cf('POST', `/v3/apps/${app.guid}/processes/web/actions/scale`, { instances: 3 });
    expect(scaleUp.status).toBe(422);
    expect(firstError(scaleUp.body)!.detail).toBe('memory quota_exceeded');
    expect((await sim.cf('POST', `/v3/apps/${app.guid}/processes/web/actions/scale`, { instances: 4, memory_in_mb: 512 })).status).toBe(202);
    const quota = await sim.cf('GET', `/v3/organizations/${(space.relationships as { organization: { data: { guid: string } } }).organization.data.guid}`);
    expect((quota.body.relationships as { quota: { data: { guid: string } } }).quota.data.guid).toEqual(expect.any(String));
  });
});

describe('CF simulator: routes and deletes', () => {
  it('creates routes (422 on a duplicate host), maps destinations idempotently and filters routes by app', async () => {
    const sim = await simulator();
    const space = await sim.space();
    const app = await sim.appIn(space.guid, 'scale-proxy-1');
    const domain = (await sim.cf<{ resources: Resource[] }>('GET', '/v3/domains')).body.resources[0]!;
    const routeBody = { host: 'scale-proxy-1', relationships: { domain: { data: { guid: domain.guid } }, space: { data: { guid: space.guid } } } };
    const route = await sim.created('/v3/routes', routeBody);
    expect(route).toMatchObject({ host: 'scale-proxy-1', path: '', url: 'scale-proxy-1.apps.cf.test', protocol: 'http', destinations: [] });
    const duplicate = await sim.cf('POST', '/v3/routes', routeBody);
    expect(duplicate.status).toBe(422);
    expect(firstError(duplicate.body)).toEqual({ code: 10008, title: 'CF-UnprocessableEntity', detail: "Route already exists with host 'scale-proxy-1' for domain 'apps.cf.test'." });

    const map = () => sim.cf<{ destinations: Resource[]; links: Record<string, { href: string }> }>('POST', `/v3/routes/${route.guid}/destinations`, { destinations: [{ app: { guid: app.guid } }] });
    const first = await map();
    expect(first.status).toBe(200);
    expect(first.body.destinations).toEqual([{ guid: expect.any(String), app: { guid: app.guid, process: { type: 'web' } }, weight: null, port: 8080, protocol: 'http1' }]);
    expect(first.body.links.route!.href).toBe(`${BASE}/v3/routes/${route.guid}`);
    const again = await map();
    expect(again.body.destinations).toEqual(first.body.destinations);
    const listed = await sim.cf<{ destinations: Resource[] }>('GET', `/v3/routes/${route.guid}/destinations`);
    expect(listed.body.destinations).toHaveLength(1);

    const byApp = await sim.cf<{ resources: Resource[] }>('GET', `/v3/routes?app_guids=${app.guid}`);
    expect(byApp.body.resources.map((r) => r.guid)).toEqual([route.guid]);
    const byHost = await sim.cf<{ resources: Resource[] }>('GET', `/v3/routes?hosts=nope,scale-proxy-1&domain_guids=${domain.guid}&space_guids=${space.guid}`);
    expect(byHost.body.resources).toHaveLength(1);

    const elsewhere = await sim.appIn((await sim.space('other', (space.relationships as { organization: { data: { guid: string } } }).organization.data.guid)).guid, 'stranger');
    const crossSpace = await sim.cf('POST', `/v3/routes/${route.guid}/destinations`, { destinations: [{ app: { guid: elsewhere.guid } }] });
    expect(crossSpace.status).toBe(422);
  });

  it('deletes an app with 202 + Location; the job is PROCESSING, then COMPLETE, and the app, its process, droplets and destinations are gone', async () => {
    const sim = await simulator({ jobDelayMs: 1000 });
    const space = await sim.space();
    const app = await sim.appIn(space.guid, 'doomed');
    const droplet = await sim.stagedDroplet(app.guid);
    const web = await sim.cf('GET', `/v3/apps/${app.guid}/processes/web`);
    const domain = (await sim.cf<{ resources: Resource[] }>('GET', '/v3/domains')).body.resources[0]!;
    const route = await sim.created('/v3/routes', { host: 'doomed', relationships: { domain: { data: { guid: domain.guid } }, space: { data: { guid: space.guid } } } });
    await sim.cf('POST', `/v3/routes/${route.guid}/destinations`, { destinations: [{ app: { guid: app.guid } }] });

    const deleted = await sim.app.request(`${BASE}/v3/apps/${app.guid}`, { method: 'DELETE', headers: { authorization: `bearer ${sim.token}` } });
    expect(deleted.status).toBe(202);
    expect(await deleted.text()).toBe('');
    const location = deleted.headers.get('location')!;
    expect(location).toMatch(new RegExp(`^${BASE}/v3/jobs/[0-9a-f-]{36}$`));
    const jobPath = new URL(location).pathname;
    const processing = await sim.cf('GET', jobPath);
    expect(processing.body).toMatchObject({ operation: 'app.delete', state: 'PROCESSING', errors: [], warnings: [] });
    expect((await sim.cf('GET', `/v3/apps/${app.guid}`)).status).toBe(200);

    sim.clock.advance(1000);
    expect((await sim.cf('GET', jobPath)).body.state).toBe('COMPLETE');
    const gone = await sim.cf('GET', `/v3/apps/${app.guid}`);
    expect(gone.status).toBe(404);
    expect(firstError(gone.body)).toEqual({ code: 10010, title: 'CF-ResourceNotFound', detail: 'App not found' });
    expect((await sim.cf('GET', `/v3/processes/${web.body.guid}`)).status).toBe(404);
    expect((await sim.cf('GET', `/v3/droplets/${droplet}`)).status).toBe(404);
    expect((await sim.cf('GET', `/v3/routes/${route.guid}`)).body.destinations).toEqual([]);
  });

  it('deletes spaces and orgs recursively, and fails a job (keeping the resource) when the job fault fires', async () => {
    const sim = await simulator({ jobDelayMs: 100 });
    const org = await sim.org();
    const space = await sim.space('s', org.guid);
    const app = await sim.appIn(space.guid, 'inside');

    await sim.admin.configure({ faults: { failNextJobs: 1 } });
    const failing = await sim.cf('DELETE', `/v3/organizations/${org.guid}`);
    expect(failing.status).toBe(202);
    sim.clock.advance(100);
    const failedJob = await sim.cf('GET', new URL(failing.headers.get('location')!).pathname);
    expect(failedJob.body).toMatchObject({ operation: 'organization.delete', state: 'FAILED' });
    expect((failedJob.body.errors as unknown[]).length).toBe(1);
    expect((await sim.cf('GET', `/v3/apps/${app.guid}`)).status).toBe(200);

    const deleting = await sim.cf('DELETE', `/v3/organizations/${org.guid}`);
    sim.clock.advance(100);
    expect((await sim.cf('GET', new URL(deleting.headers.get('location')!).pathname)).body.state).toBe('COMPLETE');
    for (const path of [`/v3/organizations/${org.guid}`, `/v3/spaces/${space.guid}`, `/v3/apps/${app.guid}`]) {
      expect((await sim.cf('GET', path)).status).toBe(404);
    }
  });
});

describe('CF simulator: lists', () => {
  it('paginates with per_page 1..5000 (400 outside), links that keep the filters, order_by and case-insensitive name filters', async () => {
    const sim = await simulator();
    for (const name of ['delta', 'alpha', 'echo', 'charlie', 'bravo']) {
      await sim.org(name);
      sim.clock.advance(1000);
    }
    type Page = { pagination: { total_results: number; total_pages: number; first: { href: string }; last: { href: string }; next: { href: string } | null; previous: { href: string } | null }; resources: Resource[] };
    const first = await sim.cf<Page>('GET', '/v3/organizations?per_page=2');
    expect(first.body.pagination).toEqual({
      total_results: 5,
      total_pages: 3,
      first: { href: `${BASE}/v3/organizations?page=1&per_page=2` },
      last: { href: `${BASE}/v3/organizations?page=3&per_page=2` },
      next: { href: `${BASE}/v3/organizations?page=2&per_page=2` },
      previous: null,
    });
    expect(first.body.resources.map((o) => o.name)).toEqual(['delta', 'alpha']);
    const names: unknown[] = [];
    let next: string | undefined = first.body.pagination.first.href;
    while (next) {
      const page: Reply<Page> = await sim.cf<Page>('GET', next.slice(BASE.length));
      names.push(...page.body.resources.map((o) => o.name));
      if (page.body.pagination.next === null) expect(page.body.pagination.previous!.href).toContain('page=2');
      next = page.body.pagination.next?.href;
    }
    expect(names).toEqual(['delta', 'alpha', 'echo', 'charlie', 'bravo']);

    const byName = await sim.cf<Page>('GET', '/v3/organizations?order_by=-name&names=ALPHA,Bravo,zulu&per_page=1');
    expect(byName.body.pagination.total_results).toBe(2);
    expect(byName.body.resources[0]!.name).toBe('bravo');
    expect(byName.body.pagination.next!.href).toBe(`${BASE}/v3/organizations?names=ALPHA%2CBravo%2Czulu&order_by=-name&page=2&per_page=1`);

    const empty = await sim.cf<Page>('GET', '/v3/apps');
    expect(empty.body.pagination).toMatchObject({ total_results: 0, total_pages: 1, next: null, previous: null });
    expect((await sim.cf('GET', '/v3/organizations?per_page=5000')).status).toBe(200);
    for (const [query, detail] of [
      ['per_page=0', 'Per page must be a positive integer'],
      ['per_page=5001', 'Per page must be between 1 and 5000'],
      ['page=0', 'Page must be a positive integer'],
      ['order_by=size', "Order by can only be: 'created_at', 'updated_at', 'name'"],
    ]) {
      const reply = await sim.cf('GET', `/v3/organizations?${query}`);
      expect(reply.status, query).toBe(400);
      expect(firstError(reply.body)).toEqual({ code: 10005, title: 'CF-BadQueryParameter', detail: `The query parameter is invalid: ${detail}` });
    }
    const unknown = await sim.cf('GET', '/v3/apps?name=alpha');
    expect(unknown.status).toBe(400);
    expect(firstError(unknown.body)!.detail).toContain("Unknown query parameter(s): 'name'");
  });

  it('filters apps by space and organization and selects by label', async () => {
    const sim = await simulator();
    const org = await sim.org();
    const one = await sim.space('one', org.guid);
    const two = await sim.space('two', org.guid);
    await sim.appIn(one.guid, 'a');
    await sim.created('/v3/apps', { name: 'b', relationships: { space: { data: { guid: two.guid } } }, metadata: { labels: { fleet: 'scale', kind: 'tick' } } });
    const list = async (query: string) => (await sim.cf<{ resources: Resource[] }>('GET', `/v3/apps?${query}`)).body.resources.map((a) => a.name);
    expect(await list(`space_guids=${two.guid}`)).toEqual(['b']);
    expect(await list(`organization_guids=${org.guid}&order_by=name`)).toEqual(['a', 'b']);
    expect(await list('label_selector=fleet=scale,kind in (tick,proxy)')).toEqual(['b']);
    expect(await list('label_selector=!fleet')).toEqual(['a']);
  });
});

describe('CF simulator: rate limits, faults and latency', () => {
  it('limits users who are not admins: X-RateLimit-* headers and, over the limit, 429 CF-RateLimitExceeded with Retry-After in seconds (CC 3.139+)', async () => {
    const sim = await simulator({ rateLimit: { limit: 5, windowSeconds: 60 } });
    const developer = await sim.login('developer', 'developer-secret');
    const asDeveloper = (path: string) => sim.send('GET', path, { token: developer });
    const windowEnds = String(Math.floor(sim.clock.now() / 1000) + 60);
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 5; i++) {
      const reply = await asDeveloper('/v3/organizations');
      expect(reply.status).toBe(200);
      expect(reply.headers.get('x-ratelimit-limit')).toBe('5');
      expect(reply.headers.get('x-ratelimit-reset')).toBe(windowEnds);
      remaining.push(reply.headers.get('x-ratelimit-remaining'));
    }
    expect(remaining).toEqual(['4', '3', '2', '1', '0']);
    const limited = await asDeveloper('/v3/organizations');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(limited.headers.get('x-ratelimit-reset')).toBe(windowEnds);
    expect(limited.headers.get('content-type')).toContain('text/plain');
    expect(firstError(limited.body)).toEqual({ code: 10013, title: 'CF-RateLimitExceeded', detail: 'Rate Limit Exceeded' });
    expect((await sim.send('GET', '/', { token: null })).status).toBe(200);
    expect((await sim.login()).length).toBeGreaterThan(0);
    // Admins are exempt (admin_limit -1), and get no rate-limit headers.
    const asAdmin = await sim.cf('GET', '/v3/organizations');
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.headers.get('x-ratelimit-limit')).toBeNull();

    // CC before 3.139 sent the reset time as Retry-After: still available as an option.
    await sim.admin.configure({ retryAfter: 'reset-epoch' });
    expect((await asDeveloper('/v3/organizations')).headers.get('retry-after')).toBe(windowEnds);
    sim.clock.advance(61_000);
    expect((await asDeveloper('/v3/organizations')).status).toBe(200);
    expect((await sim.admin.counters()).faults.rateLimited).toBe(2);
  });

  it('answers a 429 storm for the next N requests or for a while, then serves again', async () => {
    const sim = await simulator();
    await sim.admin.configure({ rateLimitStorm: { requests: 3 } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await sim.cf('GET', '/v3/apps')).status);
    expect(statuses).toEqual([429, 429, 429, 200]);
    await sim.admin.configure({ rateLimitStorm: { seconds: 5 }, retryAfter: 'delay-seconds' });
    const stormy = await sim.cf('GET', '/v3/apps');
    expect(stormy.status).toBe(429);
    expect(stormy.headers.get('retry-after')).toBe('5');
    sim.clock.advance(4000);
    expect((await sim.cf('GET', '/v3/apps')).status).toBe(429);
    sim.clock.advance(1000);
    expect((await sim.cf('GET', '/v3/apps')).status).toBe(200);
    expect((await sim.admin.counters()).faults.storm429).toBe(5);
  });

  it('injects random 502s (the gorouter\'s plain text) and 503s (CC\'s error body), the same ones for the same seed', async () => {
    const sim = await simulator();
    const run = async () => {
      await sim.admin.configure({ seed: 42, faults: { serverErrorRate: 0.3 } });
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await sim.cf('GET', '/v3/organizations')).status);
      return statuses;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    const injected = first.filter((s) => s !== 200);
    expect(injected.length).toBeGreaterThan(4);
    expect(injected.length).toBeLessThan(24);
    expect(new Set(injected)).toEqual(new Set([502, 503]));
    await sim.admin.configure({ seed: 42 });
    let reply: Reply | undefined;
    for (let i = 0; i < 40 && reply?.status !== 503; i++) reply = await sim.cf('GET', '/v3/organizations');
    expect(firstError(reply!.body)).toMatchObject({ code: 10015, title: 'CF-ServiceUnavailable' });
    // The gorouter's 502 is plain text, not CC's envelope.
    for (let i = 0; i < 40 && reply?.status !== 502; i++) reply = await sim.cf('GET', '/v3/organizations');
    expect(reply!.headers.get('content-type')).toContain('text/plain');
    expect(reply!.body).toEqual({ text: '502 Bad Gateway: Registered endpoint failed to handle the request.\n' });
    expect((await sim.admin.counters()).faults.serverErrors).toBeGreaterThanOrEqual(2 * injected.length);
  });

  it('applies a mutation whose response is lost (502), so a retry finds it already done', async () => {
    const sim = await simulator();
    await sim.admin.configure({ faults: { lostResponseRate: 1 } });
    const lost = await sim.cf('POST', '/v3/organizations', { name: 'ghost' });
    expect(lost.status).toBe(502);
    await sim.admin.configure({ faults: { lostResponseRate: 0 } });
    const retry = await sim.cf('POST', '/v3/organizations', { name: 'ghost' });
    expect(retry.status).toBe(422);
    const counters = await sim.admin.counters();
    expect(counters.mutations.applied.byKind['POST /v3/organizations']).toBe(1);
    expect(counters.mutations.attempted.byKind['POST /v3/organizations']).toBe(2);
    expect(counters.faults.lostResponses).toBe(1);
  });

  it('adds the configured latency to every request, concurrently (measured on the real clock)', async () => {
    const sim = await simulator({ clock: systemClock, latencyMs: 80 });
    let started = performance.now();
    expect((await sim.cf('GET', '/v3/organizations')).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(79);
    started = performance.now();
    const replies = await Promise.all(Array.from({ length: 8 }, () => sim.cf('GET', '/v3/organizations')));
    const elapsed = performance.now() - started;
    expect(replies.every((r) => r.status === 200)).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(79);
    expect(elapsed).toBeLessThan(8 * 80);
    await sim.admin.configure({ latencyMs: 0 });
    started = performance.now();
    await sim.cf('GET', '/v3/organizations');
    expect(performance.now() - started).toBeLessThan(60);
  });
});

describe('CF simulator: request log and counters', () => {
  it('counts exactly the mutating calls by kind, the polling calls and the tokens, and logs requests without credentials', async () => {
    const sim = await simulator({ jobDelayMs: 100 });
    await sim.admin.reset();
    const token = await sim.login();
    const cf = (method: string, path: string, body?: unknown) => sim.send(method, path, { body, token });
    const org = (await cf('POST', '/v3/organizations', { name: 'o' })).body as Resource;
    const space = (await cf('POST', '/v3/spaces', { name: 's', relationships: { organization: { data: { guid: org.guid } } } })).body as Resource;
    const app = (await cf('POST', '/v3/apps', { name: 'a', relationships: { space: { data: { guid: space.guid } } } })).body as Resource;
    const { last } = await sim.admin.requests();
    await cf('POST', `/v3/apps/${app.guid}/processes/web/actions/scale`, { instances: 2 });
    const job = new URL((await cf('DELETE', `/v3/apps/${app.guid}`)).headers.get('location')!).pathname;
    await cf('GET', job);
    sim.clock.advance(100);
    await cf('GET', job);
    await cf('POST', '/v3/apps', { name: 'a', relationships: { space: { data: { guid: '00000000-0000-4000-8000-000000000000' } } } });
    await sim.send('GET', `/v3/apps?password=hunter2`, { token });

    const counters = await sim.admin.counters();
    expect(counters.mutations.attempted.byKind).toEqual({
      'POST /v3/organizations': 1,
      'POST /v3/spaces': 1,
      'POST /v3/apps': 2,
      'POST /v3/apps/:guid/processes/web/actions/scale': 1,
      'DELETE /v3/apps/:guid': 1,
    });
    expect(counters.mutations.applied.total).toBe(5);
    expect(counters.reads.byKind).toEqual({ 'GET /v3/jobs/:guid': 2, 'GET /v3/apps': 1 });
    expect(counters.tokens).toEqual({ issued: 1, byGrant: { password: 1 }, refused: 0 });
    expect(counters.byStatus).toMatchObject({ '201': 3, '202': 2, '200': 3, '422': 1, '400': 1 });

    const later = await sim.admin.requests(last);
    expect(later.requests.map((r) => `${r.status} ${r.kind}`)).toEqual([
      '202 POST /v3/apps/:guid/processes/web/actions/scale',
      '202 DELETE /v3/apps/:guid',
      '200 GET /v3/jobs/:guid',
      '200 GET /v3/jobs/:guid',
      '422 POST /v3/apps',
      '400 GET /v3/apps',
    ]);
    expect(later.requests[0]).toMatchObject({ method: 'POST', mutating: true, path: `/v3/apps/${app.guid}/processes/web/actions/scale` });
    expect(later.requests[2]!.mutating).toBe(false);
    const everything = JSON.stringify(await sim.admin.requests());
    expect(everything).toContain('"path":"/login/oauth/token"');
    expect(everything).not.toContain('admin-secret');
    expect(everything).not.toContain('hunter2');

    await sim.admin.reset();
    expect((await sim.admin.counters()).requests).toBe(0);
    expect((await sim.cf('GET', '/v3/organizations')).body.resources).toEqual([]);
  });

  it('validates admin config changes', async () => {
    const sim = await simulator();
    const bad = await sim.send('PUT', '/__sim/config', { body: { faults: { serverErrorRate: 2 } } });
    expect(bad.status).toBe(400);
    expect((bad.body.error as { field: string }).field).toBe('faults.serverErrorRate');
    const unknown = await sim.send('PUT', '/__sim/config', { body: { latency: 5 } });
    expect(unknown.status).toBe(400);
    const shown = (await sim.send('GET', '/__sim/config')).body;
    expect(shown).toMatchObject({ latencyMs: 0, appsDomain: 'apps.cf.test', rateLimitStorm: { remainingRequests: 0, endsAt: null } });
  });
});
