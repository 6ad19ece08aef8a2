// Vocabulary of cf-pusher convergence: declare N apps of each kind on a Cloud Foundry space; a
// prototype per kind is pushed once and its droplet copied to the rest; re-runs converge.
// Shared by the workflow, its activities, the API, UI and tests. The plan is a pure function of
// the desired state and what was observed, so the workflow computes it deterministically.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { safeParse } from 'zod/v4/core';
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
export const MAX_SECURITY_GROUP_RULES = 5000;
/**
 * In an env value, the apps domain: known only once the foundation is observed (the default domain),
 * so the plan puts it in (`REGISTRY_BASE_URL=http://scale-registry.{apps_domain}`).
 */
export const APPS_DOMAIN_PLACEHOLDER = '{apps_domain}';
/**
 * Failure type of an activity whose CF client refused a URL on another origin than the API's (a
 * `pagination.next` or job `Location` elsewhere): retrying would meet the same answer, so never retried.
 */
export const CF_FOREIGN_ORIGIN_FAILURE = 'CfForeignOriginError';

/** Label of every app this product creates: whose apps they are (ownerOf(prefix)). Only such apps are ever changed or deleted. */
export const OWNER_LABEL = 'fleet.converge/owner';
/** Label naming the app's kind. */
export const KIND_LABEL = 'fleet.converge/kind';
/** Annotations holding digests of what the app was last converged to: its environment, and what its droplet is built from (bits, lifecycle). */
export const ENV_DIGEST_ANNOTATION = 'fleet.converge/env';
export const BITS_DIGEST_ANNOTATION = 'fleet.converge/bits';

/** The owner label's value for a prefix: a valid CF label value (alphanumeric ends), one per prefix. */
export function ownerOf(prefix: string): string {
  return `cf-converge.${prefix}apps`;
}

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
  /**
   * `indexed` (default): apps `<prefix><kind>-<i>`; `single`: one app named `<prefix><kind>` (count 0
   * or 1), as the original named its registry.
   */
  names: z.optional(z.enum(['indexed', 'single'], { error: 'must be indexed or single' })),
  /** Buildpacks by name (or git URL), in order; none: CC auto-detects. Default for builtin bits: binary_buildpack. */
  buildpacks: z.optional(z.array(z.string().check(z.regex(/^[A-Za-z0-9_.:/#@-]{1,255}$/, 'must be a buildpack name or URL'))).check(z.maxLength(10))),
  /** The stack to stage and run on (CC's default, cflinuxfs4, when unset). */
  stack: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be a stack name such as cflinuxfs4'))),
  /** Memory and disk of each instance (default for builtin bits: 32 MB each, as the original's manifests). */
  memory_in_mb: z.optional(wholeNumber(1, 65_536)),
  disk_in_mb: z.optional(wholeNumber(1, 65_536)),
  /** How Diego decides an instance is healthy: `process` for apps that listen on no port (default for builtin bits). */
  health_check: z.optional(
    z.strictObject({
      type: z.enum(['process', 'port', 'http']),
      /** For `http`: the path to GET (default /). */
      endpoint: z.optional(z.string().check(z.regex(/^\/[\x21-\x7e]{0,254}$/, 'must be a path such as /health'))),
    }),
  ),
});
export type AppKindSpec = z.infer<typeof appKindSchema>;

/** A quota limit: a whole number, or null for unlimited (CC's v3 convention). */
const quotaLimit = z.optional(z.nullable(wholeNumber(0, 1_000_000_000)));
/** An organization quota by name, in CC's v3 shape; only the limits given are converged. */
export const orgQuotaSchema = z.strictObject({
  name: cfName,
  apps: z.optional(z.strictObject({ total_memory_in_mb: quotaLimit, per_process_memory_in_mb: quotaLimit, total_instances: quotaLimit })),
  services: z.optional(z.strictObject({ total_service_instances: quotaLimit })),
  routes: z.optional(z.strictObject({ total_routes: quotaLimit, total_reserved_ports: quotaLimit })),
});
export type OrgQuotaSpec = z.infer<typeof orgQuotaSchema>;

export const securityRuleSchema = z.strictObject({
  protocol: z.enum(['tcp', 'udp', 'icmp', 'all'], { error: 'must be tcp, udp, icmp or all' }),
  destination: z.string().check(z.regex(/^[0-9a-fA-F.:/-]{2,100}$/, 'must be an IP address, a CIDR or a range (10.0.0.1-10.0.0.9)')),
  ports: z.optional(z.string().check(z.regex(/^\d{1,5}(-\d{1,5})?(,\d{1,5}(-\d{1,5})?)*$/, 'must be a port, a list (80,443) or a range (7000-7010)'))),
  description: z.optional(z.string().check(z.maxLength(255))),
});
export type SecurityRule = z.infer<typeof securityRuleSchema>;

/** An application security group by name, bound to the space for running apps. */
export const securityGroupSchema = z.strictObject({
  name: cfName,
  rules: z.array(securityRuleSchema).check(z.maxLength(MAX_SECURITY_GROUP_RULES, `must have at most ${MAX_SECURITY_GROUP_RULES} rules`)),
});
export type SecurityGroupSpec = z.infer<typeof securityGroupSchema>;

const prefixSchema = z.string().check(z.regex(/^[a-z0-9-]{0,20}$/, 'must be up to 20 lowercase letters, digits or dashes'));

/** How a convergence runs, in either form of its input (the kinds form and the seed's parameter file). */
function runOptions(foundation: typeof cfName) {
  return {
    /** Which configured foundation (credentials are resolved by the activities, never passed here). */
    foundation: z.optional(foundation),
    /** Stop after computing the plan, and return it. */
    dryRun: z.optional(z.boolean()),
    /** Delete apps of a declared kind beyond its count (default true; the original never deleted). */
    deleteExtras: z.optional(z.boolean()),
    /**
     * Take over unlabelled apps that hold one of our names (made by a version before labels):
     * they are labelled and rolled out to the desired env and bits. Default false: reported as conflicts.
     */
    adopt: z.optional(z.boolean()),
    /** Wait until every instance is RUNNING before an app counts as converged (default true). */
    waitForRunning: z.optional(z.boolean()),
    /** Apps per activity; each activity heartbeats which apps are done. */
    batchSize: z.optional(wholeNumber(1, 5000)),
    /** First poll interval for droplets, jobs and instance states (grows 1.5× per poll up to 2 s). */
    pollIntervalMs: z.optional(wholeNumber(0, 60_000)),
    /** Observe → plan → apply rounds before giving up on apps that keep failing. */
    maxRounds: z.optional(wholeNumber(1, 10)),
  };
}

/** A desired state whose foundation names are checked by `foundation` (the workflow cannot know the configured ones). */
function desiredStateSchema(foundation: typeof cfName) {
  return z
    .strictObject({
      prefix: z.optional(prefixSchema),
      org: z.optional(cfName),
      space: z.optional(cfName),
      /** Apps domain; default: the foundation's first shared domain. */
      domain: z.optional(domainName),
      kinds: z.array(appKindSchema).check(z.minLength(1, 'declare at least one app kind')),
      /** An organization quota converged by name and applied to the org. */
      quota: z.optional(orgQuotaSchema),
      /** An application security group converged by name and bound to the space (running). */
      securityGroup: z.optional(securityGroupSchema),
      concurrency: z.optional(wholeNumber(1, MAX_CONCURRENCY)),
      ...runOptions(foundation),
    })
    .check(
      z.superRefine((input, ctx) => {
        const prefix = input.prefix ?? DEFAULT_PREFIX;
        const seen = new Set<string>();
        input.kinds.forEach((spec, i) => {
          const problem = (message: string) => ctx.issues.push({ code: 'custom', input: spec.kind, path: ['kinds', i, 'kind'], message });
          if (seen.has(spec.kind)) problem(`${spec.kind} is declared twice`);
          seen.add(spec.kind);
          if (spec.names === 'single') {
            if (spec.count > 1) ctx.issues.push({ code: 'custom', input: spec.count, path: ['kinds', i, 'count'], message: 'must be 0 or 1 for a kind of names single' });
            const clash = input.kinds.find((other) => other.names !== 'single' && new RegExp(`^${other.kind}-\\d+$`).test(spec.kind));
            if (clash) problem(`its app ${prefix}${spec.kind} would be taken for one of the ${clash.kind} apps`);
          }
          const last = kindAppName(prefix, spec, spec.count - 1);
          if (spec.count > 0 && !dnsLabel.test(last)) problem(`app names like ${last} must be valid DNS labels (63 characters at most)`);
        });
      }),
    );
}

/**
 * The original cf-pusher's parameter file (cf-networking-release cf-pusher config/config.go), taken
 * unchanged: see desiredStateFromSeed for what each key becomes. Connection and credential keys are
 * refused before this (connectionKeyProblem); the scaling test's and acceptance tests' own keys are
 * accepted and not used (they stay in the workflow's input, so its history records them).
 */
function seedParamsSchema(foundation: typeof cfName) {
  const flag = z.optional(z.boolean());
  return z.strictObject({
    proxy_applications: wholeNumber(0, MAX_APPS_PER_KIND),
    proxy_instances: wholeNumber(0, MAX_INSTANCES),
    test_applications: wholeNumber(0, MAX_APPS_PER_KIND),
    test_app_instances: wholeNumber(0, MAX_INSTANCES),
    test_app_registry_ttl_seconds: z.optional(wholeNumber(0, 31_536_000)),
    extra_listen_ports: z.optional(wholeNumber(0, 1000)),
    prefix: z.optional(prefixSchema),
    concurrency: z.optional(wholeNumber(1, MAX_CONCURRENCY)),
    asg_size: z.optional(wholeNumber(1, MAX_SECURITY_GROUP_RULES)),
    apps_domain: z.optional(domainName),
    // Read only by the scaling test (test/scaling/scaling_test.go), never by cf-pusher.
    sample_percent: z.optional(wholeNumber(0, 100)),
    policy_update_wait_seconds: z.optional(wholeNumber(0, 86_400)),
    // Flags of the acceptance tests that share the file (config/config.go).
    default_security_groups: z.optional(z.array(z.string())),
    dynamic_asgs_enabled: flag,
    internetless: flag,
    skip_icmp_tests: flag,
    run_custom_iptables_compatibility_test: flag,
    run_experimental_outbound_conn_limit_test: flag,
    skip_space_developer_policy_test: flag,
    skip_search_domain_tests: flag,
    skip_experimental_dynamic_egress_tests: flag,
    // This product's run options, as in the kinds form.
    ...runOptions(foundation),
  });
}

/** The keys that tell the seed's parameter file from a desired state (which has `kinds`). */
const SEED_KEYS = ['proxy_applications', 'proxy_instances', 'test_applications', 'test_app_instances', 'asg_size', 'extra_listen_ports', 'test_app_registry_ttl_seconds'];

/**
 * Keys of the original's file that connect to a foundation: refused in any input, since an input
 * is kept in the workflow's history. The foundation's configuration holds them instead.
 */
const CONNECTION_KEYS: Record<string, string> = {
  api: 'is the foundation to connect to: it comes from the foundation configuration (CF_API_URL); name the foundation with "foundation"',
  admin_user: 'is a credential: credentials come from the foundation configuration (CF_USERNAME/CF_PASSWORD or CF_CLIENT_ID/CF_CLIENT_SECRET), never from an input, which history keeps',
  admin_password: 'is a credential: credentials come from the foundation configuration (CF_USERNAME/CF_PASSWORD or CF_CLIENT_ID/CF_CLIENT_SECRET), never from an input, which history keeps',
  admin_secret: 'is a credential: credentials come from the foundation configuration (CF_USERNAME/CF_PASSWORD or CF_CLIENT_ID/CF_CLIENT_SECRET), never from an input, which history keeps',
  skip_ssl_validation: 'is a connection setting: it comes from the foundation configuration (CF_SKIP_SSL_VALIDATION), not from an input',
};

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Either form of input: a desired state (`kinds`), or the seed's parameter file. One schema, so the
 * workflow, the API, the UI and `temporal workflow start --input-file` take both; a refusal names
 * the field of the form it was taken for.
 */
function desiredOrSeed(foundation: typeof cfName) {
  const desired = desiredStateSchema(foundation);
  const seed = seedParamsSchema(foundation);
  return z.pipe(
    z.unknown(),
    z.transform((value, ctx): DesiredState | SeedParams => {
      const connectionKey = isRecord(value) ? Object.keys(value).find((key) => Object.hasOwn(CONNECTION_KEYS, key)) : undefined;
      if (connectionKey) {
        ctx.issues.push({ code: 'custom', input: value, path: [connectionKey], message: CONNECTION_KEYS[connectionKey]! });
        return z.NEVER;
      }
      const isSeed = isRecord(value) && !('kinds' in value) && SEED_KEYS.some((key) => key in value);
      const parsed = isSeed ? safeParse(seed, value) : safeParse(desired, value);
      if (parsed.success) return parsed.data;
      for (const issue of parsed.error.issues) ctx.issues.push({ ...issue, input: value } as Parameters<typeof ctx.issues.push>[0]);
      return z.NEVER;
    }),
  );
}

/** The desired state in the general form: app kinds, and optionally a quota and a security group. */
export type DesiredState = z.infer<ReturnType<typeof desiredStateSchema>>;
/** The seed's parameter file, as cf-pusher read it. */
export type SeedParams = z.infer<ReturnType<typeof seedParamsSchema>>;

/** The desired state or the seed's file, as the workflow checks it at start (also what `temporal workflow start --input` passes). */
export const convergeInputSchema = desiredOrSeed(cfName);
export type ConvergeInput = DesiredState | SeedParams;

/** The input as the API and UI take it: the foundation must also be one of the configured ones. */
export function convergeRequestSchema(foundations: readonly string[]) {
  const configured = new Set(foundations);
  return desiredOrSeed(cfName.check(z.refine((name) => configured.has(name), `is not a configured foundation; configured: ${foundations.join(', ')}`)));
}

export function isSeedParams(input: ConvergeInput): input is SeedParams {
  return !('kinds' in input);
}

/** The original's quota (cf-pusher main.go): 1000G memory, 20000 routes, 100 service instances; instance memory, app instances and route ports unlimited. */
export function seedQuota(prefix: string): OrgQuotaSpec {
  return {
    name: `${prefix}quota`,
    apps: { total_memory_in_mb: 1000 * 1024, per_process_memory_in_mb: null, total_instances: null },
    services: { total_service_instances: 100 },
    routes: { total_routes: 20_000, total_reserved_ports: null },
  };
}

/**
 * The original's ASG of `size` rules (cf-networking-release testsupport BuildASG(n), as cf-pusher
 * called it): rule i of 1..n allows tcp to 169.254.<i/254>.<i%254>, port 80.
 */
export function seedSecurityRules(size: number): SecurityRule[] {
  return Array.from({ length: size }, (_, k) => {
    const i = k + 1;
    return { protocol: 'tcp', destination: `169.254.${Math.floor(i / 254)}.${i % 254}`, ports: '80' };
  });
}

/** yaml.v2's omitempty, as the original's manifests had it: a 0 leaves the variable out. */
const unlessZero = (name: string, value: number | undefined): Record<string, string> => (value ? { [name]: String(value) } : {});

/**
 * The seed's parameter file as a desired state, reproducing cf-pusher's setup (main.go): org
 * `<prefix>org`, space `<prefix>space`, the registry (`<prefix>registry`, 1 instance), the tick apps
 * wired to it, the proxy apps, the quota `<prefix>quota` and, with asg_size, the ASG `<prefix>asg`.
 */
export function desiredStateFromSeed(seed: SeedParams): DesiredState {
  // The original fell back to "scale-" for an empty prefix, and to concurrency 16.
  const prefix = seed.prefix || DEFAULT_PREFIX;
  const domain = seed.apps_domain ?? APPS_DOMAIN_PLACEHOLDER;
  const runOptions = (['foundation', 'dryRun', 'deleteExtras', 'adopt', 'waitForRunning', 'batchSize', 'pollIntervalMs', 'maxRounds'] as const).filter((key) => seed[key] !== undefined);
  return {
    ...Object.fromEntries(runOptions.map((key) => [key, seed[key]])),
    prefix,
    ...(seed.apps_domain ? { domain: seed.apps_domain } : {}),
    kinds: [
      { kind: 'registry', names: 'single', count: 1, instances: 1 },
      {
        kind: 'tick',
        count: seed.test_applications,
        instances: seed.test_app_instances,
        env: {
          GOPACKAGENAME: 'example-apps/tick',
          REGISTRY_BASE_URL: `http://${prefix}registry.${domain}`,
          ...unlessZero('REGISTRY_TTL_SECONDS', seed.test_app_registry_ttl_seconds),
          START_PORT: '7000',
          ...unlessZero('LISTEN_PORTS', seed.extra_listen_ports),
        },
      },
      { kind: 'proxy', count: seed.proxy_applications, instances: seed.proxy_instances, env: { GOPACKAGENAME: 'example-apps/proxy' } },
    ],
    quota: seedQuota(prefix),
    ...(seed.asg_size ? { securityGroup: { name: `${prefix}asg`, rules: seedSecurityRules(seed.asg_size) } } : {}),
    concurrency: seed.concurrency ?? 16,
  };
}

export type Settings = Required<Omit<DesiredState, 'domain' | 'quota' | 'securityGroup'>> & {
  domain: string | undefined;
  quota: OrgQuotaSpec | undefined;
  securityGroup: SecurityGroupSpec | undefined;
};

export const appActions = ['create', 'push-prototype', 'copy-droplet', 'scale', 'route', 'start', 'update', 'delete'] as const;
export type AppAction = (typeof appActions)[number];

export interface ObservedApp {
  name: string;
  guid: string;
  state: 'STARTED' | 'STOPPED';
  instances: number;
  dropletGuid: string | null;
  routed: boolean;
  /** Whose app it is by its labels: ours (the default), unlabelled, or another owner's. */
  ownership?: 'ours' | 'unlabelled' | 'other-owner';
  /** The digests its annotations hold (ENV_DIGEST_ANNOTATION, BITS_DIGEST_ANNOTATION), when it has them. */
  envDigest?: string;
  bitsDigest?: string;
}

/** Digests of a kind's desired environment and of what its droplet is built from: an app whose annotations differ is updated. */
export interface KindDigests {
  env: string;
  bits: string;
}

/** An app that holds one of our names but is not ours: reported, never changed. */
export interface Conflict {
  name: string;
  guid: string;
  reason: string;
}

/** An organization quota as observed: its limits as CC reports them and the orgs it is applied to. */
export interface ObservedQuota {
  guid: string;
  name: string;
  apps?: Record<string, number | null>;
  services?: Record<string, number | null | boolean>;
  routes?: Record<string, number | null>;
  organizationGuids: string[];
}

export interface ObservedSecurityGroup {
  guid: string;
  name: string;
  rules: SecurityRule[];
  runningSpaceGuids: string[];
}

export interface Observation {
  /** The desired quota and security group as found by name (null: missing; absent: none desired). */
  quota?: ObservedQuota | null;
  securityGroup?: ObservedSecurityGroup | null;
  organizationGuid: string | null;
  spaceGuid: string | null;
  /** What observing had to create first (a fresh foundation): still part of the plan. */
  created?: { organization: boolean; space: boolean };
  domain: { guid: string; name: string };
  apps: ObservedApp[];
  /** Per kind (absent: updates are not planned). */
  digests?: Record<string, KindDigests>;
}

export interface AppPlan {
  name: string;
  kind: string;
  guid: string | null;
  actions: AppAction[];
  instances: number;
  env: Record<string, string>;
  route: boolean;
  /** The bits to push, for the prototype of a kind that has no droplet yet (or whose bits changed). */
  bits?: string;
  /** What an `update` changes: the environment, the droplet (new bits), the labels of an adopted app. */
  update?: { env: boolean; bits: boolean; adopt: boolean };
  /** The buildpack lifecycle to create the app with (only when the plan creates it). */
  lifecycle?: { buildpacks: string[]; stack?: string };
  /** Memory and disk (applied by the scale of a new app) and health check (set when it is created). */
  process?: ProcessSettings;
}

export type QuotaAction = 'create' | 'update' | 'apply';
export type SecurityGroupAction = 'create' | 'update' | 'bind';

/** What the org's quota and the space's security group need: found by name, created if missing, updated if different. */
export interface SettingPlan<Action, Spec> {
  name: string;
  guid: string | null;
  actions: Action[];
  desired: Spec;
}

export interface ProcessSettings {
  memory_in_mb?: number;
  disk_in_mb?: number;
  health_check?: { type: 'process' | 'port' | 'http'; endpoint?: string };
}

/**
 * What the built-in placeholder bits need on a real foundation: binary_buildpack named (it has no
 * Linux detect), a `process` health check (the script listens on no port), and 32 MB of memory and
 * disk as the original's manifests. 2,000 such instances need 64,000 MB: more than CC's default
 * organization quota (10,240 MB), so a foundation converging that many needs a larger quota.
 */
export const BUILTIN_BITS_DEFAULTS = {
  buildpacks: ['binary_buildpack'],
  memory_in_mb: 32,
  disk_in_mb: 32,
  health_check: { type: 'process' },
} as const satisfies Pick<AppKindSpec, 'buildpacks' | 'memory_in_mb' | 'disk_in_mb' | 'health_check'>;

export interface ConvergePlan {
  createOrganization: boolean;
  createSpace: boolean;
  quota: SettingPlan<QuotaAction, OrgQuotaSpec> | null;
  securityGroup: SettingPlan<SecurityGroupAction, SecurityGroupSpec> | null;
  /** Kinds whose prototype must be pushed (no app of the kind has a droplet yet). */
  prototypes: { kind: string; app: string; bits: string }[];
  /** For every other kind, the droplet copies come from this droplet. */
  sourceDroplets: Record<string, string>;
  apps: AppPlan[];
  /** Planned actions by kind of action. */
  counts: Record<AppAction, number>;
  /** Apps holding one of our names that are not ours (no owner label, or another's): never touched. */
  conflicts: Conflict[];
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
  /** Whether the planned quota and security group match the desired ones now. */
  settingsDone: { quota: boolean; securityGroup: boolean };
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

/** The name of a kind's app `index`: `<prefix><kind>-<i>`, or `<prefix><kind>` for a kind of names single. */
export function kindAppName(prefix: string, spec: Pick<AppKindSpec, 'kind' | 'names'>, index: number): string {
  return spec.names === 'single' ? `${prefix}${spec.kind}` : appName(prefix, spec.kind, index);
}

/** The index of the app `name` among the kind's apps, or undefined when the name is not one of the kind's. */
export function kindAppIndex(prefix: string, spec: Pick<AppKindSpec, 'kind' | 'names'>, name: string): number | undefined {
  if (spec.names === 'single') return name === `${prefix}${spec.kind}` ? 0 : undefined;
  if (!name.startsWith(`${prefix}${spec.kind}-`)) return undefined;
  const index = name.slice(prefix.length + spec.kind.length + 1);
  return /^\d+$/.test(index) ? Number(index) : undefined;
}

export function settingsFrom(input: ConvergeInput): Settings {
  const desired = isSeedParams(input) ? desiredStateFromSeed(input) : input;
  const prefix = desired.prefix ?? DEFAULT_PREFIX;
  return {
    foundation: desired.foundation ?? DEFAULT_FOUNDATION,
    prefix,
    org: desired.org ?? `${prefix}org`,
    space: desired.space ?? `${prefix}space`,
    domain: desired.domain,
    quota: desired.quota,
    securityGroup: desired.securityGroup,
    kinds: desired.kinds.map((k) => {
      const bits = k.bits ?? `builtin:${k.kind}`;
      const defaults = bits.startsWith('builtin:') ? { ...BUILTIN_BITS_DEFAULTS, buildpacks: [...BUILTIN_BITS_DEFAULTS.buildpacks], health_check: { ...BUILTIN_BITS_DEFAULTS.health_check } } : {};
      return { route: true, env: {}, names: 'indexed' as const, ...defaults, ...k, bits };
    }),
    concurrency: desired.concurrency ?? DEFAULT_CONCURRENCY,
    dryRun: desired.dryRun ?? false,
    deleteExtras: desired.deleteExtras ?? true,
    adopt: desired.adopt ?? false,
    waitForRunning: desired.waitForRunning ?? true,
    batchSize: desired.batchSize ?? 500,
    pollIntervalMs: desired.pollIntervalMs ?? 250,
    maxRounds: desired.maxRounds ?? 3,
  };
}

function processSettingsOf(spec: AppKindSpec): ProcessSettings {
  const settings: ProcessSettings = {};
  if (spec.memory_in_mb !== undefined) settings.memory_in_mb = spec.memory_in_mb;
  if (spec.disk_in_mb !== undefined) settings.disk_in_mb = spec.disk_in_mb;
  if (spec.health_check) settings.health_check = { ...spec.health_check };
  return settings;
}

export function emptyCounts(): Record<AppAction, number> {
  return Object.fromEntries(appActions.map((a) => [a, 0])) as Record<AppAction, number>;
}

/** Env values with the observed apps domain put in for APPS_DOMAIN_PLACEHOLDER. */
function resolveEnv(env: Record<string, string>, appsDomain: string): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, value.split(APPS_DOMAIN_PLACEHOLDER).join(appsDomain)]));
}

/** The quota's actions: create when missing, update when a declared limit differs, apply when the org is not on it. */
function planQuota(desired: OrgQuotaSpec | undefined, observed: ObservedQuota | null | undefined, organizationGuid: string | null): ConvergePlan['quota'] {
  if (!desired) return null;
  const actions: QuotaAction[] = [];
  if (!observed) actions.push('create');
  else {
    const differs = (['apps', 'services', 'routes'] as const).some((group) =>
      Object.entries(desired[group] ?? {}).some(([limit, value]) => (observed[group] as Record<string, unknown> | undefined)?.[limit] !== value),
    );
    if (differs) actions.push('update');
  }
  if (!observed || organizationGuid === null || !observed.organizationGuids.includes(organizationGuid)) actions.push('apply');
  return { name: desired.name, guid: observed?.guid ?? null, actions, desired };
}

const ruleKey = (rule: SecurityRule) => JSON.stringify([rule.protocol, rule.destination, rule.ports ?? null, rule.description ?? null]);

/** The security group's actions: create when missing, update when its rules differ, bind when the space is not among its running spaces. */
function planSecurityGroup(desired: SecurityGroupSpec | undefined, observed: ObservedSecurityGroup | null | undefined, spaceGuid: string | null): ConvergePlan['securityGroup'] {
  if (!desired) return null;
  const actions: SecurityGroupAction[] = [];
  if (!observed) actions.push('create');
  else if (observed.rules.map(ruleKey).join('\n') !== desired.rules.map(ruleKey).join('\n')) actions.push('update');
  if (!observed || spaceGuid === null || !observed.runningSpaceGuids.includes(spaceGuid)) actions.push('bind');
  return { name: desired.name, guid: observed?.guid ?? null, actions, desired };
}

/** Whether the quota or the security group still has work to do. */
export function hasSettingsWork(plan: Pick<ConvergePlan, 'quota' | 'securityGroup'>): boolean {
  return (plan.quota?.actions.length ?? 0) + (plan.securityGroup?.actions.length ?? 0) > 0;
}

const conflictReasons = {
  unlabelled: `has no ${OWNER_LABEL} label: made by someone else, or by a version of this product before labels (re-run with "adopt": true to take it over)`,
  'other-owner': `carries another ${OWNER_LABEL} label`,
} as const;

/**
 * The diff of desired against live. Apps are matched by name (`<prefix><kind>-<i>`, or
 * `<prefix><kind>` for a kind of names single), so a re-run after a crash finds what the first run
 * created, and must carry our owner label: an app holding one of our names without it is a
 * conflict, reported and never touched. Only our apps of declared kinds are ever deleted. An app
 * whose digests differ from its kind's is updated (env, droplet, rollout).
 */
export function computePlan(settings: Settings, observation: Observation): ConvergePlan {
  const ours = (app: ObservedApp) => (app.ownership ?? 'ours') === 'ours' || (settings.adopt && app.ownership === 'unlabelled');
  const apps: AppPlan[] = [];
  const conflicts: Conflict[] = [];
  const prototypes: ConvergePlan['prototypes'] = [];
  const sourceDroplets: Record<string, string> = {};
  for (const spec of settings.kinds) {
    const bits = spec.bits ?? `builtin:${spec.kind}`;
    const digests = observation.digests?.[spec.kind];
    const env = resolveEnv(spec.env ?? {}, observation.domain.name);
    const matching = observation.apps.filter((app) => kindAppIndex(settings.prefix, spec, app.name) !== undefined);
    for (const app of matching) if (!ours(app)) conflicts.push({ name: app.name, guid: app.guid, reason: conflictReasons[app.ownership as 'unlabelled' | 'other-owner'] });
    const existing = matching.filter(ours);
    const byName = new Map(existing.map((app) => [app.name, app]));
    const taken = new Set(matching.filter((app) => !ours(app)).map((app) => app.name));
    const adopting = (app: ObservedApp) => app.ownership === 'unlabelled';
    const bitsCurrent = (app: ObservedApp) => !digests || (app.bitsDigest === digests.bits && !adopting(app));
    // The prototype is the first app of the kind whose name is free for us.
    let prototypeIndex = 0;
    while (taken.has(kindAppName(settings.prefix, spec, prototypeIndex)) && prototypeIndex < spec.count) prototypeIndex++;
    const prototypeName = kindAppName(settings.prefix, spec, prototypeIndex);
    // Copies come from a droplet built from the current bits.
    const withDroplet = [byName.get(prototypeName), ...existing].find((app) => app?.dropletGuid && bitsCurrent(app));
    if (withDroplet?.dropletGuid) sourceDroplets[spec.kind] = withDroplet.dropletGuid;
    else if (spec.count > prototypeIndex) prototypes.push({ kind: spec.kind, app: prototypeName, bits });

    for (let index = 0; index < spec.count; index++) {
      const name = kindAppName(settings.prefix, spec, index);
      if (taken.has(name)) continue;
      const live = byName.get(name);
      const isPrototype = index === prototypeIndex && !withDroplet;
      const actions: AppAction[] = [];
      if (!live) actions.push('create');
      if (!live?.dropletGuid) actions.push(isPrototype ? 'push-prototype' : 'copy-droplet');
      // A new app's web process has 1 instance and CC's default memory and disk: the scale sets the kind's.
      const resized = !live && (spec.memory_in_mb !== undefined || spec.disk_in_mb !== undefined);
      if ((live?.instances ?? 1) !== spec.instances || resized) actions.push('scale');
      if (spec.route !== false && !live?.routed) actions.push('route');
      if (live?.state !== 'STARTED' && spec.instances > 0) actions.push('start');
      const update = live && digests ? { env: live.envDigest !== digests.env || adopting(live), bits: !bitsCurrent(live), adopt: adopting(live) } : undefined;
      const updating = update && (update.env || update.bits || update.adopt);
      if (updating) actions.push('update');
      if (actions.length > 0) {
        const process = processSettingsOf(spec);
        const pushes = actions.includes('push-prototype') || (isPrototype && updating && update.bits);
        apps.push({
          name, kind: spec.kind, guid: live?.guid ?? null, actions, instances: spec.instances, env, route: spec.route !== false,
          ...(pushes ? { bits } : {}), ...(updating ? { update } : {}),
          ...(!live && (spec.buildpacks || spec.stack) ? { lifecycle: { buildpacks: spec.buildpacks ?? [], ...(spec.stack ? { stack: spec.stack } : {}) } } : {}),
          ...(Object.keys(process).length > 0 ? { process } : {}),
        });
      }
    }
    if (settings.deleteExtras) {
      for (const app of existing) {
        const index = kindAppIndex(settings.prefix, spec, app.name)!;
        if (index < spec.count) continue;
        if (adopting(app)) conflicts.push({ name: app.name, guid: app.guid, reason: `has no ${OWNER_LABEL} label and is beyond the kind's count: adopt takes over only apps it keeps` });
        else apps.push({ name: app.name, kind: spec.kind, guid: app.guid, actions: ['delete'], instances: 0, env: {}, route: spec.route !== false });
      }
    }
  }
  const counts = emptyCounts();
  for (const app of apps) for (const action of app.actions) counts[action]++;
  return {
    createOrganization: observation.organizationGuid === null || Boolean(observation.created?.organization),
    createSpace: observation.spaceGuid === null || Boolean(observation.created?.space),
    quota: planQuota(settings.quota, observation.quota, observation.organizationGuid),
    securityGroup: planSecurityGroup(settings.securityGroup, observation.securityGroup, observation.spaceGuid),
    prototypes,
    sourceDroplets,
    apps,
    counts,
    conflicts,
  };
}
