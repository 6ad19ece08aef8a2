// The simulator's organization quotas and application security groups (sim/cf/routes/
// organizationQuotas.ts, securityGroups.ts): CC's shapes, idempotent-by-name lookups, PATCH of
// what changed, assignment to orgs and running spaces, and 403 CF-NotAuthorized for non-admins.
import { describe, expect, it } from 'vitest';
import { fakeClock } from '../../sim/cf/clock.ts';
import type { CfErrorBody } from '../../sim/cf/errors.ts';
import { createCfSimulator } from '../../sim/cf/simulator.ts';

const BASE = 'http://cf.test';
const CF_CLIENT = `Basic ${Buffer.from('cf:').toString('base64')}`;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function simulator() {
  const clock = fakeClock();
  const app = createCfSimulator({
    clock,
    users: [{ username: 'admin', password: 'admin-secret' }, { username: 'developer', password: 'dev-secret', admin: false }],
  });
  const login = async (username: string, password: string) => {
    const response = await app.request(`${BASE}/login/oauth/token`, {
      method: 'POST',
      headers: { authorization: CF_CLIENT },
      body: new URLSearchParams({ grant_type: 'password', username, password }),
    });
    return ((await response.json()) as { access_token: string }).access_token;
  };
  const tokens = { admin: await login('admin', 'admin-secret'), developer: await login('developer', 'dev-secret') };
  const cf = async (method: string, path: string, body?: unknown, as: keyof typeof tokens = 'admin') => {
    const headers: Record<string, string> = { authorization: `bearer ${tokens[as]}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await app.request(`${BASE}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Json };
  };
  const org = async (name: string) => (await cf('POST', '/v3/organizations', { name })).body;
  const space = async (name: string, orgGuid: string) => (await cf('POST', '/v3/spaces', { name, relationships: { organization: { data: { guid: orgGuid } } } })).body;
  return { cf, org, space, clock };
}

const firstError = (body: unknown) => (body as CfErrorBody).errors[0];
const seedQuota = {
  name: 'scale-quota',
  apps: { total_memory_in_mb: 1_024_000, per_process_memory_in_mb: null, total_instances: null },
  services: { total_service_instances: 100 },
  routes: { total_routes: 20_000, total_reserved_ports: null },
};

describe('CF simulator: organization quotas', () => {
  it('creates a quota (unset limits unlimited), finds it by name, patches only what is sent and applies it to an org', async () => {
    const sim = await simulator();
    const org = await sim.org('scale-org');
    expect(org.relationships.quota.data.guid).toEqual(expect.any(String));
    const defaultQuota = await sim.cf('GET', `/v3/organization_quotas/${org.relationships.quota.data.guid}`);
    expect(defaultQuota.body).toMatchObject({ name: 'default', apps: { total_memory_in_mb: 10_240 }, routes: { total_routes: 1000 } });

    const created = await sim.cf('POST', '/v3/organization_quotas', seedQuota);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'scale-quota',
      apps: { total_memory_in_mb: 1_024_000, per_process_memory_in_mb: null, total_instances: null, per_app_tasks: null },
      services: { paid_services_allowed: true, total_service_instances: 100, total_service_keys: null },
      routes: { total_routes: 20_000, total_reserved_ports: null },
      domains: { total_domains: null },
      relationships: { organizations: { data: [] } },
      links: { self: { href: `${BASE}/v3/organization_quotas/${created.body.guid}` } },
    });
    const duplicate = await sim.cf('POST', '/v3/organization_quotas', { name: 'SCALE-quota' });
    expect(duplicate.status).toBe(422);
    expect(firstError(duplicate.body)).toEqual({ code: 10008, title: 'CF-UnprocessableEntity', detail: "Organization Quota 'SCALE-quota' already exists." });

    const found = await sim.cf('GET', '/v3/organization_quotas?names=scale-quota');
    expect(found.body.resources.map((q: Json) => q.guid)).toEqual([created.body.guid]);

    const patched = await sim.cf('PATCH', `/v3/organization_quotas/${created.body.guid}`, { routes: { total_routes: 30_000 } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ apps: { total_memory_in_mb: 1_024_000 }, routes: { total_routes: 30_000, total_reserved_ports: null } });

    const applied = await sim.cf('POST', `/v3/organization_quotas/${created.body.guid}/relationships/organizations`, { data: [{ guid: org.guid }] });
    expect(applied.status).toBe(200);
    expect(applied.body.data).toEqual([{ guid: org.guid }]);
    expect((await sim.cf('GET', `/v3/organizations/${org.guid}`)).body.relationships.quota.data.guid).toBe(created.body.guid);
    expect((await sim.cf('GET', `/v3/organization_quotas?organization_guids=${org.guid}`)).body.resources.map((q: Json) => q.name)).toEqual(['scale-quota']);
  });

  it('refuses bad limits and unknown organizations with 422, and non-admins with 403 CF-NotAuthorized', async () => {
    const sim = await simulator();
    const negative = await sim.cf('POST', '/v3/organization_quotas', { name: 'q', apps: { total_memory_in_mb: -1 } });
    expect(negative.status).toBe(422);
    expect(firstError(negative.body)!.detail).toBe('Total memory in mb must be greater than or equal to 0');
    const unknown = await sim.cf('POST', '/v3/organization_quotas', { name: 'q', apps: { memory: 1 } });
    expect(firstError(unknown.body)!.detail).toBe("Unknown field(s): 'memory'");
    const quota = (await sim.cf('POST', '/v3/organization_quotas', { name: 'q' })).body;
    const missingOrg = await sim.cf('POST', `/v3/organization_quotas/${quota.guid}/relationships/organizations`, { data: [{ guid: 'nope' }] });
    expect(missingOrg.status).toBe(422);
    expect(firstError(missingOrg.body)!.detail).toBe('Organizations with guids ["nope"] do not exist, or you do not have access to them.');

    for (const [method, path, body] of [
      ['POST', '/v3/organization_quotas', { name: 'mine' }],
      ['PATCH', `/v3/organization_quotas/${quota.guid}`, { name: 'mine' }],
      ['POST', `/v3/organization_quotas/${quota.guid}/relationships/organizations`, { data: [] }],
    ] as const) {
      const refused = await sim.cf(method, path, body, 'developer');
      expect(refused.status, `${method} ${path}`).toBe(403);
      expect(firstError(refused.body)).toEqual({ code: 10003, title: 'CF-NotAuthorized', detail: 'You are not authorized to perform the requested action' });
    }
    expect((await sim.cf('GET', '/v3/organization_quotas?names=mine')).body.resources).toEqual([]);
  });
});

describe('CF simulator: security groups', () => {
  const rules = [
    { protocol: 'tcp', destination: '169.254.0.1', ports: '80' },
    { protocol: 'tcp', destination: '169.254.0.2', ports: '80' },
  ];

  it('creates a group, binds it to a space for running apps, patches its rules, and lists it by running space', async () => {
    const sim = await simulator();
    const org = await sim.org('scale-org');
    const space = await sim.space('scale-space', org.guid);
    const created = await sim.cf('POST', '/v3/security_groups', { name: 'scale-asg', rules });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'scale-asg',
      globally_enabled: { running: false, staging: false },
      rules,
      relationships: { running_spaces: { data: [] }, staging_spaces: { data: [] } },
    });
    const duplicate = await sim.cf('POST', '/v3/security_groups', { name: 'scale-asg', rules: [] });
    expect(firstError(duplicate.body)).toEqual({ code: 10008, title: 'CF-UnprocessableEntity', detail: "Security group with name 'scale-asg' already exists." });

    const bound = await sim.cf('POST', `/v3/security_groups/${created.body.guid}/relationships/running_spaces`, { data: [{ guid: space.guid }] });
    expect(bound.status).toBe(200);
    expect(bound.body.data).toEqual([{ guid: space.guid }]);
    const patched = await sim.cf('PATCH', `/v3/security_groups/${created.body.guid}`, { rules: [rules[0]] });
    expect(patched.body).toMatchObject({ rules: [rules[0]], relationships: { running_spaces: { data: [{ guid: space.guid }] } } });
    const listed = await sim.cf('GET', `/v3/security_groups?running_space_guids=${space.guid}&names=scale-asg`);
    expect(listed.body.resources.map((g: Json) => g.guid)).toEqual([created.body.guid]);

    // Deleting the space unbinds it, as CC does.
    expect((await sim.cf('DELETE', `/v3/spaces/${space.guid}`)).status).toBe(202);
    sim.clock.advance(60_000);
    expect((await sim.cf('GET', `/v3/security_groups?running_space_guids=${space.guid}`)).body.resources).toEqual([]);
  });

  it('checks rules as CC does, refuses unknown spaces with 422 and non-admins with 403', async () => {
    const sim = await simulator();
    const noPorts = await sim.cf('POST', '/v3/security_groups', { name: 'g', rules: [{ protocol: 'tcp', destination: '10.0.0.1' }] });
    expect(noPorts.status).toBe(422);
    expect(firstError(noPorts.body)!.detail).toMatch(/^Rules\[0\]: ports must be a valid single port/);
    const badProtocol = await sim.cf('POST', '/v3/security_groups', { name: 'g', rules: [{ protocol: 'sctp', destination: '10.0.0.1' }] });
    expect(firstError(badProtocol.body)!.detail).toBe("Rules[0]: protocol must be 'tcp', 'udp', 'icmp', or 'all'");
    const group = (await sim.cf('POST', '/v3/security_groups', { name: 'g', rules: [] })).body;
    const missingSpace = await sim.cf('POST', `/v3/security_groups/${group.guid}/relationships/running_spaces`, { data: [{ guid: 'nope' }] });
    expect(firstError(missingSpace.body)!.detail).toBe('Spaces with guids ["nope"] do not exist, or you do not have access to them.');
    for (const [method, path, body] of [
      ['POST', '/v3/security_groups', { name: 'mine', rules: [] }],
      ['PATCH', `/v3/security_groups/${group.guid}`, { rules }],
    ] as const) {
      expect((await sim.cf(method, path, body, 'developer')).status, `${method} ${path}`).toBe(403);
    }
    expect((await sim.cf('GET', `/v3/security_groups/${group.guid}`)).body.rules).toEqual([]);
  });
});
