// The convergence activities against the simulator in process, rounds driven by hand (observe →
// computePlan → apply, as the workflow does): new bits for a kind are pushed once, to its prototype,
// and copied to the others, each rolled out by a deployment; and a create that finds its name taken
// by an app without our label fails that app instead of taking the app over.
import { describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { storedZip } from '../../activities/cf/bits.ts';
import { createCfClient, type CfClient, type Deployment } from '../../activities/cf/client.ts';
import { createCfConvergeActivities, type ApplyInput, type CfConvergeActivities, type ObserveInput } from '../../activities/cf/converge.ts';
import { createCfSimulator } from '../../sim/cf/simulator.ts';
import { computePlan, ownerOf, settingsFrom, type ConvergeInput, type Settings } from '../../workflows/cfConverge.shared.ts';

const credentials = { kind: 'password' as const, username: 'admin', password: 'admin-secret' };

/** The activities run in a mock activity context (they read its cancellation signal and heartbeat). */
function inContext(activities: CfConvergeActivities) {
  const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
  return {
    observe: (input: ObserveInput) => env.run(activities.observeFoundation, input) as ReturnType<CfConvergeActivities['observeFoundation']>,
    apply: (input: ApplyInput) => env.run(activities.applyApps, input) as ReturnType<CfConvergeActivities['applyApps']>,
  };
}

/** Bits binary_buildpack stages (a Procfile and an executable script), differing by `version`. */
const placeholderBits = (version: string) => storedZip({ Procfile: 'web: ./web\n', web: { text: `#!/bin/sh\n# ${version}\nexec sleep infinity\n`, mode: 0o755 } });

function foundation() {
  const sim = createCfSimulator({ latencyMs: 0, stagingDelayMs: 5, copyDelayMs: 5, instanceStartDelayMs: 5, jobDelayMs: 5 });
  const fetchSim = ((input: string | URL | Request, init?: RequestInit) => sim.fetch(new Request(input, init))) as typeof fetch;
  const client = (signal?: AbortSignal) => createCfClient({ apiUrl: 'http://cf.test', credentials, fetch: fetchSim, signal });
  let bits = placeholderBits('v1');
  const run = inContext(createCfConvergeActivities({ clientFor: (_name, signal) => client(signal), readBits: async () => bits }));

  /** One round as the workflow runs it; returns the plan it applied and the outcomes. */
  async function round(settings: Settings) {
    const observation = await run.observe({
      foundation: settings.foundation, org: settings.org, space: settings.space, domain: settings.domain, prefix: settings.prefix,
      kinds: settings.kinds.map((k) => k.kind), specs: settings.kinds, createMissing: true,
    });
    const plan = computePlan(settings, observation);
    const applied = await run.apply({
      foundation: settings.foundation, spaceGuid: observation.spaceGuid!, domainGuid: observation.domain.guid, apps: plan.apps,
      sourceDroplets: plan.sourceDroplets, concurrency: 4, pollIntervalMs: 1, waitForRunning: true, owner: ownerOf(settings.prefix),
      ...(observation.digests ? { digests: observation.digests } : {}),
    });
    return { plan, outcomes: applied.outcomes, spaceGuid: observation.spaceGuid! };
  }
  return { round, cf: client(), setBits: (version: string) => (bits = placeholderBits(version)) };
}

async function droplets(cf: CfClient, spaceGuid: string) {
  const apps = await cf.listApps(spaceGuid);
  return Object.fromEntries(await Promise.all(apps.map(async (a) => [a.name, await cf.currentDropletGuid(a.guid)] as const)));
}

describe('convergence activities: updates and ownership', () => {
  const input: ConvergeInput = { prefix: 'u-', kinds: [{ kind: 'web', count: 3, instances: 1 }] };

  it('pushes changed bits once, to the prototype, copies them to the others and rolls each out; then nothing is left to do', async () => {
    const { round, cf, setBits } = foundation();
    const settings = settingsFrom(input);
    const first = await round(settings);
    expect(first.outcomes.every((o) => o.ok)).toBe(true);
    const before = await droplets(cf, first.spaceGuid);

    setBits('v2');
    const second = await round(settings);
    expect(second.plan.prototypes).toEqual([{ kind: 'web', app: 'u-web-0', bits: 'builtin:web' }]);
    expect(second.plan.apps.map((a) => [a.name, a.actions, a.update])).toEqual(
      ['u-web-0', 'u-web-1', 'u-web-2'].map((name) => [name, ['update'], { env: false, bits: true, adopt: false }]),
    );
    expect(second.outcomes.map((o) => [o.name, o.ok, o.done, o.error]).sort()).toEqual(
      ['u-web-0', 'u-web-1', 'u-web-2'].map((name) => [name, true, ['update'], undefined]),
    );
    const after = await droplets(cf, second.spaceGuid);
    for (const name of Object.keys(before)) expect(after[name]).not.toBe(before[name]);
    const apps = await cf.listApps(second.spaceGuid);
    const deployments = await cf.listAll<Deployment>('/v3/deployments', { app_guids: apps.map((a) => a.guid) });
    expect(deployments.map((d) => [d.droplet?.guid, d.status.value, d.status.reason]).sort()).toEqual(
      apps.map((a) => [after[a.name], 'FINALIZED', 'DEPLOYED']).sort(),
    );
    // One new package and build: the prototype's; the others copied its droplet.
    expect((await cf.listAll('/v3/packages')).length).toBe(2);

    const third = await round(settings);
    expect(third.plan.apps).toEqual([]);
  });

  it('fails the create of an app whose name an unlabelled app took after the observation, and leaves that app alone', async () => {
    const { cf } = foundation();
    const org = await cf.createOrganization('u-org');
    const space = await cf.createSpace(org.guid, 'u-space');
    const settings = settingsFrom(input);
    const run = inContext(createCfConvergeActivities({ clientFor: () => cf, readBits: async () => placeholderBits('v1') }));
    const observation = await run.observe({ foundation: 'default', org: 'u-org', space: 'u-space', domain: undefined, prefix: 'u-', kinds: ['web'], createMissing: false });
    const plan = computePlan(settings, observation);
    // Someone creates u-web-1 between our observation and our create.
    const intruder = await cf.createApp(space.guid, 'u-web-1', { MINE: 'yes' });
    const applied = await run.apply({
      foundation: 'default', spaceGuid: space.guid, domainGuid: observation.domain.guid, apps: plan.apps.filter((a) => a.name === 'u-web-1'),
      sourceDroplets: {}, concurrency: 1, pollIntervalMs: 1, waitForRunning: false, owner: ownerOf('u-'),
    });
    expect(applied.outcomes).toEqual([
      { name: 'u-web-1', ok: false, done: [], failedAction: 'create', error: expect.stringMatching(/^CF-NameTaken .*u-web-1 is held by an app without our fleet\.converge\/owner label/) },
    ]);
    expect(await cf.environmentVariables(intruder.guid)).toEqual({ MINE: 'yes' });
    expect((await cf.findApp(space.guid, 'u-web-1'))!.metadata!.labels).toEqual({});
  });
});
