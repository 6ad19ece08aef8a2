// Vocabulary of cf-pusher convergence: declare N apps of each kind on a Cloud Foundry space; a
// prototype per kind is pushed once and its droplet copied to the rest; re-runs converge.
// Shared by the workflow, its activities, the API, UI and tests. The plan is a pure function of
// the desired state and what was observed, so the workflow computes it deterministically.
import { defineQuery, defineSignal } from '@temporalio/workflow';

export const CF_CONVERGE_TASK_QUEUE = 'cf-converge';
export const DEFAULT_PREFIX = 'scale-';
export const DEFAULT_CONCURRENCY = 20;
export const MAX_CONCURRENCY = 200;
export const MAX_APPS_PER_KIND = 10_000;
export const MAX_INSTANCES = 1000;

export interface AppKindSpec {
  /** Lowercase name of the kind, e.g. "proxy" or "tick"; apps are named `<prefix><kind>-<i>`. */
  kind: string;
  count: number;
  instances: number;
  /** Environment variables of every app of this kind (not secrets: they are stored in history). */
  env?: Record<string, string>;
  /** The prototype's bits: `builtin:<name>` or a zip under CF_BITS_DIR. */
  bits?: string;
  /** Give each app a route `<app name>.<domain>` (default true). */
  route?: boolean;
}

export interface ConvergeInput {
  /** Which configured foundation (credentials are resolved by the activities, never passed here). */
  foundation?: string;
  prefix?: string;
  org?: string;
  space?: string;
  /** Apps domain; default: the foundation's first shared domain. */
  domain?: string;
  kinds: AppKindSpec[];
  concurrency?: number;
  /** Stop after computing the plan, and return it. */
  dryRun?: boolean;
  /** Delete apps of a declared kind beyond its count (default true; the original never deleted). */
  deleteExtras?: boolean;
  /** Wait until every instance is RUNNING before an app counts as converged (default true). */
  waitForRunning?: boolean;
  /** Apps per activity; each activity heartbeats which apps are done. */
  batchSize?: number;
  /** First poll interval for droplets, jobs and instance states (grows 1.5× per poll up to 2 s). */
  pollIntervalMs?: number;
  /** Observe → plan → apply rounds before giving up on apps that keep failing. */
  maxRounds?: number;
}

export type Settings = Required<Omit<ConvergeInput, 'domain'>> & { domain: string | undefined };

export const appActions = ['create', 'push-prototype', 'copy-droplet', 'scale', 'route', 'start', 'delete'] as const;
export type AppAction = (typeof appActions)[number];

export interface ObservedApp {
  name: string;
  guid: string;
  state: 'STARTED' | 'STOPPED';
  instances: number;
  dropletGuid: string | null;
  routed: boolean;
}

export interface Observation {
  organizationGuid: string | null;
  spaceGuid: string | null;
  /** What observing had to create first (a fresh foundation): still part of the plan. */
  created?: { organization: boolean; space: boolean };
  domain: { guid: string; name: string };
  apps: ObservedApp[];
}

export interface AppPlan {
  name: string;
  kind: string;
  guid: string | null;
  actions: AppAction[];
  instances: number;
  env: Record<string, string>;
  route: boolean;
  /** The bits to push, for the prototype of a kind that has no droplet yet. */
  bits?: string;
}

export interface ConvergePlan {
  createOrganization: boolean;
  createSpace: boolean;
  /** Kinds whose prototype must be pushed (no app of the kind has a droplet yet). */
  prototypes: { kind: string; app: string; bits: string }[];
  /** For every other kind, the droplet copies come from this droplet. */
  sourceDroplets: Record<string, string>;
  apps: AppPlan[];
  /** Planned actions by kind of action. */
  counts: Record<AppAction, number>;
}

export interface AppOutcome {
  name: string;
  ok: boolean;
  done: AppAction[];
  /** A pushed prototype's droplet: the source of the kind's copies in later batches. */
  dropletGuid?: string;
  /** The action that failed, and CF's message. */
  failedAction?: AppAction;
  error?: string;
}

export type ConvergeStatus = 'observing' | 'applying' | 'paused' | 'converged' | 'failed' | 'cancelled' | 'planned';

export interface PhaseProgress {
  total: number;
  done: number;
  failed: number;
}

export interface ConvergeProgress {
  status: ConvergeStatus;
  round: number;
  plan: ConvergePlan | null;
  phases: Record<AppAction, PhaseProgress>;
  /** Latest outcome of each app worked on (in the current round). */
  outcomes: AppOutcome[];
  failures: AppOutcome[];
  /** Mutating CF calls this convergence made (creates, copies, scales, starts, deletes…). */
  mutatingCalls: number;
}

export interface ConvergeResult extends ConvergeProgress {
  startedAt: string;
  endedAt: string;
}

export const convergeProgressQuery = defineQuery<ConvergeProgress>('progress');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');

/** One convergence per foundation, org and space at a time: the workflow ID is the lock. */
export function convergeWorkflowId(settings: Pick<Settings, 'foundation' | 'org' | 'space'>): string {
  return `cf-converge-${settings.foundation}-${settings.org}-${settings.space}`;
}

export function appName(prefix: string, kind: string, index: number): string {
  return `${prefix}${kind}-${index}`;
}

// CF names become route hosts here, so they must be DNS labels.
const dnsLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const namePart = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** Every problem with the desired state, as `field: message` (empty when valid). */
export function validateConvergeInput(input: ConvergeInput): string[] {
  const problems: string[] = [];
  const whole = (value: unknown, min: number, max: number) => typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
  const prefix = input.prefix ?? DEFAULT_PREFIX;
  if (typeof prefix !== 'string' || !/^[a-z0-9-]{0,20}$/.test(prefix)) problems.push('prefix: must be up to 20 lowercase letters, digits or dashes');
  for (const field of ['org', 'space', 'foundation'] as const) {
    const value = input[field];
    if (value !== undefined && (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(value))) problems.push(`${field}: must be 1 to 64 letters, digits, dots, dashes or underscores`);
  }
  if (input.concurrency !== undefined && !whole(input.concurrency, 1, MAX_CONCURRENCY)) problems.push(`concurrency: must be a whole number from 1 to ${MAX_CONCURRENCY}`);
  if (input.batchSize !== undefined && !whole(input.batchSize, 1, 5000)) problems.push('batchSize: must be a whole number from 1 to 5000');
  if (input.maxRounds !== undefined && !whole(input.maxRounds, 1, 10)) problems.push('maxRounds: must be a whole number from 1 to 10');
  if (input.pollIntervalMs !== undefined && !whole(input.pollIntervalMs, 0, 60_000)) problems.push('pollIntervalMs: must be a whole number from 0 to 60000');
  if (!Array.isArray(input.kinds) || input.kinds.length === 0) {
    problems.push('kinds: declare at least one app kind');
    return problems;
  }
  const seen = new Set<string>();
  input.kinds.forEach((spec, i) => {
    const at = `kinds.${i}`;
    if (typeof spec.kind !== 'string' || !namePart.test(spec.kind)) problems.push(`${at}.kind: must be 1 to 40 lowercase letters, digits or dashes`);
    else if (seen.has(spec.kind)) problems.push(`${at}.kind: ${spec.kind} is declared twice`);
    seen.add(spec.kind);
    if (!whole(spec.count, 0, MAX_APPS_PER_KIND)) problems.push(`${at}.count: must be a whole number from 0 to ${MAX_APPS_PER_KIND}`);
    if (!whole(spec.instances, 0, MAX_INSTANCES)) problems.push(`${at}.instances: must be a whole number from 0 to ${MAX_INSTANCES}`);
    if (typeof spec.kind === 'string' && whole(spec.count, 1, MAX_APPS_PER_KIND) && !dnsLabel.test(appName(prefix, spec.kind, spec.count - 1))) {
      problems.push(`${at}.kind: app names like ${appName(prefix, spec.kind, spec.count - 1)} must be valid DNS labels (63 characters at most)`);
    }
    if (spec.env !== undefined && (typeof spec.env !== 'object' || Object.values(spec.env).some((v) => typeof v !== 'string'))) problems.push(`${at}.env: must map names to strings`);
    if (spec.bits !== undefined && (typeof spec.bits !== 'string' || spec.bits.includes('..'))) problems.push(`${at}.bits: must be builtin:<name> or a file name under CF_BITS_DIR`);
  });
  return problems;
}

export function settingsFrom(input: ConvergeInput): Settings {
  const prefix = input.prefix ?? DEFAULT_PREFIX;
  return {
    foundation: input.foundation ?? 'default',
    prefix,
    org: input.org ?? `${prefix}org`,
    space: input.space ?? `${prefix}space`,
    domain: input.domain,
    kinds: input.kinds.map((k) => ({ route: true, env: {}, bits: `builtin:${k.kind}`, ...k })),
    concurrency: input.concurrency ?? DEFAULT_CONCURRENCY,
    dryRun: input.dryRun ?? false,
    deleteExtras: input.deleteExtras ?? true,
    waitForRunning: input.waitForRunning ?? true,
    batchSize: input.batchSize ?? 500,
    pollIntervalMs: input.pollIntervalMs ?? 250,
    maxRounds: input.maxRounds ?? 3,
  };
}

export function emptyCounts(): Record<AppAction, number> {
  return Object.fromEntries(appActions.map((a) => [a, 0])) as Record<AppAction, number>;
}

/**
 * The diff of desired against live. Apps are matched by name (`<prefix><kind>-<i>`), so a re-run
 * after a crash finds what the first run created. Only apps of declared kinds are ever deleted.
 */
export function computePlan(settings: Settings, observation: Observation): ConvergePlan {
  const byName = new Map(observation.apps.map((app) => [app.name, app]));
  const apps: AppPlan[] = [];
  const prototypes: ConvergePlan['prototypes'] = [];
  const sourceDroplets: Record<string, string> = {};
  for (const spec of settings.kinds) {
    const pattern = new RegExp(`^${settings.prefix.replace(/[-]/g, '\\-')}${spec.kind}-(\\d+)$`);
    const existing = observation.apps.filter((app) => pattern.test(app.name));
    const prototypeName = appName(settings.prefix, spec.kind, 0);
    const withDroplet = [byName.get(prototypeName), ...existing].find((app) => app?.dropletGuid);
    if (withDroplet?.dropletGuid) sourceDroplets[spec.kind] = withDroplet.dropletGuid;
    else if (spec.count > 0) prototypes.push({ kind: spec.kind, app: prototypeName, bits: spec.bits ?? `builtin:${spec.kind}` });

    for (let index = 0; index < spec.count; index++) {
      const name = appName(settings.prefix, spec.kind, index);
      const live = byName.get(name);
      const actions: AppAction[] = [];
      if (!live) actions.push('create');
      if (!live?.dropletGuid) actions.push(index === 0 && !withDroplet ? 'push-prototype' : 'copy-droplet');
      // A new app's web process has 1 instance.
      if ((live?.instances ?? 1) !== spec.instances) actions.push('scale');
      if (spec.route !== false && !live?.routed) actions.push('route');
      if (live?.state !== 'STARTED' && spec.instances > 0) actions.push('start');
      if (actions.length > 0) {
        const bits = actions.includes('push-prototype') ? (spec.bits ?? `builtin:${spec.kind}`) : undefined;
        apps.push({ name, kind: spec.kind, guid: live?.guid ?? null, actions, instances: spec.instances, env: spec.env ?? {}, route: spec.route !== false, ...(bits ? { bits } : {}) });
      }
    }
    if (settings.deleteExtras) {
      for (const app of existing) {
        const index = Number(pattern.exec(app.name)![1]);
        if (index >= spec.count) apps.push({ name: app.name, kind: spec.kind, guid: app.guid, actions: ['delete'], instances: 0, env: {}, route: spec.route !== false });
      }
    }
  }
  const counts = emptyCounts();
  for (const app of apps) for (const action of app.actions) counts[action]++;
  return {
    createOrganization: observation.organizationGuid === null || Boolean(observation.created?.organization),
    createSpace: observation.spaceGuid === null || Boolean(observation.created?.space),
    prototypes,
    sourceDroplets,
    apps,
    counts,
  };
}
