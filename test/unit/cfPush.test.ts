// The push path of cf-pusher convergence (activities/cf/converge.ts) against the in-process CC
// simulator, which fails where CC fails: what real CF needs of the built-in bits, CC's own words for
// staging failures, crashes and quotas, and a lost answer to POST /v3/builds survived.
import { describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createBitsReader, storedZip } from '../../activities/cf/bits.ts';
import { createCfClient, retryAfterSeconds } from '../../activities/cf/client.ts';
import { createCfConvergeActivities } from '../../activities/cf/converge.ts';
import { readZip } from '../../sim/cf/zip.ts';
import type { SimOptions } from '../../sim/cf/options.ts';
import { createCfSimulator } from '../../sim/cf/simulator.ts';
import type { Counters } from '../../sim/cf/traffic.ts';
import { computePlan, KIND_LABEL, kindAppName, OWNER_LABEL, ownerOf, settingsFrom, type AppOutcome, type ConvergeInput } from '../../workflows/cfConverge.shared.ts';

const API = 'http://cf.test';
const credentials = { kind: 'password' as const, username: 'admin', password: 'admin-secret' };
const fast: SimOptions = { stagingDelayMs: 20, copyDelayMs: 5, instanceStartDelayMs: 10, jobDelayMs: 5 };

/**
 * A simulator reached without a network, activities whose clients talk to it, and one round of the
 * workflow's work (observe → plan → apply). `intercept` may replace an answer after CC applied the request.
 */
function foundation(options: SimOptions = {}, intercept?: (request: Request, response: Response) => Response) {
  const sim = createCfSimulator({ ...fast, ...options });
  const simFetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const response = await sim.fetch(request.clone());
    return intercept ? intercept(request, response) : response;
  };
  const client = (signal?: AbortSignal) => createCfClient({ apiUrl: API, credentials, fetch: simFetch as typeof fetch, signal });
  const activities = createCfConvergeActivities({ clientFor: (_foundation, signal) => client(signal), readBits: createBitsReader('/nonexistent') });
  const env = new MockActivityEnvironment();

  async function convergeOnce(input: ConvergeInput): Promise<Map<string, AppOutcome>> {
    const settings = settingsFrom(input);
    type Result<F extends (...args: never[]) => Promise<unknown>> = Awaited<ReturnType<F>>;
    // The workflow's observe → plan → apply, with its inputs (workflows/cfConverge.ts).
    const observation = (await env.run(activities.observeFoundation, {
      foundation: settings.foundation, org: settings.org, space: settings.space, domain: settings.domain, prefix: settings.prefix,
      kinds: settings.kinds.filter((k) => k.names !== 'single').map((k) => k.kind), specs: settings.kinds,
      singleApps: settings.kinds.filter((k) => k.names === 'single').map((k) => kindAppName(settings.prefix, k, 0)),
      quota: settings.quota?.name, securityGroup: settings.securityGroup?.name, createMissing: true,
    })) as Result<typeof activities.observeFoundation>;
    const plan = computePlan(settings, observation);
    const { outcomes } = (await env.run(activities.applyApps, {
      foundation: settings.foundation, spaceGuid: observation.spaceGuid!, domainGuid: observation.domain.guid, apps: plan.apps,
      sourceDroplets: plan.sourceDroplets, concurrency: settings.concurrency, pollIntervalMs: 5, waitForRunning: true,
      owner: ownerOf(settings.prefix), ...(observation.digests ? { digests: observation.digests } : {}),
    })) as Result<typeof activities.applyApps>;
    return new Map(outcomes.map((o) => [o.name, o]));
  }
  const counters = async () => (await (await sim.request('/__sim/counters')).json()) as Counters;
  return { sim, client: client(), convergeOnce, counters };
}

describe('pushes a real foundation accepts (against the simulator, which fails where CC fails)', () => {
  it('stages the built-in bits with binary_buildpack, keeps the exec bit and runs them under a process health check', async () => {
    const { client, convergeOnce } = foundation();
    const outcomes = await convergeOnce({ prefix: 'ok-', kinds: [{ kind: 'tick', count: 2, instances: 2 }] });
    expect([...outcomes.values()].map((o) => [o.name, o.ok, o.error]).sort()).toEqual([
      ['ok-tick-0', true, undefined],
      ['ok-tick-1', true, undefined],
    ]);
    const space = (await client.findSpace((await client.findOrganization('ok-org'))!.guid, 'ok-space'))!;
    const apps = await client.listApps(space.guid);
    const [process] = await client.listWebProcesses([apps[0]!.guid]);
    expect(process).toMatchObject({ guid: apps[0]!.guid, instances: 2, memory_in_mb: 32, disk_in_mb: 32, health_check: { type: 'process' } });
    const droplet = await client.getDroplet((await client.currentDropletGuid(apps[0]!.guid))!);
    expect(droplet).toMatchObject({ state: 'STAGED', process_types: { web: './tick' } });
    expect((await client.webStats(apps[1]!.guid)).map((s) => s.state)).toEqual(['RUNNING', 'RUNNING']);
  });

  it('writes the start script with Unix mode 0755 and the Procfile 0644, marked as made on Unix', async () => {
    const zip = await createBitsReader('/nonexistent')('builtin:tick');
    const entries = readZip(Buffer.from(zip))!;
    expect(entries.map((e) => [e.name, e.mode?.toString(8)])).toEqual([
      ['Procfile', '644'],
      ['tick', '755'],
    ]);
  });

  it('reports a staging failure with CC’s error text: bits no buildpack detects (auto-detection: no buildpacks named)', async () => {
    const { convergeOnce } = foundation();
    const outcomes = await convergeOnce({ prefix: 'nd-', kinds: [{ kind: 'tick', count: 2, instances: 1, buildpacks: [] }] });
    const prototype = outcomes.get('nd-tick-0')!;
    expect(prototype).toMatchObject({ ok: false, failedAction: 'push-prototype' });
    expect(prototype.error).toContain('NoAppDetectedError - An app was not successfully detected by any available buildpack');
    // The copy waiting for that prototype says why it has nothing to copy.
    expect(outcomes.get('nd-tick-1')).toMatchObject({ ok: false, failedAction: 'copy-droplet' });
    expect(outcomes.get('nd-tick-1')!.error).toContain('NoAppDetectedError');
  });

  it('reports crashing instances with Diego’s words: a port health check on bits that listen on no port', async () => {
    const { convergeOnce } = foundation();
    const outcomes = await convergeOnce({ prefix: 'cr-', kinds: [{ kind: 'tick', count: 1, instances: 2, health_check: { type: 'port' } }] });
    expect(outcomes.get('cr-tick-0')).toMatchObject({ ok: false, failedAction: 'start' });
    expect(outcomes.get('cr-tick-0')!.error).toContain(
      'CF-InstancesCrashed (0, HTTP 422): all 2 instances crashed: Instance never healthy after 1m0s: Failed to make TCP connection to port 8080: connection refused',
    );
  });

  it('reports a start past the organization’s memory quota and a route past its route quota in CC’s words', async () => {
    // Staging needs 1024 MB free (CC's minimum staging memory), so the quota leaves room for it.
    const { convergeOnce } = foundation({ defaultQuota: { totalMemoryInMb: 1200, totalRoutes: 2 } });
    const outcomes = await convergeOnce({ prefix: 'q-', kinds: [{ kind: 'tick', count: 3, instances: 1, memory_in_mb: 500 }], concurrency: 1 });
    const failed = [...outcomes.values()].filter((o) => !o.ok);
    // A third route in an organization allowed two.
    expect(failed.map((o) => [o.name, o.failedAction, o.error])).toEqual([
      ['q-tick-2', 'route', "CF-UnprocessableEntity (10008, HTTP 422): Routes quota exceeded for organization 'q-org'."],
    ]);
    // Two 500 MB instances run in 1200 MB: the third does not fit.
    const second = await convergeOnce({ prefix: 'q-', kinds: [{ kind: 'tick', count: 3, instances: 1, memory_in_mb: 500, route: false }] });
    expect([...second.values()].map((o) => [o.name, o.failedAction, o.error])).toEqual([
      ['q-tick-2', 'start', 'CF-UnprocessableEntity (10008, HTTP 422): memory quota_exceeded'],
    ]);
  });

  it('sets the health check while the app is scaled and routed, and reports its refusal as the create step’s', async () => {
    const { convergeOnce } = foundation({}, (request, response) => {
      if (request.method === 'PATCH' && /^\/v3\/apps\/[^/]+\/processes\/web$/.test(new URL(request.url).pathname)) {
        return Response.json({ errors: [{ code: 10008, title: 'CF-UnprocessableEntity', detail: 'Health check type must be "port", "process", or "http"' }] }, { status: 422 });
      }
      return response;
    });
    const outcomes = await convergeOnce({ prefix: 'hc-', kinds: [{ kind: 'tick', count: 1, instances: 1 }] });
    expect(outcomes.get('hc-tick-0')).toMatchObject({ ok: false, failedAction: 'create', done: ['push-prototype', 'scale', 'route'] });
    expect(outcomes.get('hc-tick-0')!.error).toContain('Health check type must be');
  });

  it('survives a lost answer to POST /v3/builds: the build that staged anyway is waited for, not made again', async () => {
    let lost = 0;
    const { convergeOnce, counters } = foundation({}, (request, response) => {
      if (request.method === 'POST' && new URL(request.url).pathname === '/v3/builds' && lost++ === 0) return new Response('502 Bad Gateway', { status: 502 });
      return response;
    });
    const outcomes = await convergeOnce({ prefix: 'lb-', kinds: [{ kind: 'tick', count: 2, instances: 1 }] });
    expect([...outcomes.values()].every((o) => o.ok)).toBe(true);
    const applied = (await counters()).mutations.applied.byKind;
    expect(applied['POST /v3/builds']).toBe(1);
    expect(applied['POST /v3/packages']).toBe(1);
  });

  it('a retry finds the build an earlier attempt left STAGING (CC would answer 422 CF-StagingInProgress to another)', async () => {
    const { sim, client, convergeOnce, counters } = foundation({ stagingDelayMs: 200 });
    // An earlier attempt created the app and its build, then crashed while the build staged.
    const org = await client.createOrganization('rt-org');
    const space = await client.createSpace(org.guid, 'rt-space');
    const app = await client.createApp(space.guid, 'rt-tick-0', {}, { labels: { [OWNER_LABEL]: ownerOf('rt-'), [KIND_LABEL]: 'tick' } }, { buildpacks: ['binary_buildpack'] });
    const pkg = await client.createPackage(app.guid);
    await client.uploadBits(pkg.guid, storedZip({ Procfile: 'web: ./server --port $PORT\n' }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    await client.createBuild(pkg.guid);
    const again = await sim.request(`${API}/v3/builds`, {
      method: 'POST',
      headers: { authorization: `bearer ${await token(sim)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ package: { guid: pkg.guid } }),
    });
    expect(again.status).toBe(422);
    expect(await again.json()).toEqual({ errors: [{ code: 170017, title: 'CF-StagingInProgress', detail: 'Only one build can be STAGING at a time per application.' }] });

    const outcomes = await convergeOnce({ prefix: 'rt-', kinds: [{ kind: 'tick', count: 1, instances: 1 }] });
    // (It also takes an update: the earlier attempt never wrote the app's digests.)
    expect(outcomes.get('rt-tick-0')).toMatchObject({ ok: true, done: expect.arrayContaining(['push-prototype', 'start']) });
    const applied = (await counters()).mutations.applied.byKind;
    expect(applied['POST /v3/builds']).toBe(1);
    expect(applied['POST /v3/packages']).toBe(1);
  });
});

describe('Retry-After (C3)', () => {
  const headers = (values: Record<string, string>) => new Headers(values);
  const now = Date.UTC(2026, 10, 30, 12, 0, 0);

  it('reads Retry-After as delay-seconds (CC 3.139+), an old CC’s epoch as a time, and X-RateLimit-Reset as the epoch fallback', () => {
    expect(retryAfterSeconds(headers({ 'retry-after': '42', 'x-ratelimit-reset': String(now / 1000 + 3600) }), now)).toBe(42);
    expect(retryAfterSeconds(headers({ 'retry-after': String(now / 1000 + 90) }), now)).toBe(90);
    expect(retryAfterSeconds(headers({ 'x-ratelimit-reset': String(now / 1000 + 30) }), now)).toBe(30);
    expect(retryAfterSeconds(headers({ 'retry-after': new Date(now + 5000).toUTCString() }), now)).toBe(5);
    expect(retryAfterSeconds(headers({}), now)).toBeUndefined();
  });
});

async function token(sim: ReturnType<typeof createCfSimulator>): Promise<string> {
  const response = await sim.request(`${API}/login/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('cf:').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: 'admin', password: 'admin-secret' }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}
