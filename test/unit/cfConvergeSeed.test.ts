// The seed's parameter file as input (workflows/cfConverge.shared.ts): accepted unchanged by the one
// schema the workflow, API and UI share; credentials and connection keys refused naming the field;
// translated into the original cf-pusher's setup; planned from nothing as 201 apps, a quota and an ASG.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ErrorBody } from '../../api/errors.ts';
import {
  computePlan,
  convergeInputSchema,
  desiredStateFromSeed,
  settingsFrom,
  type ConvergeInput,
  type Observation,
  type SeedParams,
} from '../../workflows/cfConverge.shared.ts';
import { problemOf } from '../../workflows/validation.shared.ts';
import { stubApp } from './support/stubApp.ts';

/** The seed's file exactly as it ships (docs/examples/cf-seed-params.json is a verbatim copy). */
const seedFile = readFileSync(new URL('../../docs/examples/cf-seed-params.json', import.meta.url), 'utf8');
const seed = JSON.parse(seedFile) as SeedParams;

const fresh: Observation = { organizationGuid: null, spaceGuid: null, domain: { guid: 'd-1', name: 'apps.example.com' }, apps: [], quota: null, securityGroup: null };
const post = (body: string) => ({ method: 'POST', body, headers: { 'content-type': 'application/json' } });

describe('the seed parameter file', () => {
  it('is accepted unchanged by the API and started as sent, under the workflow ID of <prefix>org/<prefix>space', async () => {
    const stub = stubApp();
    const response = await stub.app.request('/api/cf-convergences', post(seedFile));
    expect(response.status, await response.clone().text()).toBe(201);
    expect(stub.starts).toMatchObject([{ workflowType: 'cfConverge', options: { workflowId: 'cf-converge-default-scale-org-scale-space', args: [seed] } }]);
  });

  it('is taken by the UI as an uploaded file or pasted, and a pasted one with a credential is refused in a fragment', async () => {
    const stub = stubApp();
    const upload = new FormData();
    upload.set('seedFile', new File([seedFile], 'seed.json', { type: 'application/json' }));
    expect(await (await stub.app.request('/ui/cf-convergences', { method: 'POST', body: upload })).text()).toContain('Started');
    expect(stub.starts.map((s) => s.options.args)).toEqual([[seed]]);
    const pasted = await stub.app.request('/ui/cf-convergences', { method: 'POST', body: new URLSearchParams({ seed: JSON.stringify({ ...seed, admin_password: 'x' }) }) });
    expect(await pasted.text()).toContain('admin_password: is a credential');
    expect(stub.starts).toHaveLength(1);
  });

  it.each([
    ['admin_password', { ...seed, api: undefined, admin_password: 'hunter2' }, /is a credential: credentials come from the foundation configuration/],
    ['admin_user', { admin_user: 'admin', ...seed }, /is a credential/],
    ['admin_secret', { ...seed, admin_secret: 's' }, /is a credential/],
    ['api', { api: 'api.example.com', ...seed, admin_password: 'x' }, /comes from the foundation configuration \(CF_API_URL\)/],
    ['skip_ssl_validation', { ...seed, skip_ssl_validation: true }, /CF_SKIP_SSL_VALIDATION/],
  ])('refuses %s with 400 naming the field, and starts nothing', async (field, body, message) => {
    const stub = stubApp();
    const response = await stub.app.request('/api/cf-convergences', post(JSON.stringify(body)));
    const { error } = (await response.json()) as ErrorBody;
    expect(response.status).toBe(400);
    expect(error.message).toMatch(new RegExp(`^${field}: `));
    expect(error.message).toMatch(message);
    expect(stub.starts).toEqual([]);
  });

  it('refuses credentials in the kinds form too, and names the first bad seed key like any field', () => {
    expect(problemOf(convergeInputSchema, { kinds: [{ kind: 'a', count: 1, instances: 1 }], admin_password: 'x' })).toMatch(/^admin_password: is a credential/);
    expect(problemOf(convergeInputSchema, { ...seed, test_applications: -1 })).toBe('test_applications: must be a whole number from 0 to 10000');
    expect(problemOf(convergeInputSchema, { ...seed, colour: 'blue' })).toBe('colour: unknown field');
    expect(problemOf(convergeInputSchema, { ...seed, constructor: 1 })).toBe('constructor: unknown field');
    expect(problemOf(convergeInputSchema, { proxy_applications: 1 })).toBe('proxy_instances: must be a whole number from 0 to 1000');
    // Neither form: the general form's first need is named.
    expect(problemOf(convergeInputSchema, {})).toMatch(/^kinds: /);
  });

  it("accepts the original config's other non-secret keys (apps_domain, the tests' flags) and run options", () => {
    const full = { ...seed, apps_domain: 'apps.example.com', internetless: false, default_security_groups: ['public_networks'], skip_icmp_tests: true, dryRun: true };
    expect(problemOf(convergeInputSchema, full)).toBeUndefined();
    expect(settingsFrom(full as ConvergeInput)).toMatchObject({ domain: 'apps.example.com', dryRun: true });
  });

  it("translates into the original's setup: registry, tick apps wired to it, proxies, quota and ASG of asg_size rules", () => {
    const desired = desiredStateFromSeed(seed);
    expect(desired).toEqual({
      prefix: 'scale-',
      concurrency: 20,
      kinds: [
        { kind: 'registry', names: 'single', count: 1, instances: 1 },
        {
          kind: 'tick',
          count: 100,
          instances: 2,
          env: {
            GOPACKAGENAME: 'example-apps/tick',
            REGISTRY_BASE_URL: 'http://scale-registry.{apps_domain}',
            REGISTRY_TTL_SECONDS: '180',
            START_PORT: '7000',
            LISTEN_PORTS: '2',
          },
        },
        { kind: 'proxy', count: 100, instances: 2, env: { GOPACKAGENAME: 'example-apps/proxy' } },
      ],
      quota: {
        name: 'scale-quota',
        apps: { total_memory_in_mb: 1_024_000, per_process_memory_in_mb: null, total_instances: null },
        services: { total_service_instances: 100 },
        routes: { total_routes: 20_000, total_reserved_ports: null },
      },
      securityGroup: {
        name: 'scale-asg',
        rules: [1, 2, 3, 4, 5].map((i) => ({ protocol: 'tcp', destination: `169.254.0.${i}`, ports: '80' })),
      },
    });
    // The translation is itself a valid desired state.
    expect(problemOf(convergeInputSchema, desired)).toBeUndefined();
    // The original's fallbacks and yaml omitempty: no prefix → scale-, no concurrency → 16, a 0 leaves the variable out, no asg_size → no ASG.
    const bare = desiredStateFromSeed({ proxy_applications: 1, proxy_instances: 1, test_applications: 1, test_app_instances: 1, prefix: '', apps_domain: 'apps.test' });
    expect(bare).toMatchObject({ prefix: 'scale-', concurrency: 16, domain: 'apps.test' });
    expect(bare.kinds[1]!.env).toEqual({ GOPACKAGENAME: 'example-apps/tick', REGISTRY_BASE_URL: 'http://scale-registry.apps.test', START_PORT: '7000' });
    expect(bare.securityGroup).toBeUndefined();
  });

  it('plans from nothing 201 apps (one prototype per kind), the quota created and applied, the ASG created and bound; tick env names the observed domain', () => {
    const plan = computePlan(settingsFrom(seed), fresh);
    expect(plan.apps).toHaveLength(201);
    // Every new app is scaled, the registry's 1 instance too: the scale gives builtin bits their 32 MB of memory and disk.
    expect(plan.apps[0]).toMatchObject({ name: 'scale-registry', kind: 'registry', instances: 1, actions: ['create', 'push-prototype', 'scale', 'route', 'start'] });
    expect(plan.prototypes.map((p) => p.app)).toEqual(['scale-registry', 'scale-tick-0', 'scale-proxy-0']);
    expect(plan.counts).toMatchObject({ create: 201, 'push-prototype': 3, 'copy-droplet': 198, scale: 201, route: 201, start: 201, delete: 0 });
    expect(plan.apps.find((a) => a.name === 'scale-tick-99')!.env.REGISTRY_BASE_URL).toBe('http://scale-registry.apps.example.com');
    expect(plan.quota).toMatchObject({ name: 'scale-quota', guid: null, actions: ['create', 'apply'] });
    expect(plan.securityGroup).toMatchObject({ name: 'scale-asg', guid: null, actions: ['create', 'bind'] });
  });

  it('plans nothing for a converged foundation, an update (never a re-create) when a limit or the rules differ, and an apply or bind when missing', () => {
    const settings = settingsFrom(seed);
    const desired = desiredStateFromSeed(seed);
    const apps = computePlan(settings, fresh).apps.map((a) => ({ name: a.name, guid: `g-${a.name}`, state: 'STARTED' as const, instances: a.instances, dropletGuid: 'drop', routed: true }));
    const quota = { guid: 'q-1', ...desired.quota!, organizationGuids: ['org-1'] };
    const securityGroup = { guid: 'sg-1', name: 'scale-asg', rules: desired.securityGroup!.rules, runningSpaceGuids: ['space-1'] };
    const converged: Observation = { ...fresh, organizationGuid: 'org-1', spaceGuid: 'space-1', apps, quota, securityGroup };
    const none = computePlan(settings, converged);
    expect({ apps: none.apps, quota: none.quota!.actions, securityGroup: none.securityGroup!.actions }).toEqual({ apps: [], quota: [], securityGroup: [] });

    const drifted = computePlan(settings, {
      ...converged,
      quota: { ...quota, routes: { total_routes: 1000, total_reserved_ports: null }, organizationGuids: [] },
      securityGroup: { ...securityGroup, rules: securityGroup.rules.slice(1), runningSpaceGuids: [] },
    });
    expect(drifted.quota).toMatchObject({ guid: 'q-1', actions: ['update', 'apply'] });
    expect(drifted.securityGroup).toMatchObject({ guid: 'sg-1', actions: ['update', 'bind'] });
    // A quota's limits the desired state does not declare are left as they are.
    expect(computePlan(settings, { ...converged, quota: { ...quota, services: { total_service_instances: 100, paid_services_allowed: false } } }).quota!.actions).toEqual([]);
  });

  it('deletes a single-named app only when its count drops to 0, and never takes it for an indexed app', () => {
    const desired = { prefix: 'scale-', kinds: [{ kind: 'registry', names: 'single' as const, count: 0, instances: 1 }, { kind: 'tick', count: 1, instances: 1 }] };
    const live = (name: string) => ({ name, guid: `g-${name}`, state: 'STARTED' as const, instances: 1, dropletGuid: 'd', routed: true });
    const plan = computePlan(settingsFrom(desired), { ...fresh, organizationGuid: 'o', spaceGuid: 's', apps: [live('scale-registry'), live('scale-registry-1'), live('scale-tick-0')] });
    expect(plan.apps.map((a) => `${a.name}:${a.actions.join('+')}`)).toEqual(['scale-registry:delete']);
    expect(problemOf(convergeInputSchema, { kinds: [{ kind: 'registry', names: 'single', count: 2, instances: 1 }] })).toBe('kinds.0.count: must be 0 or 1 for a kind of names single');
  });
});
