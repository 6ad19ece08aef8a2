// Access against the stack's MariaDB: signing in (scrypt, a rotated HttpOnly SameSite=Strict cookie),
// idle and absolute expiry, throttled guessing, bearer tokens shown once and revocable, users, the
// first admin, and the audit log of what each caller changed.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RowDataPacket } from 'mysql2/promise';
import { createAccessModel } from '../db/access.ts';
import { SESSION_COOKIE } from '../services/access.shared.ts';
import { createAccessService, hashPassword, verifyPassword } from '../services/access.ts';
import { requestJson, useStack } from './support/fixture.ts';

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

describe('access', () => {
  const stack = useStack({ workers: false });
  const username = `op${stack.suffix}`;
  const password = `correct horse ${randomUUID()}`;

  const signIn = async (cookie?: string) => {
    const response = await stack.anonymousApp.request('/login', { ...form({ username, password, next: '/cpu-load' }), headers: { ...form({}).headers, ...(cookie ? { cookie } : {}) } });
    return { response, cookie: response.headers.get('set-cookie')?.split(';')[0] };
  };

  it('stores passwords as salted scrypt hashes', async () => {
    const hash = await hashPassword('a password of some length');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(hash).not.toBe(await hashPassword('a password of some length'));
    expect(await verifyPassword('a password of some length', hash)).toBe(true);
    expect(await verifyPassword('a password of some lengtH', hash)).toBe(false);
  });

  it('signs an operator in with a new HttpOnly, SameSite=Strict cookie each time, and signs them out', async () => {
    await stack.env.access.users.create({ username, role: 'operator', password }, { mustChangePassword: false });
    const first = await signIn();
    expect(first.response.status).toBe(303);
    expect(first.response.headers.get('location')).toBe('/cpu-load');
    const setCookie = first.response.headers.get('set-cookie')!;
    expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[\\w-]{43}; Path=/; HttpOnly; SameSite=Strict$`));
    const me = await stack.anonymousApp.request('/api/me', { headers: { cookie: first.cookie! } });
    expect(await me.json()).toEqual({ kind: 'session', name: username, role: 'operator', actor: `user:${username}` });

    // Signing in again with the old cookie rotates it: the old session ends.
    const second = await signIn(first.cookie);
    expect(second.cookie).not.toBe(first.cookie);
    expect((await stack.anonymousApp.request('/api/me', { headers: { cookie: first.cookie! } })).status).toBe(401);

    // Sign out needs the session's CSRF token, like any change.
    const page = await (await stack.anonymousApp.request('/', { headers: { cookie: second.cookie! } })).text();
    const csrf = /name="_csrf" value="([\w-]+)"/.exec(page)![1]!;
    expect((await stack.anonymousApp.request('/logout', { ...form({}), headers: { ...form({}).headers, cookie: second.cookie! } })).status).toBe(403);
    const out = await stack.anonymousApp.request('/logout', { ...form({ _csrf: csrf }), headers: { ...form({}).headers, cookie: second.cookie! } });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(new RegExp(`^${SESSION_COOKIE}=;.*Max-Age=0`));
    expect((await stack.anonymousApp.request('/api/me', { headers: { cookie: second.cookie! } })).status).toBe(401);
  });

  it('refuses a wrong password the same way as an unknown user, and throttles guessing', async () => {
    const wrong = await stack.anonymousApp.request('/login', form({ username, password: 'not it at all' }));
    const unknown = await stack.anonymousApp.request('/login', form({ username: `nobody${stack.suffix}`, password }));
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(await wrong.text()).toContain('Wrong username or password.');
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const guesser = createAccessService({ model: createAccessModel(stack.env.clients.mysql), settings: { ...stack.env.config.access, signInFailures: { limit: 3, windowMs: 60_000 } } });
    for (let i = 0; i < 3; i++) await expect(guesser.signIn(username, `guess ${i}`)).rejects.toMatchObject({ status: 401 });
    // Past the limit even the right password waits: a guesser cannot tell when it found it.
    await expect(guesser.signIn(username, password)).rejects.toMatchObject({ status: 429, code: 'too_many_attempts' });
  });

  it('ends a session after its idle time and after its absolute lifetime', async () => {
    let now = new Date('2030-01-01T00:00:00Z');
    const service = createAccessService({ model: createAccessModel(stack.env.clients.mysql), settings: { sessionIdleMs: 60 * 60_000, sessionMaxMs: 3 * 60 * 60_000 }, now: () => now });
    const idle = await service.signIn(username, password);
    now = new Date('2030-01-01T00:59:00Z');
    expect(await service.sessionPrincipal(idle.sessionToken)).toMatchObject({ name: username });
    now = new Date('2030-01-01T02:00:00Z'); // 61 minutes after it was last seen
    expect(await service.sessionPrincipal(idle.sessionToken)).toBeUndefined();

    now = new Date('2030-01-01T00:00:00Z');
    const busy = await service.signIn(username, password);
    for (const minute of [50, 100, 150, 170]) {
      now = new Date(Date.parse('2030-01-01T00:00:00Z') + minute * 60_000);
      expect(await service.sessionPrincipal(busy.sessionToken), `minute ${minute}`).toBeDefined();
    }
    now = new Date('2030-01-01T03:00:00Z');
    expect(await service.sessionPrincipal(busy.sessionToken)).toBeUndefined();
  });

  it('sends a user whose password an admin chose to choose their own first', async () => {
    const newcomer = `new${stack.suffix}`;
    const created = await requestJson(stack.app, 'POST', '/api/users', { username: newcomer, role: 'viewer', password: 'chosen by the admin' });
    expect(created.status).toBe(201);
    expect(created.body).not.toHaveProperty('password');
    const response = await stack.anonymousApp.request('/login', form({ username: newcomer, password: 'chosen by the admin' }));
    expect(response.headers.get('location')).toBe('/account/password');
    const cookie = response.headers.get('set-cookie')!.split(';')[0]!;
    const home = await stack.anonymousApp.request('/', { headers: { cookie, accept: 'text/html' } });
    expect(home.status).toBe(302);
    expect(home.headers.get('location')).toBe('/account/password');
    const page = await (await stack.anonymousApp.request('/account/password', { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([\w-]+)"/.exec(page)![1]!;
    const changed = await stack.anonymousApp.request('/account/password', { ...form({ _csrf: csrf, currentPassword: 'chosen by the admin', newPassword: 'my very own passphrase' }), headers: { ...form({}).headers, cookie } });
    expect(changed.status).toBe(303);
    expect((await stack.anonymousApp.request('/', { headers: { cookie, accept: 'text/html' } })).status).toBe(200);
  });

  it('shows a token once, stores only its hash, and stops honouring it when revoked', async () => {
    const created = await requestJson<{ id: number; token: string; prefix: string; role: string }>(stack.app, 'POST', '/api/tokens', { name: 'ci runner', role: 'operator' });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^fleet_[\w-]{43}$/);
    expect(created.body.token.startsWith(created.body.prefix)).toBe(true);
    const [rows] = await stack.env.clients.mysql.query<RowDataPacket[]>('SELECT * FROM api_tokens WHERE id = ?', [created.body.id]);
    expect(JSON.stringify(rows)).not.toContain(created.body.token);
    const listed = await requestJson<{ tokens: Record<string, unknown>[] }>(stack.app, 'GET', '/api/tokens');
    expect(JSON.stringify(listed.body)).not.toContain(created.body.token);
    expect(listed.body.tokens.find((t) => t.id === created.body.id)).toMatchObject({ name: 'ci runner', role: 'operator', status: 'active' });

    const bearer = { authorization: `Bearer ${created.body.token}` };
    expect(await (await stack.anonymousApp.request('/api/me', { headers: bearer })).json()).toMatchObject({ kind: 'token', role: 'operator' });
    expect((await requestJson(stack.app, 'DELETE', `/api/tokens/${created.body.id}`)).body).toMatchObject({ status: 'revoked' });
    const after = await stack.anonymousApp.request('/api/me', { headers: bearer });
    expect(after.status).toBe(401);
  });

  it('deletes users, but not the account one is signed in with, and refuses duplicates and short passwords', async () => {
    const service = stack.env.access;
    const loneAdmin = `lone${stack.suffix}`;
    await service.users.create({ username: loneAdmin, role: 'admin', password: 'a long enough one' });
    await service.users.remove(loneAdmin, { kind: 'token', name: 't', role: 'admin', actor: 'token:t#1' });
    await expect(service.users.remove(loneAdmin, { kind: 'token', name: 't', role: 'admin', actor: 'token:t#1' })).rejects.toMatchObject({ status: 404 });
    await expect(service.users.remove(stack.admin.username, { kind: 'session', name: stack.admin.username, role: 'admin', actor: 'x' })).rejects.toMatchObject({ status: 409, code: 'own_account' });
    const duplicate = await requestJson(stack.app, 'POST', '/api/users', { username, role: 'viewer', password: 'another long one' });
    expect(duplicate).toMatchObject({ status: 409, body: { error: { code: 'user_exists' } } });
    const weak = await requestJson(stack.app, 'POST', '/api/users', { username: `weak${stack.suffix}`, role: 'viewer', password: 'short' });
    expect(weak).toMatchObject({ status: 400, body: { error: { field: 'password' } } });
  });

  it('records who did what in the audit log, newest first, readable by a viewer', async () => {
    const viewer = { authorization: `Bearer ${stack.tokens.viewer}`, 'content-type': 'application/json' };
    await stack.anonymousApp.request('/api/users', { method: 'POST', headers: viewer, body: JSON.stringify({ username: `x${stack.suffix}`, role: 'admin', password: 'long enough here' }) });
    await requestJson(stack.app, 'POST', '/api/tokens', { name: 'audited', role: 'viewer' });
    // By actor: other test files write to the same log meanwhile (the fuzz test thousands of lines).
    const tokens = (await requestJson<{ tokens: { id: number; name: string }[] }>(stack.app, 'GET', '/api/tokens')).body.tokens;
    const actorOf = (name: string) => `token:${name}#${tokens.find((t) => t.name === name)!.id}`;
    const entriesOf = async (actor: string) => {
      const audit = await stack.anonymousApp.request(`/api/audit?limit=50&actor=${encodeURIComponent(actor)}`, { headers: viewer });
      expect(audit.status).toBe(200);
      const { entries } = (await audit.json()) as { entries: { actor: string; action: string; target: string; status: number }[] };
      expect(entries.every((e) => e.actor === actor)).toBe(true);
      return entries;
    };
    expect((await entriesOf(actorOf(`admin${stack.suffix}`))).find((e) => e.action === 'POST /api/tokens')?.status).toBe(201);
    expect((await entriesOf(actorOf(`viewer${stack.suffix}`))).find((e) => e.action === 'POST /api/users')).toMatchObject({ status: 403, target: '/api/users' });
    const signIns = (await entriesOf(`user:${username}`)).filter((e) => e.action === 'sign-in').map((e) => e.status);
    expect(signIns).toContain(303);
    expect(signIns).toContain(401);
  });
});
