// Contract tests: request → response cases from Cloud Controller's own source and docs (each names
// the cloud_controller_ng file it follows, `cc:`), sent over HTTP. By default they run against the
// in-process simulator; with CF_API_URL pointing at a real foundation (and CF_USERNAME/CF_PASSWORD
// or CF_CLIENT_ID/CF_CLIENT_SECRET of an admin) the same cases run against its Cloud Controller.
// Every case works in one organization made for the run, deleted (recursively) at the end.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedZip } from '../../activities/cf/bits.ts';
import { loadConfig } from '../../config.ts';
import { createCfSimulator } from '../../sim/cf/simulator.ts';

const config = loadConfig().cf;
/** A real CC when CF_API_URL names one (the stack would not start the simulator then). */
const realCc = !config.simulator.run;
const apiUrl = realCc ? config.apiUrl : 'http://cf.test';
const simulator = realCc ? undefined : createCfSimulator({ stagingDelayMs: 20, copyDelayMs: 10, instanceStartDelayMs: 20, jobDelayMs: 10 });
const send: typeof fetch = simulator ? async (input, init) => simulator.fetch(new Request(input, init)) : fetch;
/** Real staging and health checks take a while: CC's port health check gives up after 60 s. */
const asyncTimeoutMs = realCc ? 240_000 : 5_000;

interface Reply {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- CC's JSON, asserted field by field
}

let token = '';
async function call(method: string, path: string, body?: unknown, init: { auth?: boolean; form?: FormData } = {}): Promise<Reply> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.auth !== false) headers.authorization = `bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await send(path.startsWith('http') ? path : `${apiUrl}${path}`, { method, headers, body: init.form ?? (body === undefined ? undefined : JSON.stringify(body)), redirect: 'manual' });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

async function login(): Promise<string> {
  const root = await call('GET', '/', undefined, { auth: false });
  const form = config.clientId
    ? new URLSearchParams({ grant_type: 'client_credentials', client_id: config.clientId, client_secret: config.clientSecret ?? '' })
    : new URLSearchParams({ grant_type: 'password', username: config.username, password: config.password });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (!config.clientId) headers.authorization = `Basic ${Buffer.from('cf:').toString('base64')}`;
  const response = await send(`${root.body.links.login.href}/oauth/token`, { method: 'POST', headers, body: form.toString() });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

const firstError = (reply: Reply) => reply.body.errors[0] as { code: number; title: string; detail: string };

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + asyncTimeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, realCc ? 2000 : 10));
  }
}

const run = randomUUID().slice(0, 8);
const name = (what: string) => `contract-${run}-${what}`;
let orgGuid = '';
let spaceGuid = '';
let domain = { guid: '', name: '' };

/** An app in the run's space; binary_buildpack unless `buildpacks` says otherwise. */
async function createApp(what: string, buildpacks: string[] = ['binary_buildpack']) {
  const reply = await call('POST', '/v3/apps', { name: name(what), relationships: { space: { data: { guid: spaceGuid } } }, lifecycle: { type: 'buildpack', data: { buildpacks } } });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body as { guid: string };
}

/** A READY package of `zip` for the app. */
async function readyPackage(appGuid: string, zip: Uint8Array) {
  const pkg = await call('POST', '/v3/packages', { type: 'bits', relationships: { app: { data: { guid: appGuid } } } });
  const form = new FormData();
  form.set('bits', new Blob([Buffer.from(zip)], { type: 'application/zip' }), 'app.zip');
  form.set('resources', '[]');
  expect((await call('POST', `/v3/packages/${pkg.body.guid}/upload`, undefined, { form })).status).toBe(200);
  return until(() => call('GET', `/v3/packages/${pkg.body.guid}`), (r) => r.body.state === 'READY' || r.body.state === 'FAILED');
}

/** A placeholder that listens on no port (the built-in bits): executable script, Unix mode 0755. */
const sleeper = storedZip({ Procfile: 'web: ./sleeper\n', sleeper: { text: '#!/bin/sh\nexec sleep 3600\n', mode: 0o755 } });

async function stagedApp(what: string) {
  const app = await createApp(what);
  const pkg = await readyPackage(app.guid, sleeper);
  const build = await call('POST', '/v3/builds', { package: { guid: pkg.body.guid } });
  const staged = await until(() => call('GET', `/v3/builds/${build.body.guid}`), (r) => r.body.state !== 'STAGING');
  expect(staged.body.state, staged.body.error).toBe('STAGED');
  return { app, droplet: staged.body.droplet.guid as string };
}

describe(`Cloud Controller contract (${realCc ? apiUrl : 'in-process simulator'})`, { timeout: asyncTimeoutMs * 2 }, () => {
  beforeAll(async () => {
    token = await login();
    const org = await call('POST', '/v3/organizations', { name: name('org') });
    expect(org.status, JSON.stringify(org.body)).toBe(201);
    orgGuid = org.body.guid;
    const space = await call('POST', '/v3/spaces', { name: name('space'), relationships: { organization: { data: { guid: orgGuid } } } });
    spaceGuid = space.body.guid;
    const domains = await call('GET', `/v3/organizations/${orgGuid}/domains/default`);
    domain = domains.status === 200 ? domains.body : (await call('GET', '/v3/domains')).body.resources.find((d: { internal: boolean }) => !d.internal);
  }, asyncTimeoutMs);

  afterAll(async () => {
    if (!orgGuid) return;
    const deleted = await call('DELETE', `/v3/organizations/${orgGuid}`);
    const job = await until(() => call('GET', deleted.headers.get('location')!), (r) => r.body.state === 'COMPLETE' || r.body.state === 'FAILED');
    expect(job.body.state).toBe('COMPLETE');
  }, asyncTimeoutMs);

  it('GET / lists cloud_controller_v3 and the login link without auth (cc: docs/v3/source/includes/api_resources/_root.erb)', async () => {
    const root = await call('GET', '/', undefined, { auth: false });
    expect(root.status).toBe(200);
    expect(root.body.links.cloud_controller_v3.href).toMatch(/\/v3$/);
    expect(root.body.links.login.href).toMatch(/^https?:\/\//);
  });

  it('401 CF-NotAuthenticated without a token (cc: errors/v2.yml 10002)', async () => {
    const reply = await call('GET', '/v3/apps', undefined, { auth: false });
    expect(reply.status).toBe(401);
    expect(firstError(reply)).toMatchObject({ code: 10002, title: 'CF-NotAuthenticated' });
  });

  it('400 CF-BadQueryParameter for per_page past 5000 and for an unknown parameter (cc: lib/cloud_controller/paging/pagination_options.rb, app/messages/list_message.rb)', async () => {
    for (const query of ['per_page=5001', 'no_such_parameter=1']) {
      const reply = await call('GET', `/v3/apps?${query}`);
      expect(reply.status).toBe(400);
      expect(firstError(reply)).toMatchObject({ code: 10005, title: 'CF-BadQueryParameter' });
    }
  });

  it('lists take created_ats with an operator and include, and processes take organization_guids (cc: app/messages/list_message.rb, apps_list_message.rb, processes_list_message.rb)', async () => {
    const apps = await call('GET', `/v3/apps?created_ats[lt]=2099-01-01T00:00:00Z&include=space&space_guids=${spaceGuid}`);
    expect(apps.status).toBe(200);
    const processes = await call('GET', `/v3/processes?organization_guids=${orgGuid}`);
    expect(processes.status).toBe(200);
    expect(processes.body.pagination.total_results).toBe(processes.body.resources.length);
  });

  it('422 for a duplicate organization name (cc: app/actions/organization_create.rb)', async () => {
    const reply = await call('POST', '/v3/organizations', { name: name('org') });
    expect(reply.status).toBe(422);
    expect(firstError(reply)).toEqual({ code: 10008, title: 'CF-UnprocessableEntity', detail: `Organization '${name('org')}' already exists.` });
  });

  it('422 "Name must be unique per organization" for a duplicate space (cc: app/actions/space_create.rb)', async () => {
    const reply = await call('POST', '/v3/spaces', { name: name('space'), relationships: { organization: { data: { guid: orgGuid } } } });
    expect(reply.status).toBe(422);
    expect(firstError(reply)).toEqual({ code: 10008, title: 'CF-UnprocessableEntity', detail: 'Name must be unique per organization' });
  });

  it('a new app: STOPPED, current_droplet {data:{guid:null}} (cc: app/presenters/v3/app_presenter.rb)', async () => {
    const app = await createApp('fresh');
    const shown = await call('GET', `/v3/apps/${app.guid}`);
    expect(shown.body).toMatchObject({ state: 'STOPPED', lifecycle: { type: 'buildpack', data: { buildpacks: ['binary_buildpack'] } } });
    expect(shown.body.relationships.current_droplet).toEqual({ data: { guid: null } });
  });

  it('422 CF-UniquenessError 10016 for a duplicate app name (cc: app/actions/app_create.rb, errors/v3.yml)', async () => {
    await createApp('twin');
    const reply = await call('POST', '/v3/apps', { name: name('twin'), relationships: { space: { data: { guid: spaceGuid } } } });
    expect(reply.status).toBe(422);
    expect(firstError(reply)).toEqual({ code: 10016, title: 'CF-UniquenessError', detail: `App with the name '${name('twin')}' already exists.` });
  });

  it('422 for a buildpack the foundation does not have (cc: app/messages/validators/buildpack_lifecycle_data_validator.rb)', async () => {
    const reply = await call('POST', '/v3/apps', { name: name('nobp'), relationships: { space: { data: { guid: spaceGuid } } }, lifecycle: { type: 'buildpack', data: { buildpacks: ['no_such_buildpack'] } } });
    expect(reply.status).toBe(422);
    expect(firstError(reply).detail).toContain('no_such_buildpack');
  });

  it('an app’s web process has the app’s guid, 1 instance and a port health check (cc: app/actions/app_create.rb, process_create.rb)', async () => {
    const app = await createApp('web');
    const web = await call('GET', `/v3/apps/${app.guid}/processes/web`);
    expect(web.status).toBe(200);
    expect(web.body).toMatchObject({ guid: app.guid, type: 'web', instances: 1, health_check: { type: 'port' } });
  });

  it('PATCH /v3/processes/:guid sets a process health check (cc: app/messages/process_update_message.rb)', async () => {
    const app = await createApp('hc');
    const reply = await call('PATCH', `/v3/processes/${app.guid}`, { health_check: { type: 'process' } });
    expect(reply.status).toBe(200);
    expect(reply.body.health_check.type).toBe('process');
  });

  it('404 "Droplet not found" for the current droplet of an app without one (cc: app/controllers/v3/apps_controller.rb)', async () => {
    const app = await createApp('nodroplet');
    const reply = await call('GET', `/v3/apps/${app.guid}/relationships/current_droplet`);
    expect(reply.status).toBe(404);
    expect(firstError(reply)).toEqual({ code: 10010, title: 'CF-ResourceNotFound', detail: 'Droplet not found' });
  });

  it('422 "Assign a droplet before starting this app." (cc: app/actions/app_start.rb)', async () => {
    const app = await createApp('nostart');
    const reply = await call('POST', `/v3/apps/${app.guid}/actions/start`);
    expect(reply.status).toBe(422);
    expect(firstError(reply)).toEqual({ code: 10008, title: 'CF-UnprocessableEntity', detail: 'Assign a droplet before starting this app.' });
  });

  it('a new package is AWAITING_UPLOAD; a build of it is 400 CF-BadRequest (cc: app/controllers/v3/packages_controller.rb, app/actions/build_create.rb)', async () => {
    const app = await createApp('notready');
    const pkg = await call('POST', '/v3/packages', { type: 'bits', relationships: { app: { data: { guid: app.guid } } } });
    expect(pkg.status).toBe(201);
    expect(pkg.body.state).toBe('AWAITING_UPLOAD');
    const build = await call('POST', '/v3/builds', { package: { guid: pkg.body.guid } });
    expect(build.status).toBe(400);
    expect(firstError(build)).toMatchObject({ code: 1004, title: 'CF-BadRequest' });
    expect(firstError(build).detail).toContain('Cannot stage package whose state is not ready.');
  });

  it('staging without a buildpack that detects the bits ends FAILED with NoAppDetectedError (cc: app/presenters/v3/build_presenter.rb, errors/v2.yml 170003)', async () => {
    const app = await createApp('undetected', []);
    const pkg = await readyPackage(app.guid, sleeper);
    const build = await call('POST', '/v3/builds', { package: { guid: pkg.body.guid } });
    expect(build.status).toBe(201);
    const done = await until(() => call('GET', `/v3/builds/${build.body.guid}`), (r) => r.body.state !== 'STAGING');
    expect(done.body).toMatchObject({ state: 'FAILED', error: 'NoAppDetectedError - An app was not successfully detected by any available buildpack' });
  });

  it('422 CF-StagingInProgress 170017 for a second build while one stages (cc: app/actions/build_create.rb, errors/v2.yml)', async () => {
    const app = await createApp('twobuilds');
    const first = await readyPackage(app.guid, sleeper);
    const second = await readyPackage(app.guid, sleeper);
    expect((await call('POST', '/v3/builds', { package: { guid: first.body.guid } })).status).toBe(201);
    const again = await call('POST', '/v3/builds', { package: { guid: second.body.guid } });
    expect(again.status).toBe(422);
    expect(firstError(again)).toEqual({ code: 170017, title: 'CF-StagingInProgress', detail: 'Only one build can be STAGING at a time per application.' });
  });

  it('binary_buildpack stages executable bits; with a process health check the instance runs (cc: app/actions/app_start.rb; binary-buildpack)', async () => {
    const { app, droplet } = await stagedApp('runs');
    expect((await call('PATCH', `/v3/apps/${app.guid}/relationships/current_droplet`, { data: { guid: droplet } })).status).toBe(200);
    expect((await call('PATCH', `/v3/processes/${app.guid}`, { health_check: { type: 'process' } })).status).toBe(200);
    expect((await call('POST', `/v3/apps/${app.guid}/actions/start`)).status).toBe(200);
    const stats = await until(() => call('GET', `/v3/apps/${app.guid}/processes/web/stats`), (r) => r.body.resources.every((s: { state: string }) => s.state === 'RUNNING'));
    expect(stats.body.resources.map((s: { state: string }) => s.state)).toEqual(['RUNNING']);
  });

  it('with CC’s default port health check, bits that listen on no port crash (cc: app/actions/process_create.rb default health check)', async () => {
    const { app, droplet } = await stagedApp('crashes');
    await call('PATCH', `/v3/apps/${app.guid}/relationships/current_droplet`, { data: { guid: droplet } });
    expect((await call('POST', `/v3/apps/${app.guid}/actions/start`)).status).toBe(200);
    const stats = await until(() => call('GET', `/v3/apps/${app.guid}/processes/web/stats`), (r) => r.body.resources.some((s: { state: string }) => s.state === 'CRASHED'));
    expect(stats.body.resources[0].state).toBe('CRASHED');
  });

  it('droplet copy: 201 COPYING, then STAGED; 404 for an unknown source or destination app (cc: app/controllers/v3/droplets_controller.rb#copy, app/actions/droplet_copy.rb)', async () => {
    const { droplet } = await stagedApp('source');
    const target = await createApp('target');
    const copy = await call('POST', `/v3/droplets?source_guid=${droplet}`, { relationships: { app: { data: { guid: target.guid } } } });
    expect(copy.status).toBe(201);
    expect(copy.body.state).toBe('COPYING');
    const copied = await until(() => call('GET', `/v3/droplets/${copy.body.guid}`), (r) => r.body.state !== 'COPYING');
    expect(copied.body.state).toBe('STAGED');
    const noApp = await call('POST', `/v3/droplets?source_guid=${droplet}`, { relationships: { app: { data: { guid: randomUUID() } } } });
    expect(noApp.status).toBe(404);
    expect(firstError(noApp)).toEqual({ code: 10010, title: 'CF-ResourceNotFound', detail: 'App not found' });
    const noSource = await call('POST', `/v3/droplets?source_guid=${randomUUID()}`, { relationships: { app: { data: { guid: target.guid } } } });
    expect(noSource.status).toBe(404);
    expect(firstError(noSource)).toEqual({ code: 10010, title: 'CF-ResourceNotFound', detail: 'Droplet not found' });
  });

  it('422 for a route that exists, naming host and domain (cc: app/actions/route_create.rb)', async () => {
    const body = { host: name('route'), relationships: { domain: { data: { guid: domain.guid } }, space: { data: { guid: spaceGuid } } } };
    expect((await call('POST', '/v3/routes', body)).status).toBe(201);
    const again = await call('POST', '/v3/routes', body);
    expect(again.status).toBe(422);
    expect(firstError(again)).toEqual({ code: 10008, title: 'CF-UnprocessableEntity', detail: `Route already exists with host '${name('route')}' for domain '${domain.name}'.` });
  });

  it('adding a destination that exists is a no-op (cc: app/actions/update_route_destinations.rb)', async () => {
    const app = await createApp('mapped');
    const route = await call('POST', '/v3/routes', { host: name('mapped'), relationships: { domain: { data: { guid: domain.guid } }, space: { data: { guid: spaceGuid } } } });
    const destination = { destinations: [{ app: { guid: app.guid, process: { type: 'web' } } }] };
    expect((await call('POST', `/v3/routes/${route.body.guid}/destinations`, destination)).status).toBe(200);
    const again = await call('POST', `/v3/routes/${route.body.guid}/destinations`, destination);
    expect(again.status).toBe(200);
    expect(again.body.destinations).toHaveLength(1);
  });

  it('DELETE /v3/apps/:guid is 202 with a job Location that completes (cc: app/controllers/v3/apps_controller.rb#destroy)', async () => {
    const app = await createApp('deleted');
    const reply = await call('DELETE', `/v3/apps/${app.guid}`);
    expect(reply.status).toBe(202);
    const job = await until(() => call('GET', reply.headers.get('location')!), (r) => r.body.state === 'COMPLETE' || r.body.state === 'FAILED');
    expect(job.body).toMatchObject({ state: 'COMPLETE', operation: 'app.delete' });
    expect((await call('GET', `/v3/apps/${app.guid}`)).status).toBe(404);
  });
});
