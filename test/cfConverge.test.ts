import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ServerType } from '@hono/node-server';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { App } from '../server/app.ts';
import type { ErrorBody } from '../api/errors.ts';
import { createCfClient, type CfClient, type Deployment } from '../activities/cf/client.ts';
import { createCfSimulator } from '../sim/cf/simulator.ts';
import type { Counters } from '../sim/cf/traffic.ts';
import { cfConverge } from '../workflows/cfConverge.ts';
import { CF_CONVERGE_TASK_QUEUE, computePlan, settingsFrom, type ConvergeInput, type ConvergeResult } from '../workflows/cfConverge.shared.ts';
import { serveForBrowser } from './support/browser.ts';
import { requestJson, useStack } from './support/fixture.ts';
import { startWorkerProcess, uniqueSuffix } from './support/stack.ts';

const credentials = { kind: 'password' as const, username: 'admin', password: 'admin-secret' };

describe('cf-pusher convergence against the Cloud Controller simulator', () => {
  let server: ServerType;
  let simUrl: string;
  let app: App;
  let cf: CfClient;
  let prefixCounter = 0;
  let prefix: string;

  const sim = {
    configure: (patch: object) => fetch(`${simUrl}/__sim/config`, { method: 'PUT', body: JSON.stringify(patch) }).then((r) => r.json()),
    counters: async () => (await (await fetch(`${simUrl}/__sim/counters`)).json()) as Counters,
    reset: () => fetch(`${simUrl}/__sim/reset`, { method: 'POST' }),
  };
  const fastKnobs = { latencyMs: 0, stagingDelayMs: 30, copyDelayMs: 20, instanceStartDelayMs: 20, jobDelayMs: 10, faults: { serverErrorRate: 0, copyFailureRate: 0, failNextCopies: 0, lostResponseRate: 0 } };

  // The simulator comes first: the stack's workers converge against it, and it closes after them.
  beforeAll(async () => {
    ({ url: simUrl, server } = await serveForBrowser(createCfSimulator({ ...fastKnobs, appsDomain: 'apps.internal' }).fetch));
    cf = createCfClient({ apiUrl: simUrl, credentials });
  });
  afterAll(() => server?.close());
  const stack = useStack({ workers: () => ({ cfFoundations: { default: { apiUrl: simUrl, credentials } } }) });
  const { env, suffix } = stack;
  const taskQueue = CF_CONVERGE_TASK_QUEUE + suffix;
  beforeAll(() => {
    app = stack.app;
  });
  beforeEach(async () => {
    prefix = `t${++prefixCounter}-`;
    await sim.configure(fastKnobs);
  });

  const desired = (overrides: Partial<ConvergeInput> = {}): ConvergeInput => ({
    prefix,
    kinds: [
      { kind: 'proxy', count: 4, instances: 2 },
      { kind: 'tick', count: 3, instances: 2, env: { GOPACKAGENAME: 'example-apps/tick' } },
    ],
    concurrency: 5,
    pollIntervalMs: 10,
    ...overrides,
  });
  const converge = (input: ConvergeInput, workflowId = `converge-${prefix}${Math.random().toString(36).slice(2, 6)}`) =>
    env.client.workflow.execute(cfConverge, { workflowId, taskQueue, args: [input] });
  const appliedMutations = async (run: () => Promise<unknown>) => {
    const before = (await sim.counters()).mutations.applied.byKind;
    await run();
    const after = (await sim.counters()).mutations.applied.byKind;
    return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => (v as number) > 0)) as Record<string, number>;
  };
  const liveApps = async () => {
    const org = await cf.findOrganization(`${prefix}org`);
    const space = org && (await cf.findSpace(org.guid, `${prefix}space`));
    if (!space) return [];
    const apps = await cf.listApps(space.guid);
    const processes = await cf.listWebProcesses(apps.map((a) => a.guid));
    const routes = await cf.listRoutes(space.guid);
    return Promise.all(
      apps.map(async (a) => ({
        name: a.name,
        state: a.state,
        instances: processes.find((p) => p.relationships.app.data?.guid === a.guid)?.instances,
        droplet: await cf.currentDropletGuid(a.guid),
        routes: routes.filter((r) => r.host === a.name && r.destinations.some((d) => d.app.guid === a.guid)).length,
      })),
    );
  };

  it('converges a fresh foundation: org and space created, one prototype push per kind, droplets copied', async () => {
    let result!: ConvergeResult;
    const mutations = await appliedMutations(async () => (result = await converge(desired())));
    expect(result.status).toBe('converged');
    expect(result.plan).toMatchObject({ createOrganization: true, createSpace: true, prototypes: [{ app: `${prefix}proxy-0` }, { app: `${prefix}tick-0` }] });
    expect(mutations).toMatchObject({
      'POST /v3/organizations': 1,
      'POST /v3/spaces': 1,
      'POST /v3/apps': 7,
      'POST /v3/packages': 2,
      'POST /v3/packages/:guid/upload': 2,
      'POST /v3/builds': 2,
      'POST /v3/droplets': 5,
      'POST /v3/apps/:guid/processes/web/actions/scale': 7,
      'POST /v3/routes': 7,
      'POST /v3/apps/:guid/actions/start': 7,
    });
    const apps = await liveApps();
    expect(apps.map((a) => a.name).sort()).toEqual([0, 1, 2, 3].map((i) => `${prefix}proxy-${i}`).concat([0, 1, 2].map((i) => `${prefix}tick-${i}`)).sort());
    for (const a of apps) expect(a).toMatchObject({ state: 'STARTED', instances: 2, routes: 1, droplet: expect.any(String) });
    expect(result.mutatingCalls).toBe(Object.values(mutations).reduce((n, v) => n + v, 0));
  });

  it("converges the seed's parameter file from nothing: registry, tick apps wired to it, proxies, quota applied, ASG bound; a re-run mutates nothing", async () => {
    const seedParams: ConvergeInput = {
      proxy_instances: 1, proxy_applications: 3, test_app_instances: 2, test_applications: 2, test_app_registry_ttl_seconds: 180,
      policy_update_wait_seconds: 10, extra_listen_ports: 2, sample_percent: 20, prefix, concurrency: 5, asg_size: 5, pollIntervalMs: 10,
    };
    let result!: ConvergeResult;
    const mutations = await appliedMutations(async () => (result = await converge(seedParams)));
    expect(result.status).toBe('converged');
    expect(result.plan).toMatchObject({ quota: { name: `${prefix}quota`, actions: ['create', 'apply'] }, securityGroup: { name: `${prefix}asg`, actions: ['create', 'bind'] } });
    expect(result.settingsDone).toEqual({ quota: true, securityGroup: true });
    expect(mutations).toMatchObject({
      'POST /v3/organization_quotas': 1,
      'POST /v3/organization_quotas/:guid/relationships/organizations': 1,
      'POST /v3/security_groups': 1,
      'POST /v3/security_groups/:guid/relationships/running_spaces': 1,
      'POST /v3/apps': 6,
      'POST /v3/builds': 3,
    });

    const apps = await liveApps();
    expect(apps.map((a) => a.name).sort()).toEqual([`${prefix}proxy-0`, `${prefix}proxy-1`, `${prefix}proxy-2`, `${prefix}registry`, `${prefix}tick-0`, `${prefix}tick-1`]);
    for (const a of apps) expect(a).toMatchObject({ state: 'STARTED', routes: 1, instances: a.name.includes('tick') ? 2 : 1 });
    const org = (await cf.findOrganization(`${prefix}org`))!;
    const space = (await cf.findSpace(org.guid, `${prefix}space`))!;
    const tick = (await cf.findApp(space.guid, `${prefix}tick-1`))!;
    expect(await cf.appEnvironmentVariables(tick.guid)).toEqual({
      GOPACKAGENAME: 'example-apps/tick',
      REGISTRY_BASE_URL: `http://${prefix}registry.apps.internal`,
      REGISTRY_TTL_SECONDS: '180',
      START_PORT: '7000',
      LISTEN_PORTS: '2',
    });
    const quota = (await cf.findOrganizationQuota(`${prefix}quota`))!;
    expect(quota).toMatchObject({ apps: { total_memory_in_mb: 1_024_000, total_instances: null }, routes: { total_routes: 20_000 }, services: { total_service_instances: 100 } });
    expect(quota.relationships.organizations.data).toEqual([{ guid: org.guid }]);
    const group = (await cf.findSecurityGroup(`${prefix}asg`))!;
    expect(group.rules).toHaveLength(5);
    expect(group.rules[4]).toMatchObject({ protocol: 'tcp', destination: '169.254.0.5', ports: '80' });
    expect(group.relationships.running_spaces.data).toEqual([{ guid: space.guid }]);

    let again!: ConvergeResult;
    expect(await appliedMutations(async () => (again = await converge(seedParams)))).toEqual({});
    expect(again).toMatchObject({ status: 'converged', mutatingCalls: 0, plan: { apps: [], quota: { actions: [] }, securityGroup: { actions: [] } } });
  });

  it('updates a drifted quota and security group in place (PATCH, never deleted and re-created)', async () => {
    const seedParams: ConvergeInput = { proxy_instances: 1, proxy_applications: 1, test_app_instances: 1, test_applications: 1, prefix, asg_size: 3, pollIntervalMs: 10 };
    await converge(seedParams);
    const quota = (await cf.findOrganizationQuota(`${prefix}quota`))!;
    const group = (await cf.findSecurityGroup(`${prefix}asg`))!;
    await cf.updateOrganizationQuota(quota.guid, { routes: { total_routes: 10 } });
    await cf.updateSecurityGroupRules(group.guid, []);
    const mutations = await appliedMutations(() => converge(seedParams));
    expect(mutations).toEqual({ 'PATCH /v3/organization_quotas/:guid': 1, 'PATCH /v3/security_groups/:guid': 1 });
    expect((await cf.findOrganizationQuota(`${prefix}quota`))!).toMatchObject({ guid: quota.guid, routes: { total_routes: 20_000 } });
    expect((await cf.findSecurityGroup(`${prefix}asg`))!).toMatchObject({ guid: group.guid, rules: [{ destination: '169.254.0.1' }, { destination: '169.254.0.2' }, { destination: '169.254.0.3' }] });
  });

  it('makes zero mutating calls when re-run against a converged foundation', async () => {
    await converge(desired());
    let result!: ConvergeResult;
    const mutations = await appliedMutations(async () => (result = await converge(desired())));
    expect(mutations).toEqual({});
    expect(result).toMatchObject({ status: 'converged', mutatingCalls: 0 });
    expect(result.plan!.apps).toEqual([]);
  });

  it('only scales when instances change, and deletes the extras when counts go down', async () => {
    await converge(desired());
    // The tick env stays as it was: a changed env would roll out (next tests).
    const tick = { kind: 'tick', count: 3, instances: 2, env: { GOPACKAGENAME: 'example-apps/tick' } };
    const scaled = await appliedMutations(() => converge(desired({ kinds: [{ kind: 'proxy', count: 4, instances: 3 }, tick] })));
    expect(scaled).toEqual({ 'POST /v3/apps/:guid/processes/web/actions/scale': 4 });
    const shrunk = await appliedMutations(() => converge(desired({ kinds: [{ kind: 'proxy', count: 1, instances: 3 }, tick] })));
    expect(shrunk).toEqual({ 'DELETE /v3/apps/:guid': 3, 'DELETE /v3/routes/:guid': 3 });
    const apps = await liveApps();
    expect(apps.filter((a) => a.name.includes('proxy')).map((a) => a.name)).toEqual([`${prefix}proxy-0`]);
    expect((await cf.listRoutes((await cf.findSpace((await cf.findOrganization(`${prefix}org`))!.guid, `${prefix}space`))!.guid)).length).toBe(4);
  });

  const spaceGuid = async () => (await cf.findSpace((await cf.findOrganization(`${prefix}org`))!.guid, `${prefix}space`))!.guid;

  it('labels the apps it creates, and leaves a foreign app holding one of its names untouched, reporting it', async () => {
    await converge(desired({ kinds: [{ kind: 'proxy', count: 1, instances: 1 }] }));
    const space = await spaceGuid();
    expect((await cf.findApp(space, `${prefix}proxy-0`))!.metadata!.labels).toEqual({ 'fleet.converge/owner': `cf-converge.${prefix}apps`, 'fleet.converge/kind': 'proxy' });
    // Someone else's app (or one made before labels) that happens to hold one of our names.
    const foreign = await cf.createApp(space, `${prefix}proxy-1`, { OWNED_BY: 'someone-else' });
    const conflict = { name: `${prefix}proxy-1`, guid: foreign.guid, reason: expect.stringContaining('has no fleet.converge/owner label') };

    const dry = await converge(desired({ kinds: [{ kind: 'proxy', count: 3, instances: 1 }], dryRun: true }));
    expect(dry.plan).toMatchObject({ conflicts: [conflict], counts: { create: 1 } });
    let grown!: ConvergeResult;
    const mutations = await appliedMutations(async () => (grown = await converge(desired({ kinds: [{ kind: 'proxy', count: 3, instances: 1 }] }))));
    expect(grown).toMatchObject({ status: 'converged', plan: { conflicts: [conflict] } });
    expect(grown.plan!.apps.map((a) => a.name)).toEqual([`${prefix}proxy-2`]);
    expect(mutations['POST /v3/apps']).toBe(1);
    // Lowering the count deletes our extras only.
    await converge(desired({ kinds: [{ kind: 'proxy', count: 0, instances: 1 }] }));
    expect((await cf.listApps(space)).map((a) => [a.name, a.guid, a.state])).toEqual([[`${prefix}proxy-1`, foreign.guid, 'STOPPED']]);
    expect(await cf.environmentVariables(foreign.guid)).toEqual({ OWNED_BY: 'someone-else' });
    expect(await cf.listRoutes(space)).toEqual([]);
  });

  it('rolls a changed environment out to the existing apps of its kind: env, a rolling deployment each, then the annotation', async () => {
    await converge(desired());
    const changed = desired({
      kinds: [
        { kind: 'proxy', count: 4, instances: 2 },
        { kind: 'tick', count: 3, instances: 2, env: { GOPACKAGENAME: 'example-apps/tick', REGISTRY_TTL_SECONDS: '30' } },
      ],
    });
    const dry = await converge({ ...changed, dryRun: true });
    expect(dry.plan!.counts).toMatchObject({ create: 0, update: 3, start: 0 });
    let result!: ConvergeResult;
    const mutations = await appliedMutations(async () => (result = await converge(changed)));
    expect(result).toMatchObject({ status: 'converged', phases: { update: { total: 3, done: 3, failed: 0 } } });
    expect(mutations).toEqual({ 'PATCH /v3/apps/:guid/environment_variables': 3, 'POST /v3/deployments': 3, 'PATCH /v3/apps/:guid': 3 });
    const space = await spaceGuid();
    const ticks = (await cf.listApps(space)).filter((a) => a.name.includes('tick'));
    for (const tick of ticks) expect(await cf.environmentVariables(tick.guid)).toEqual({ GOPACKAGENAME: 'example-apps/tick', REGISTRY_TTL_SECONDS: '30' });
    const deployments = await cf.listAll<Deployment>('/v3/deployments', { app_guids: ticks.map((a) => a.guid) });
    expect(deployments.map((d) => d.status)).toEqual(ticks.map(() => ({ value: 'FINALIZED', reason: 'DEPLOYED', details: expect.any(Object) })));
    expect(await appliedMutations(() => converge(changed))).toEqual({});
  });

  it('returns the plan without changing anything in a dry run', async () => {
    let result!: ConvergeResult;
    const mutations = await appliedMutations(async () => (result = await converge(desired({ dryRun: true }))));
    expect(mutations).toEqual({});
    expect(result.status).toBe('planned');
    expect(result.plan!.counts).toMatchObject({ create: 7, 'push-prototype': 2, 'copy-droplet': 5, scale: 7, route: 7, start: 7, delete: 0 });
  });

  it('rides out a 429 storm and random 5xx, and retries failed droplet copies', async () => {
    await sim.configure({ rateLimitStorm: { requests: 5 }, retryAfter: 'delay-seconds', faults: { serverErrorRate: 0.05, failNextCopies: 2 }, seed: 7 });
    const result = await converge(desired({ maxRounds: 5 }));
    expect(result.status).toBe('converged');
    const counters = await sim.counters();
    expect(counters.faults.storm429).toBe(5);
    expect(counters.faults.serverErrors).toBeGreaterThan(0);
    const apps = await liveApps();
    expect(apps).toHaveLength(7);
    for (const a of apps) expect(a).toMatchObject({ state: 'STARTED', instances: 2, routes: 1 });
  });

  it('reports apps it cannot converge, naming the step and CF’s error', async () => {
    await sim.configure({ faults: { copyFailureRate: 1 } });
    const failure = await converge(desired({ maxRounds: 2 })).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('ConvergenceFailed');
    expect(cause.message).toMatch(/5 apps did not converge after 2 rounds: .*\(copy-droplet\): .*failed to copy/);
  });

  it('survives a worker SIGKILL mid-run without duplicate apps or routes', async () => {
    await sim.configure({ latencyMs: 15 });
    const crashSuffix = uniqueSuffix();
    const lane = { FLEET_TASK_QUEUE_SUFFIX: crashSuffix, CF_API_URL: simUrl, CF_SIM: 'false', CF_USERNAME: 'admin', CF_PASSWORD: 'admin-secret' };
    const first = startWorkerProcess(lane);
    await first.ready;
    const input = desired({ kinds: [{ kind: 'proxy', count: 30, instances: 1 }], concurrency: 4 });
    const handle = await env.client.workflow.start(cfConverge, { workflowId: `converge-crash-${prefix}`, taskQueue: CF_CONVERGE_TASK_QUEUE + crashSuffix, args: [input] });
    await expect.poll(async () => (await sim.counters()).mutations.applied.byKind['POST /v3/apps'] ?? 0, { timeout: 60_000, interval: 50 }).toBeGreaterThanOrEqual(8);
    first.child.kill('SIGKILL');
    await first.exited;
    const second = startWorkerProcess(lane);
    try {
      await second.ready;
      const result = (await handle.result()) as ConvergeResult;
      expect(result.status).toBe('converged');
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
    const apps = await liveApps();
    expect(apps).toHaveLength(30);
    expect(new Set(apps.map((a) => a.name)).size).toBe(30);
    for (const a of apps) expect(a).toMatchObject({ state: 'STARTED', routes: 1 });
    const space = await cf.findSpace((await cf.findOrganization(`${prefix}org`))!.guid, `${prefix}space`);
    expect((await cf.listRoutes(space!.guid)).length).toBe(30);
  }, 120_000);

  it.each([
    ['a negative count', { kinds: [{ kind: 'proxy', count: -1, instances: 1 }] }, 'kinds.0.count'],
    ['negative instances', { kinds: [{ kind: 'proxy', count: 1, instances: -2 }] }, 'kinds.0.instances'],
    ['an invalid kind name', { kinds: [{ kind: 'Proxy_App', count: 1, instances: 1 }] }, 'kinds.0.kind'],
    ['an invalid org name', { org: 'bad org!', kinds: [{ kind: 'proxy', count: 1, instances: 1 }] }, 'org'],
    ['concurrency 0', { concurrency: 0, kinds: [{ kind: 'proxy', count: 1, instances: 1 }] }, 'concurrency'],
    ['no kinds', { kinds: [] }, 'kinds'],
  ])('refuses %s with 400 naming the field, before anything is created', async (_what, body, field) => {
    const before = (await sim.counters()).mutations.attempted.total;
    const response = await requestJson<ErrorBody>(app, 'POST', '/api/cf-convergences', { prefix, ...body });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'validation_failed', field });
    expect((await sim.counters()).mutations.attempted.total).toBe(before);
  });

  it('refuses invalid input in the workflow too (the CLI path), as a non-retryable failure', async () => {
    const failure = await converge({ kinds: [{ kind: 'proxy', count: 1, instances: 1 }], concurrency: 0 }).catch((e: unknown) => e);
    expect(((failure as WorkflowFailedError).cause as ApplicationFailure).type).toBe('InvalidInput');
  });

  it('starts from the API, shows phase progress, answers 409 while running, pauses and resumes', async () => {
    await sim.configure({ latencyMs: 10 });
    const body = desired({ kinds: [{ kind: 'proxy', count: 12, instances: 1 }], concurrency: 2 });
    const started = await requestJson<{ workflowId: string }>(app, 'POST', '/api/cf-convergences', body);
    expect(started.status).toBe(201);
    const { workflowId } = started.body;
    expect(workflowId).toBe(`cf-converge-default-${prefix}org-${prefix}space`);
    const again = await requestJson<ErrorBody>(app, 'POST', '/api/cf-convergences', body);
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'already_running', workflowId });

    expect((await app.request(`/api/cf-convergences/${workflowId}/pause`, { method: 'POST' })).status).toBe(202);
    let view: { status: string; phases: Record<string, { done: number; total: number }> };
    await expect.poll(async () => ((await (await app.request(`/api/cf-convergences/${workflowId}`)).json()) as typeof view).status, { timeout: 20_000, interval: 50 }).toBe('paused');
    const pausedAt = (await sim.counters()).mutations.applied.total;
    await new Promise((r) => setTimeout(r, 300));
    expect((await sim.counters()).mutations.applied.total).toBe(pausedAt);
    expect((await app.request(`/api/cf-convergences/${workflowId}/resume`, { method: 'POST' })).status).toBe(202);
    await env.client.workflow.getHandle(workflowId).result();
    view = await (await app.request(`/api/cf-convergences/${workflowId}`)).json();
    expect(view.status).toBe('converged');
    expect(view.phases.create).toMatchObject({ total: 12, done: 12 });
    expect((await liveApps()).length).toBe(12);
  });
});

describe('convergence plan', () => {
  it('copies from any app of the kind that has a droplet, and deletes only declared kinds beyond their count', () => {
    const settings = settingsFrom({ prefix: 'p-', kinds: [{ kind: 'a', count: 2, instances: 1 }] });
    const plan = computePlan(settings, {
      organizationGuid: 'o', spaceGuid: 's', domain: { guid: 'd', name: 'apps.internal' },
      apps: [
        { name: 'p-a-1', guid: 'g1', state: 'STARTED', instances: 1, dropletGuid: 'drop', routed: true },
        { name: 'p-a-5', guid: 'g5', state: 'STARTED', instances: 1, dropletGuid: 'drop5', routed: true },
        { name: 'p-other-0', guid: 'x', state: 'STARTED', instances: 1, dropletGuid: null, routed: false },
      ],
    });
    expect(plan.prototypes).toEqual([]);
    expect(plan.sourceDroplets).toEqual({ a: 'drop' });
    // A new app is scaled even at 1 instance: the scale gives it the kind's memory and disk (32 MB for builtin bits).
    expect(plan.apps.map((a) => [a.name, a.actions])).toEqual([
      ['p-a-0', ['create', 'copy-droplet', 'scale', 'route', 'start']],
      ['p-a-5', ['delete']],
    ]);
  });
});
