// Vocabulary of cf-pusher convergence: declare N apps of each kind on a Cloud Foundry space; a
// prototype per kind is pushed once and its droplet copied to the rest; re-runs converge.
// Shared by the workflow, its activities, the API, UI and tests. The plan is a pure function of
// the desired state and what was observed, so the workflow computes it deterministically.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import * as z from 'zod/mini';
import { idSchema, wholeNumber } from './validation.shared.ts';

export const CF_CONVERGE_TASK_QUEUE = 'cf-converge';
/** The foundation a desired state names when it names none (the one the configuration defines). */
export const DEFAULT_FOUNDATION = 'default';
export const DEFAULT_PREFIX = 'scale-';
export const DEFAULT_CONCURRENCY = 20;
export const MAX_CONCURRENCY = 200;
export const MAX_APPS_PER_KIND = 10_000;
export const MAX_INSTANCES = 1000;
/**
 * Failure type of an activity whose CF client refused a URL on another origin than the API's (a
 * `pagination.next` or job `Location` elsewhere): retrying would meet the same answer, so never retried.
 */
export const CF_FOREIGN_ORIGIN_FAILURE = 'CfForeignOriginError';

const CF_NAME = '[A-Za-z0-9][A-Za-z0-9._-]{0,63}';
const cfName = z.string().check(z.regex(new RegExp(`^${CF_NAME}$`), 'must be 1 to 64 letters, digits, dots, dashes or underscores'));
const domainLabel = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const domainName = z.string().check(z.regex(new RegExp(`^(?=.{1,253}$)${domainLabel}(?:\\.${domainLabel})*$`), 'must be a domain name such as apps.example.com'));
// CF names become route hosts here, so they must be DNS labels.
const dnsLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const namePart = /^[a-z0-9][a-z0-9-]{0,39}$/;

export const appKindSchema = z.strictObject({
  /** Lowercase name of the kind, e.g. "proxy" or "tick"; apps are named `<prefix><kind>-<i>`. */
  kind: z.string().check(z.regex(namePart, 'must be 1 to 40 lowercase letters, digits or dashes')),
  count: wholeNumber(0, MAX_APPS_PER_KIND),
  instances: wholeNumber(0, MAX_INSTANCES),
  /** Environment variables of every app of this kind (not secrets: they are stored in history). */
  env: z.optional(
    z.record(z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/, 'must be a variable name of letters, digits, _, . or -')), z.string(), {
      error: 'must map names to strings',
    }),
  ),
  /** The prototype's bits: `builtin:<name>` or a zip under CF_BITS_DIR. */
  bits: z.optional(z.string().check(z.minLength(1), z.maxLength(255), z.refine((bits) => !bits.includes('..'), 'must be builtin:<name> or a file name under CF_BITS_DIR'))),
  /** Give each app a route `<app name>.<domain>` (default true). */
  route: z.optional(z.boolean()),
});
export type AppKindSpec = z.infer<typeof appKindSchema>;

/** A desired state whose foundation names are checked by `foundation` (the workflow cannot know the configured ones). */
function desiredStateSchema(foundation: typeof cfName) {
  return z
    .strictObject({
      /** Which configured foundation (credentials are resolved by the activities, never passed here). */
      foundation: z.optional(foundation),
      prefix: z.optional(z.string().check(z.regex(/^[a-z0-9-]{0,20}$/, 'must be up to 20 lowercase letters, digits or dashes'))),
      org: z.optional(cfName),
      space: z.optional(cfName),
      /** Apps domain; default: the foundation's first shared domain. */
      domain: z.optional(domainName),
      kinds: z.array(appKindSchema).check(z.minLength(1, 'declare at least one app kind')),
      concurrency: z.optional(wholeNumber(1, MAX_CONCURRENCY)),
      /** Stop after computing the plan, and return it. */
      dryRun: z.optional(z.boolean()),
      /** Delete apps of a declared kind beyond its count (default true; the original never deleted). */
      deleteExtras: z.optional(z.boolean()),
      /** Wait until every instance is RUNNING before an app counts as converged (default true). */
      waitForRunning: z.optional(z.boolean()),
      /** Apps per activity; each activity heartbeats which apps are done. */
      batchSize: z.optional(wholeNumber(1, 5000)),
      /** First poll interval for droplets, jobs and instance states (grows 1.5× per poll up to 2 s). */
      pollIntervalMs: z.optional(wholeNumber(0, 60_000)),
      /** Observe → plan → apply rounds before giving up on apps that keep failing. */
      maxRounds: z.optional(wholeNumber(1, 10)),
    })
    .check(
      z.superRefine((input, ctx) => {
        const prefix = input.prefix ?? DEFAULT_PREFIX;
        const seen = new Set<string>();
        input.kinds.forEach((spec, i) => {
          const problem = (message: string) => ctx.issues.push({ code: 'custom', input: spec.kind, path: ['kinds', i, 'kind'], message });
          if (seen.has(spec.kind)) problem(`${spec.kind} is declared twice`);
          seen.add(spec.kind);
          const last = appName(prefix, spec.kind, spec.count - 1);
          if (spec.count > 0 && !dnsLabel.test(last)) problem(`app names like ${last} must be valid DNS labels (63 characters at most)`);
        });
      }),
    );
}

/** The desired state, as the workflow checks it at start (also what `temporal workflow start --input` passes). */
export const convergeInputSchema = desiredStateSchema(cfName);
export type ConvergeInput = z.infer<typeof convergeInputSchema>;

/** The desired state as the API and UI take it: the foundation must also be one of the configured ones. */
export function convergeRequestSchema(foundations: readonly string[]) {
  const configured = new Set(foundations);
  return desiredStateSchema(cfName.check(z.refine((name) => configured.has(name), `is not a configured foundation; configured: ${foundations.join(', ')}`)));
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

const convergeWorkflowIdPattern = new RegExp(`^cf-converge-${CF_NAME}-${CF_NAME}-${CF_NAME}$`);
/** Whether `id` is one convergeWorkflowId builds: `cf-converge-<foundation>-<org>-<space>`, each a CF name. */
export function isCfConvergeWorkflowId(id: string): boolean {
  // Three names of up to 64 characters and the dashes between them: longer IDs are not tried.
  return id.length <= 'cf-converge-'.length + 3 * 64 + 2 && convergeWorkflowIdPattern.test(id);
}

/** A convergence's workflow ID as a request names it. */
export const cfConvergeWorkflowIdSchema = idSchema('a convergence', isCfConvergeWorkflowId);

export function appName(prefix: string, kind: string, index: number): string {
  return `${prefix}${kind}-${index}`;
}

export function settingsFrom(input: ConvergeInput): Settings {
  const prefix = input.prefix ?? DEFAULT_PREFIX;
  return {
    foundation: input.foundation ?? DEFAULT_FOUNDATION,
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
