// Activities of cf-pusher convergence: observe the space, push a prototype per kind, and apply a
// batch of per-app plans with bounded concurrency. Credentials are resolved here from the
// foundation's name (`clientFor`); workflows only ever carry that name.
import { ApplicationFailure, Context, activityInfo, heartbeat } from '@temporalio/activity';
import { CfApiError, CfForeignOriginError, type CfClient, type OrganizationQuota, type PollOptions, type SecurityGroup } from './client.ts';
import { CfTlsError } from './transport.ts';
import { createHash } from 'node:crypto';
import {
  BITS_DIGEST_ANNOTATION, CF_FOREIGN_ORIGIN_FAILURE, ENV_DIGEST_ANNOTATION, KIND_LABEL, OWNER_LABEL, ownerOf,
  type AppAction, type AppKindSpec, type AppOutcome, type AppPlan, type ConvergePlan, type KindDigests, type Observation, type ObservedApp,
  type ObservedQuota, type ObservedSecurityGroup, type Settings,
} from '../../workflows/cfConverge.shared.ts';

export interface CfConvergeDependencies {
  /** A client for the named foundation, bound to this activity's cancellation signal. */
  clientFor(foundation: string, signal: AbortSignal): CfClient;
  /** The prototype's bits (zip) for a `bits` reference. */
  readBits(reference: string): Promise<Uint8Array<ArrayBuffer>>;
}

export interface ObserveInput extends Pick<Settings, 'foundation' | 'org' | 'space' | 'domain' | 'prefix'> {
  kinds: string[];
  /** Apps of kinds of names single, by their full names (`<prefix>registry`). */
  singleApps?: string[];
  /** The desired quota's and security group's names, looked up (not created) here. */
  quota?: string;
  securityGroup?: string;
  /** The kinds' specs, to digest (env, bits and droplet settings): apps whose annotations differ get updated. */
  specs?: AppKindSpec[];
  /** Create a missing org and space (not in a dry run). */
  createMissing: boolean;
}

export interface ApplyInput {
  foundation: string;
  spaceGuid: string;
  domainGuid: string;
  apps: AppPlan[];
  sourceDroplets: ConvergePlan['sourceDroplets'];
  concurrency: number;
  pollIntervalMs: number;
  waitForRunning: boolean;
  /** The owner label's value (ownerOf(prefix)) apps are created with and must carry to be changed. */
  owner: string;
  /** Per kind: what a created or updated app's annotations record. */
  digests?: Record<string, KindDigests>;
}

export interface Mutations {
  mutatingCalls: number;
}

export interface ApplySettingsInput {
  foundation: string;
  organizationGuid: string;
  spaceGuid: string;
  quota: ConvergePlan['quota'];
  securityGroup: ConvergePlan['securityGroup'];
}

/** Apps per /v3/processes?app_guids= call: keeps the URL well under common proxy limits. */
const GUIDS_PER_QUERY = 200;

/** A 4xx from CF will not change on retry, nor will a URL on another origin; a 429 or 5xx might (Temporal retries those). */
function nonRetryable(error: unknown): never {
  if (error instanceof CfTlsError) throw ApplicationFailure.nonRetryable(error.message, 'CfTlsVerificationFailed');
  if (error instanceof CfForeignOriginError) throw ApplicationFailure.nonRetryable(error.message, CF_FOREIGN_ORIGIN_FAILURE);
  if (error instanceof CfApiError && !error.retryable) throw ApplicationFailure.nonRetryable(error.message, 'CfRequestRejected');
  throw error;
}

export function createCfConvergeActivities(deps: CfConvergeDependencies) {
  // A client per activity: its request counters are this activity's, and cancelling the activity aborts its calls.
  const withFoundation = <T>(foundation: string, run: (cf: CfClient) => Promise<T>) =>
    run(deps.clientFor(foundation, Context.current().cancellationSignal));

  return {
    async observeFoundation(input: ObserveInput): Promise<Observation & Mutations> {
      return withFoundation(input.foundation, async (cf) => {
        const created = { organization: false, space: false };
        try {
          // A named domain does not depend on the org: look it up while the org and space are resolved.
          const namedDomain = input.domain ? cf.findDomain(input.domain) : undefined;
          namedDomain?.catch(() => undefined);
          // The quota and the security group are global, found by name whatever the org and space.
          const quotaLookup = input.quota ? cf.findOrganizationQuota(input.quota) : undefined;
          quotaLookup?.catch(() => undefined);
          const groupLookup = input.securityGroup ? cf.findSecurityGroup(input.securityGroup) : undefined;
          groupLookup?.catch(() => undefined);
          let org = await cf.findOrganization(input.org);
          if (!org && input.createMissing) {
            org = await cf.createOrganization(input.org);
            created.organization = true;
          }
          // Otherwise the org's default domain, as cf push picks it (never a TCP domain); a dry run
          // against a missing org asks for the shared domains instead. Looked up while the space is resolved.
          const domainLookup = namedDomain ?? (org ? cf.defaultDomain(org.guid) : cf.findDomain());
          domainLookup.catch(() => undefined);
          let space = org ? await cf.findSpace(org.guid, input.space) : undefined;
          if (org && !space && input.createMissing) {
            space = await cf.createSpace(org.guid, input.space);
            created.space = true;
          }
          const domain = await domainLookup;
          if (!domain) throw new CfApiError(404, 10010, 'CF-ResourceNotFound', input.domain ? `Domain ${input.domain} not found` : `Organization ${input.org} has no default domain (no shared or private HTTP domain)`);
          // A space created a moment ago has no apps to list.
          const apps = space && !created.space ? await observeApps(cf, space.guid, domain.guid, input) : [];
          const quota = quotaLookup && (await quotaLookup);
          const group = groupLookup && (await groupLookup);
          const digests = input.specs ? await digestKinds(input.specs, deps.readBits) : undefined;
          return {
            ...(quotaLookup ? { quota: quota ? observedQuota(quota) : null } : {}),
            ...(groupLookup ? { securityGroup: group ? observedSecurityGroup(group) : null } : {}),
            organizationGuid: org?.guid ?? null,
            spaceGuid: space?.guid ?? null,
            domain: { guid: domain.guid, name: domain.name },
            apps,
            ...(digests ? { digests } : {}),
            created,
            mutatingCalls: cf.stats.mutations,
          };
        } catch (error) {
          return nonRetryable(error);
        }
      });
    },

    /**
     * Converges the org's quota and the space's security group as planned. A create that finds the
     * name taken (a retry after a lost answer) updates the one that exists instead; an update is a
     * PATCH, never a delete and re-create (which would leave running apps without their rules).
     */
    async applyOrgSettings(input: ApplySettingsInput): Promise<Mutations> {
      return withFoundation(input.foundation, async (cf) => {
        try {
          if (input.quota && input.quota.actions.length > 0) await convergeQuota(cf, input.quota, input.organizationGuid);
          if (input.securityGroup && input.securityGroup.actions.length > 0) await convergeSecurityGroup(cf, input.securityGroup, input.spaceGuid);
          return { mutatingCalls: cf.stats.mutations };
        } catch (error) {
          return nonRetryable(error);
        }
      });
    },

    /**
     * Converges each app of the batch, `concurrency` at a time. A failed app is reported, not
     * thrown: the workflow re-observes and tries again. A URL on another origin than the API's
     * stops the batch (no app starts after it) and fails the activity for good. Heartbeats carry
     * the finished apps, so a retry after a worker crash skips them.
     */
    async applyApps(input: ApplyInput): Promise<{ outcomes: AppOutcome[] } & Mutations> {
      return withFoundation(input.foundation, async (cf) => {
        const signal = Context.current().cancellationSignal;
        const previous = (activityInfo().heartbeatDetails as { outcomes: AppOutcome[]; mutatingCalls: number } | undefined) ?? { outcomes: [], mutatingCalls: 0 };
        const outcomes = new Map(previous.outcomes.map((o) => [o.name, o]));
        const poll: PollOptions = { intervalMs: input.pollIntervalMs, maxIntervalMs: 2000, timeoutMs: 600_000 };
        const droplets = new DropletSources(input, previous.outcomes);
        // Prototypes first: the lanes that pick them push bits while the others create, scale and route.
        const queue = input.apps.filter((app) => !outcomes.has(app.name)).sort((a, b) => Number(Boolean(b.bits)) - Number(Boolean(a.bits)));
        const snapshot = () => ({ outcomes: [...outcomes.values()], mutatingCalls: previous.mutatingCalls + cf.stats.mutations });
        const ticker = setInterval(() => heartbeat(snapshot()), 500);
        const lanes = new Semaphore(input.concurrency);
        const context: AppContext = { cf, input, poll, droplets, readBits: deps.readBits, lanes };
        let refused: CfForeignOriginError | undefined;
        try {
          await Promise.all(
            queue.map(async (app) => {
              await lanes.acquire();
              try {
                if (!signal.aborted && !refused) outcomes.set(app.name, await convergeApp(context, app));
              } catch (error) {
                // convergeApp reports any other error as the app's outcome
                if (!(error instanceof CfForeignOriginError)) throw error;
                refused ??= error;
              } finally {
                lanes.release();
              }
            }),
          );
          if (refused) nonRetryable(refused);
          if (signal.aborted) throw signal.reason ?? new Error('cancelled');
          return snapshot();
        } finally {
          clearInterval(ticker);
          heartbeat(snapshot());
        }
      });
    },
  };
}

/** The droplet each kind's copies come from: known already, or promised by this batch's prototype push. */
class DropletSources {
  private readonly sources = new Map<string, Promise<string>>();
  private readonly settle = new Map<string, { resolve(guid: string): void; reject(error: Error): void }>();

  constructor(input: ApplyInput, finished: AppOutcome[]) {
    for (const [kind, guid] of Object.entries(input.sourceDroplets)) this.sources.set(kind, Promise.resolve(guid));
    for (const app of input.apps) {
      if (!app.bits || this.sources.has(app.kind)) continue;
      // Pushed before a worker crash: its outcome (from the heartbeat) names the droplet.
      const before = finished.find((o) => o.name === app.name && o.dropletGuid);
      if (before) {
        this.sources.set(app.kind, Promise.resolve(before.dropletGuid!));
        continue;
      }
      const promise = new Promise<string>((resolve, reject) => this.settle.set(app.kind, { resolve, reject }));
      promise.catch(() => undefined); // observed by the copies that await it
      this.sources.set(app.kind, promise);
    }
  }

  /** True when the kind's droplet is known (not waiting for this batch's prototype). */
  ready(kind: string): boolean {
    return this.sources.has(kind) && !this.settle.has(kind);
  }

  of(kind: string): Promise<string> {
    return this.sources.get(kind) ?? Promise.reject(new CfApiError(422, 0, 'CF-NoPrototype', `no staged droplet for kind ${kind} to copy`));
  }

  pushed(kind: string, guid: string): void {
    this.settle.get(kind)?.resolve(guid);
    this.settle.delete(kind);
  }

  failed(kind: string, error: Error): void {
    this.settle.get(kind)?.reject(new CfApiError(422, 0, 'CF-PrototypeFailed', `the ${kind} prototype could not be pushed: ${error.message}`));
  }
}

interface AppContext {
  cf: CfClient;
  input: ApplyInput;
  poll: PollOptions;
  droplets: DropletSources;
  readBits: CfConvergeDependencies['readBits'];
  /** At most `concurrency` apps talk to CF at once; an app waiting for its prototype gives its lane up. */
  lanes: Semaphore;
}

/** A FIFO counting semaphore: who gives a lane up and takes it back queues behind those waiting. */
export class Semaphore {
  private readonly waiting: (() => void)[] = [];
  constructor(private available: number) {}

  acquire(): Promise<void> {
    if (this.available > 0) {
      this.available--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.available++;
  }
}

/**
 * Pushes the prototype's bits once and stages them: the droplet every other app of the kind copies.
 * A retry (after a crash, or a lost answer to POST /v3/builds) first looks for what the earlier
 * attempt left: a current droplet, a STAGED droplet, or a build still STAGING (CC allows one at a
 * time per app and answers 422 CF-StagingInProgress to another).
 */
async function pushBits(cf: CfClient, appGuid: string, existingApp: boolean, bits: Uint8Array<ArrayBuffer>, poll: PollOptions): Promise<string> {
  const stagingPoll = { ...poll, timeoutMs: 900_000 };
  if (existingApp) {
    const current = await cf.currentDropletGuid(appGuid);
    if (current) return current;
    const left = await dropletLeftByEarlierAttempt(cf, appGuid, stagingPoll);
    if (left) {
      await cf.setCurrentDroplet(appGuid, left);
      return left;
    }
  }
  const pkg = await cf.createPackage(appGuid);
  const uploaded = await cf.uploadBits(pkg.guid, bits);
  if (uploaded.state !== 'READY') await cf.waitForPackageReady(pkg.guid, poll);
  let buildGuid: string;
  try {
    buildGuid = (await cf.createBuild(pkg.guid)).guid;
  } catch (error) {
    // The build may exist although its answer was lost (a 5xx), or another attempt's may be staging (170017).
    const maybeStaging = error instanceof CfApiError && (error.code === CF_STAGING_IN_PROGRESS || error.status >= 500);
    const staging = maybeStaging ? (await cf.appBuilds(appGuid, ['STAGING']))[0] : undefined;
    if (!staging) throw error;
    buildGuid = staging.guid;
  }
  const build = await cf.waitForBuild(buildGuid, stagingPoll);
  await cf.setCurrentDroplet(appGuid, build.droplet!.guid);
  return build.droplet!.guid;
}

/** CC's StagingInProgress (errors/v2.yml 170017): a build of the app is STAGING already. */
const CF_STAGING_IN_PROGRESS = 170017;

/** A STAGED droplet of the app, or the droplet of its build still STAGING once staged; undefined when neither exists. */
async function dropletLeftByEarlierAttempt(cf: CfClient, appGuid: string, poll: PollOptions): Promise<string | undefined> {
  const staged = (await cf.appDroplets(appGuid, ['STAGED']))[0];
  if (staged) return staged.guid;
  const staging = (await cf.appBuilds(appGuid, ['STAGING']))[0];
  if (!staging) return undefined;
  return (await cf.waitForBuild(staging.guid, poll)).droplet!.guid;
}

export type CfConvergeActivities = ReturnType<typeof createCfConvergeActivities>;

function observedQuota(quota: OrganizationQuota): ObservedQuota {
  return {
    guid: quota.guid,
    name: quota.name,
    apps: quota.apps ?? {},
    services: quota.services ?? {},
    routes: quota.routes ?? {},
    organizationGuids: quota.relationships.organizations.data.map((org) => org.guid),
  };
}

function observedSecurityGroup(group: SecurityGroup): ObservedSecurityGroup {
  return {
    guid: group.guid,
    name: group.name,
    rules: group.rules.map((rule) => ({ protocol: rule.protocol as ObservedSecurityGroup['rules'][number]['protocol'], destination: rule.destination, ...(rule.ports ? { ports: rule.ports } : {}), ...(rule.description ? { description: rule.description } : {}) })),
    runningSpaceGuids: group.relationships.running_spaces.data.map((space) => space.guid),
  };
}

const takenName = (error: unknown) => error instanceof CfApiError && error.status === 422 && /already exists/i.test(error.detail);

async function convergeQuota(cf: CfClient, plan: NonNullable<ConvergePlan['quota']>, organizationGuid: string): Promise<void> {
  const { name, ...limits } = plan.desired;
  let guid = plan.guid;
  if (plan.actions.includes('create')) {
    try {
      guid = (await cf.createOrganizationQuota(name, limits)).guid;
    } catch (error) {
      const existing = takenName(error) ? await cf.findOrganizationQuota(name) : undefined;
      if (!existing) throw error;
      guid = (await cf.updateOrganizationQuota(existing.guid, limits)).guid;
    }
  } else if (plan.actions.includes('update')) await cf.updateOrganizationQuota(guid!, limits);
  if (plan.actions.includes('apply')) await cf.applyOrganizationQuota(guid!, organizationGuid);
}

async function convergeSecurityGroup(cf: CfClient, plan: NonNullable<ConvergePlan['securityGroup']>, spaceGuid: string): Promise<void> {
  let guid = plan.guid;
  if (plan.actions.includes('create')) {
    try {
      guid = (await cf.createSecurityGroup(plan.name, plan.desired.rules)).guid;
    } catch (error) {
      const existing = takenName(error) ? await cf.findSecurityGroup(plan.name) : undefined;
      if (!existing) throw error;
      guid = (await cf.updateSecurityGroupRules(existing.guid, plan.desired.rules)).guid;
    }
  } else if (plan.actions.includes('update')) await cf.updateSecurityGroupRules(guid!, plan.desired.rules);
  if (plan.actions.includes('bind')) await cf.bindRunningSecurityGroup(guid!, spaceGuid);
}

async function observeApps(cf: CfClient, spaceGuid: string, domainGuid: string, input: ObserveInput): Promise<ObservedApp[]> {
  const pattern = new RegExp(`^${input.prefix}(${input.kinds.join('|')})-\\d+$`);
  const singles = new Set(input.singleApps ?? []);
  const ourName = (name: string) => pattern.test(name) || singles.has(name);
  // Ours by label; the rest of the space only for apps that hold one of our names (conflicts).
  const owner = ownerOf(input.prefix);
  const [owned, others] = await Promise.all([cf.listApps(spaceGuid, `${OWNER_LABEL}=${owner}`), cf.listApps(spaceGuid, `${OWNER_LABEL}!=${owner}`)]);
  const foreign: ObservedApp[] = others
    .filter((app) => ourName(app.name))
    .map((app) => ({
      name: app.name, guid: app.guid, state: app.state, instances: 0, dropletGuid: null, routed: false,
      ownership: app.metadata?.labels[OWNER_LABEL] === undefined ? 'unlabelled' : 'other-owner',
    }));
  const apps = owned.filter((app) => ourName(app.name));
  if (apps.length === 0) return foreign;
  const instances = new Map<string, number>();
  const routes = cf.listRoutes(spaceGuid);
  routes.catch(() => undefined);
  for (let i = 0; i < apps.length; i += GUIDS_PER_QUERY) {
    const processes = await cf.listWebProcesses(apps.slice(i, i + GUIDS_PER_QUERY).map((a) => a.guid));
    for (const process of processes) if (process.relationships.app.data) instances.set(process.relationships.app.data.guid, process.instances);
  }
  const routedApps = new Set<string>();
  for (const route of await routes) {
    if (route.relationships.domain.data?.guid !== domainGuid) continue;
    for (const destination of route.destinations) if (route.host === appNameOf(apps, destination.app.guid)) routedApps.add(destination.app.guid);
  }
  const observed = await Promise.all(
    apps.map(async (app): Promise<ObservedApp> => {
      const annotations = app.metadata?.annotations ?? {};
      return {
        name: app.name,
        guid: app.guid,
        state: app.state,
        instances: instances.get(app.guid) ?? 1,
        // Not every CC version lists the current droplet among an app's relationships: ask when absent.
        dropletGuid: app.relationships.current_droplet ? (app.relationships.current_droplet.data?.guid ?? null) : ((await cf.currentDropletGuid(app.guid)) ?? null),
        routed: routedApps.has(app.guid),
        ownership: 'ours',
        ...(annotations[ENV_DIGEST_ANNOTATION] ? { envDigest: annotations[ENV_DIGEST_ANNOTATION] } : {}),
        ...(annotations[BITS_DIGEST_ANNOTATION] ? { bitsDigest: annotations[BITS_DIGEST_ANNOTATION] } : {}),
      };
    }),
  );
  return [...observed, ...foreign];
}

const digest = (...parts: (string | Uint8Array)[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex').slice(0, 32);
};

/** Canonical JSON: keys sorted at every level, so equal specs digest equally. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Per kind, the digest of its environment and of what its droplet is made from: the bits' content
 * and every other setting of the kind but its count, instances, route and env (buildpacks, stack…),
 * so changing any of them rebuilds the droplet.
 */
async function digestKinds(specs: AppKindSpec[], readBits: CfConvergeDependencies['readBits']): Promise<Record<string, KindDigests>> {
  const entries = await Promise.all(
    specs.map(async (spec) => {
      const { kind, count: _count, instances: _instances, route: _route, env, bits, ...droplet } = spec;
      const reference = bits ?? `builtin:${kind}`;
      return [kind, { env: digest(canonical(env ?? {})), bits: digest(canonical(droplet), await readBits(reference)) }] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/** The labels and annotations an app of `kind` carries once converged. */
function metadataFor(input: ApplyInput, kind: string): { labels: Record<string, string>; annotations: Record<string, string> } {
  const digests = input.digests?.[kind];
  return {
    labels: { [OWNER_LABEL]: input.owner, [KIND_LABEL]: kind },
    annotations: digests ? { [ENV_DIGEST_ANNOTATION]: digests.env, [BITS_DIGEST_ANNOTATION]: digests.bits } : {},
  };
}

function appNameOf(apps: { guid: string; name: string }[], guid: string): string | undefined {
  return apps.find((a) => a.guid === guid)?.name;
}

async function findOrCreateApp(cf: CfClient, spaceGuid: string, name: string, env: Record<string, string>, metadata: ReturnType<typeof metadataFor>, lifecycle: AppPlan['lifecycle']) {
  try {
    return { app: await cf.createApp(spaceGuid, name, env, metadata, lifecycle), created: true };
  } catch (error) {
    // Names are the keys: an app created by an attempt that crashed before it could say so is found,
    // not duplicated; one that someone else created meanwhile is not ours to take.
    if (error instanceof CfApiError && error.title === 'CF-UniquenessError') {
      const app = await cf.findApp(spaceGuid, name);
      if (app && app.metadata?.labels[OWNER_LABEL] === metadata.labels[OWNER_LABEL]) return { app, created: false };
      if (app) throw new CfApiError(422, 0, 'CF-NameTaken', `${name} is held by an app without our ${OWNER_LABEL} label (created by someone else meanwhile): left untouched`);
    }
    throw error;
  }
}

async function findOrCreateRoute(cf: CfClient, spaceGuid: string, domainGuid: string, host: string) {
  try {
    return await cf.createRoute(spaceGuid, domainGuid, host);
  } catch (error) {
    if (error instanceof CfApiError && error.status === 422) {
      const route = await cf.findRoute(domainGuid, host);
      if (route && route.relationships.space.data?.guid === spaceGuid) return route;
    }
    throw error;
  }
}

/**
 * One app's actions, ordered so that the droplet copy (which CF does in the background) overlaps
 * with scaling and routing; the copy is awaited just before the droplet is assigned.
 */
async function convergeApp({ cf, input, poll, droplets, readBits, lanes }: AppContext, app: AppPlan): Promise<AppOutcome> {
  const done: AppAction[] = [];
  let dropletGuid: string | undefined;
  let action: AppAction = app.actions[0]!;
  const step = async <T>(name: AppAction, run: () => Promise<T>): Promise<T> => {
    action = name;
    const result = await run();
    done.push(name);
    return result;
  };
  const wants = (name: AppAction) => app.actions.includes(name);
  try {
    if (wants('delete')) {
      await step('delete', async () => {
        if (app.route) {
          const route = await cf.findRoute(input.domainGuid, app.name);
          if (route && route.relationships.space.data?.guid === input.spaceGuid) await cf.deleteRoute(route.guid, poll);
        }
        if (app.guid) await cf.deleteApp(app.guid, poll);
      });
      return { name: app.name, ok: true, done };
    }
    let guid = app.guid;
    let createdNow = false;
    let healthCheckSet: Promise<unknown> | undefined;
    if (wants('create') || !guid) {
      const found = await step('create', () => findOrCreateApp(cf, input.spaceGuid, app.name, app.env, metadataFor(input, app.kind), app.lifecycle));
      guid = found.app.guid;
      createdNow = found.created;
      // CC gives a web process a `port` health check: apps that listen on no port need theirs set
      // before they start. Set while the app is scaled, routed and given its droplet.
      if (app.process?.health_check) {
        healthCheckSet = cf.setWebHealthCheck(guid, app.process.health_check);
        healthCheckSet.catch(() => undefined); // awaited below
      }
    }
    /** The health check is part of creating the app: its failure is the create step's. */
    const healthCheckDone = async () => {
      if (!healthCheckSet) return;
      action = 'create';
      await healthCheckSet.catch((error: unknown) => {
        done.splice(done.indexOf('create'), 1);
        throw error;
      });
      healthCheckSet = undefined;
    };
    if (wants('push-prototype')) {
      dropletGuid = await step('push-prototype', async () => {
        try {
          const pushed = await pushBits(cf, guid!, !createdNow, await readBits(app.bits ?? `builtin:${app.kind}`), poll);
          droplets.pushed(app.kind, pushed);
          return pushed;
        } catch (error) {
          droplets.failed(app.kind, error as Error);
          throw error;
        }
      });
    }
    const scaleAndRoute = async () => {
      if (wants('scale')) await step('scale', () => cf.scaleWeb(guid!, app.instances, { memory_in_mb: app.process?.memory_in_mb, disk_in_mb: app.process?.disk_in_mb }));
      if (wants('route')) {
        await step('route', async () => {
          const route = await findOrCreateRoute(cf, input.spaceGuid, input.domainGuid, app.name);
          await cf.addDestination(route.guid, guid!);
        });
      }
    };
    const copyDroplet = () => step('copy-droplet', async () => cf.copyDroplet(await droplets.of(app.kind), guid!));
    /** The kind's droplet once known; an app waiting for its prototype gives its lane up meanwhile. */
    const kindDroplet = async () => {
      if (droplets.ready(app.kind)) return droplets.of(app.kind);
      lanes.release();
      try {
        await droplets.of(app.kind).catch(() => undefined); // the caller reports a failed prototype
      } finally {
        await lanes.acquire();
      }
      return droplets.of(app.kind);
    };
    // Copy first when the source droplet exists, so CF copies while we scale and route; while the
    // prototype is still staging, scale and route first instead of waiting idle.
    let copy: { guid: string } | undefined;
    if (!wants('copy-droplet')) await scaleAndRoute();
    else if (droplets.ready(app.kind)) {
      copy = await copyDroplet();
      await scaleAndRoute();
    } else {
      await scaleAndRoute();
      lanes.release();
      try {
        await droplets.of(app.kind).catch(() => undefined); // the copy step reports a failed prototype
      } finally {
        await lanes.acquire();
      }
      copy = await copyDroplet();
    }
    if (copy) {
      action = 'copy-droplet';
      await cf.waitForDroplet(copy.guid, poll);
      await cf.setCurrentDroplet(guid, copy.guid);
    }
    await healthCheckDone();
    if (wants('update')) {
      await step('update', async () => {
        const update = app.update ?? { env: true, bits: true, adopt: false };
        if (update.env) await cf.replaceEnvironment(guid!, app.env);
        // A droplet pushed or copied in this run is already built from the current bits.
        let droplet: string | undefined;
        if (update.bits && !copy && !dropletGuid) {
          if (app.bits) {
            try {
              droplet = dropletGuid = await pushBits(cf, guid!, false, await readBits(app.bits), poll);
              droplets.pushed(app.kind, droplet);
            } catch (error) {
              droplets.failed(app.kind, error as Error);
              throw error;
            }
          } else {
            const copied = await cf.copyDroplet(await kindDroplet(), guid!);
            await cf.waitForDroplet(copied.guid, poll);
            droplet = copied.guid;
          }
        }
        if (wants('start')) {
          // Not running: the start below runs the new droplet and environment.
          if (droplet) await cf.setCurrentDroplet(guid!, droplet);
        } else if (update.env || droplet) {
          const deployment = await cf.createDeployment(guid!, droplet);
          await cf.waitForDeployment(deployment.guid, { ...poll, timeoutMs: poll.timeoutMs });
        }
        // Last, so that a crash before it plans the update again.
        await cf.updateAppMetadata(guid!, metadataFor(input, app.kind));
      });
    }
    if (wants('start')) {
      await step('start', async () => {
        await cf.startApp(guid!);
        if (input.waitForRunning && app.instances > 0) await waitForRunning(cf, guid!, app.instances, poll);
      });
    }
    return { name: app.name, ok: true, done, ...(dropletGuid ? { dropletGuid } : {}) };
  } catch (error) {
    if (app.bits && !dropletGuid) droplets.failed(app.kind, error as Error);
    if (error instanceof CfForeignOriginError) throw error;
    return { name: app.name, ok: false, done, failedAction: action, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Waits until every instance runs. Like the cf CLI (`cf start` fails only when all instances have
 * crashed, since Diego restarts crashed ones), a partly crashed app is waited for; an app whose
 * instances have all crashed fails at once, with Diego's reason from the stats (`details`).
 */
async function waitForRunning(cf: CfClient, appGuid: string, instances: number, poll: PollOptions): Promise<void> {
  const timeoutMs = poll.timeoutMs ?? 600_000;
  const deadline = Date.now() + timeoutMs;
  let interval = poll.intervalMs ?? 250;
  for (;;) {
    const stats = await cf.webStats(appGuid);
    const running = stats.filter((s) => s.state === 'RUNNING').length;
    const crashed = stats.filter((s) => s.state === 'CRASHED');
    const reasons = () => [...new Set(crashed.map((s) => s.details).filter(Boolean))].join('; ') || 'no reason given';
    if (stats.length > 0 && crashed.length === stats.length) throw new CfApiError(422, 0, 'CF-InstancesCrashed', `all ${stats.length} instances crashed: ${reasons()}`);
    if (running >= instances) return;
    if (Date.now() > deadline) {
      const alsoCrashed = crashed.length > 0 ? `; ${crashed.length} crashed: ${reasons()}` : '';
      throw new CfApiError(504, 0, 'CF-StartTimeout', `${running} of ${instances} instances running after ${timeoutMs / 1000} s${alsoCrashed}`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
    interval = Math.min(interval * 1.5, poll.maxIntervalMs ?? 2000);
  }
}
