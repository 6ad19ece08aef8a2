// Vocabulary of counters, triggers and action chains (PyScaler's monitoring and control apps), shared
// by the workflows, their activities, the API, the UI and the tests. What a trigger's state means and
// how one evaluation moves it is in triggerEvaluation.shared.ts.
import * as z from 'zod/mini';
import { defineQuery } from '@temporalio/workflow';
import { clusterNameSchema, MAX_SCRIPT_BYTES, timingsSchema } from './nodes.shared.ts';
import { wholeNumber } from './validation.shared.ts';

/** Task queue of the tick and chain workflows and their activities (the main worker). */
export const TRIGGERS_TASK_QUEUE = 'triggers';

const NAME = '[a-z][a-z0-9-]{0,39}';
/** A counter's or a trigger's name: a slug (it is part of memcached keys and workflow IDs). */
export const triggerNameSchema = z.string().check(z.regex(new RegExp(`^${NAME}$`), 'must be a lowercase slug of up to 40 characters, such as cpu-busy'));
export const counterNameSchema = triggerNameSchema;

/** The cluster's sampling schedule: one per cluster, so a tick collects every counter a node needs once. */
export const triggerTickScheduleId = (cluster: string) => `trigger-tick:${cluster}`;
/** Workflows the schedule starts get this ID with the scheduled time appended (by Temporal). */
export const triggerTickWorkflowIdPrefix = (cluster: string) => `trigger-tick:${cluster}`;
/**
 * The time a schedule's tick was scheduled for, from its workflow ID (Temporal appends it as RFC 3339
 * to the schedule's workflow ID), or undefined for a tick started otherwise.
 */
export function scheduledTickTime(workflowId: string, cluster: string): string | undefined {
  const prefix = `${triggerTickWorkflowIdPrefix(cluster)}-`;
  if (!workflowId.startsWith(prefix)) return undefined;
  const at = Date.parse(workflowId.slice(prefix.length));
  return Number.isFinite(at) ? new Date(at).toISOString() : undefined;
}
/** A trigger's chain: the workflow ID is the trigger's lock (one chain per trigger at a time). */
export const triggerChainWorkflowId = (cluster: string, trigger: string) => `trigger-chain:${cluster}:${trigger}`;
const chainWorkflowIdPattern = new RegExp(`^trigger-chain:[a-z][a-z0-9-]{0,29}:${NAME}$`);
export const isTriggerChainWorkflowId = (id: string) => chainWorkflowIdPattern.test(id);

// Counters.

export const comparisons = ['<', '<=', '=', '>=', '>'] as const;
export type Comparison = (typeof comparisons)[number];

/** Whether `value` breaches `threshold` under `comparison` (`=` with a relative tolerance of 1e-9: values are decimals). */
export function breaches(value: number, comparison: Comparison, threshold: number): boolean {
  switch (comparison) {
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '=':
      return Math.abs(value - threshold) <= 1e-9 * Math.max(1, Math.abs(threshold));
    case '>=':
      return value >= threshold;
    case '>':
      return value > threshold;
  }
}

export const counterKinds = ['ssh', 'http', 'cf-process', 'queue-backlog'] as const;
export type CounterKind = (typeof counterKinds)[number];

export const MAX_COUNTER_SCRIPT_BYTES = MAX_SCRIPT_BYTES;
const finiteNumber = z.number({ error: 'must be a number' }).check(z.refine(Number.isFinite, 'must be a finite number'));

const counterCommon = {
  comparison: z.enum(comparisons, { error: `must be one of ${comparisons.join(' ')}` }),
  threshold: finiteNumber,
  description: z.optional(z.string().check(z.maxLength(500))),
};

/** As PyScaler's SshCounter: a script whose stdout is one number; a non-number or non-zero exit is a failed sample. */
export const sshCounterSchema = z.strictObject({
  kind: z.literal('ssh'),
  ...counterCommon,
  script: z.string().check(z.minLength(1, 'must not be empty'), z.refine((s) => new TextEncoder().encode(s).length <= MAX_COUNTER_SCRIPT_BYTES, `must be at most ${MAX_COUNTER_SCRIPT_BYTES / 1024} KiB`)),
});

/** A URL template with `{host}` (the node's SSH host) and `{node}` (its name); its host must be in COUNTER_ALLOWED_HOSTS. */
export const httpCounterSchema = z.strictObject({
  kind: z.literal('http'),
  ...counterCommon,
  url: z.string().check(z.maxLength(2000), z.regex(/^https?:\/\/[^\s]+$/, 'must be an http:// or https:// URL template, such as http://{host}:9100/metrics')),
  /** `json`: a JSON pointer picks the number (Jolokia answers JMX this way); `prometheus`: a metric and labels pick a sample. */
  format: z.enum(['json', 'prometheus']),
  jsonPointer: z.optional(z.string().check(z.regex(/^(\/([^/~]|~[01])*)*$/, 'must be a JSON pointer such as /value or /heap/used'))),
  metric: z.optional(z.string().check(z.regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, 'must be a Prometheus metric name'))),
  labels: z.optional(z.record(z.string().check(z.regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a label name')), z.string().check(z.maxLength(200)))),
});

export const cfProcessMetrics = ['cpu', 'memory', 'instances'] as const;
/** A CF app's web process, from CC v3 process stats: CPU percent (average over instances), memory bytes (sum), or running instances. */
export const cfProcessCounterSchema = z.strictObject({
  kind: z.literal('cf-process'),
  ...counterCommon,
  foundation: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  org: z.string().check(z.minLength(1), z.maxLength(255)),
  space: z.string().check(z.minLength(1), z.maxLength(255)),
  app: z.string().check(z.minLength(1), z.maxLength(255)),
  metric: z.enum(cfProcessMetrics),
});

export const queueBacklogMetrics = ['count', 'age-seconds'] as const;
/**
 * A Temporal task queue's activity backlog (DescribeTaskQueue with stats): the approximate number of
 * tasks waiting (`count`) or how long the oldest has waited (`age-seconds`). One value per tick,
 * recorded under the pseudo-node `queue:<taskQueue>`; the name is as the product's workers use it
 * (the stack's FLEET_TASK_QUEUE_SUFFIX is appended when sampling).
 */
export const queueBacklogCounterSchema = z.strictObject({
  kind: z.literal('queue-backlog'),
  ...counterCommon,
  taskQueue: z._default(z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, 'must be a task queue name such as fractals')), 'fractals'),
  metric: z._default(z.enum(queueBacklogMetrics), 'count'),
});

/** Counter kinds that read one value for the whole cluster (a pseudo-node), not one per node. */
export const clusterWideCounterKinds: readonly CounterKind[] = ['cf-process', 'queue-backlog'];

/** A counter as PUT /api/counters/<name> takes it. */
export const counterSchema = z.discriminatedUnion('kind', [sshCounterSchema, httpCounterSchema, cfProcessCounterSchema, queueBacklogCounterSchema]);
export type CounterBody = z.output<typeof counterSchema>;
export type Counter = { name: string } & CounterBody;

/**
 * One node's value of one counter at one tick, or why there is none. A cf-process counter is one
 * value per tick, recorded under the pseudo-node `cf:<app>`.
 */
export interface Sample {
  counter: string;
  node: string;
  at: string;
  value: number | null;
  error?: string;
}

// Triggers.

export const nodeCombinations = ['any', 'all', 'avg', 'max', 'min'] as const;
/** How the nodes' values combine: `any`/`all` nodes breaching, or the comparison on their avg/max/min. */
export type NodeCombination = (typeof nodeCombinations)[number];

/** A tick at most once a second (a Temporal Schedule interval has a resolution of seconds), and at least once a day. */
export const MIN_INTERVAL_MS = 1000;
export const MAX_INTERVAL_MS = 24 * 3600_000;
const durationMs = (min: number, max: number) => wholeNumber(min, max);

// Actions.

export const actionTargets = ['lastnode', 'cluster', 'none'] as const;
/** `lastnode` is the cluster's newest active node (PyScaler's took the first: a bug). */
export type ActionTarget = (typeof actionTargets)[number];
export const onFailurePolicies = ['stop', 'continue'] as const;
export type OnFailure = (typeof onFailurePolicies)[number];

const actionCommon = {
  /** A label for the UI and the Temporal Web UI (default: the kind). */
  label: z.optional(z.string().check(z.minLength(1), z.maxLength(80))),
  target: z._default(z.enum(actionTargets), 'none'),
  onFailure: z._default(z.enum(onFailurePolicies), 'stop'),
};
const scriptText = z.string().check(z.minLength(1, 'must not be empty'), z.refine((s) => new TextEncoder().encode(s).length <= MAX_SCRIPT_BYTES, `must be at most ${MAX_SCRIPT_BYTES / 1024} KiB`));

export const actionSchema = z.discriminatedUnion('kind', [
  /**
   * Scale out by one node (bounded by the cluster's maxNodes: skipped at max). `timings` overrides the
   * deployment's waits (production polls every 15 s; a local stack or a test may poll faster).
   */
  z.strictObject({ kind: z.literal('deploy-node'), ...actionCommon, timings: z.optional(timingsSchema) }),
  /** Scale in: removes the newest active node (bounded by minNodes: skipped at min); `timings` as deploy-node's. */
  z.strictObject({ kind: z.literal('remove-node'), ...actionCommon, timings: z.optional(timingsSchema) }),
  /** PyScaler's OSConfiguration: `puppet apply` of a manifest on the target's nodes. */
  z.strictObject({ kind: z.literal('puppet'), ...actionCommon, manifest: scriptText }),
  /** A script on one node (the target's: lastnode, or the cluster's newest). */
  z.strictObject({ kind: z.literal('local-script'), ...actionCommon, script: scriptText }),
  /** A script on every active node of the cluster. */
  z.strictObject({ kind: z.literal('distributed-script'), ...actionCommon, script: scriptText, parallelism: z._default(wholeNumber(1, 50), 10) }),
  /** Mail with the firing's context filled into `{trigger}`, `{cluster}`, `{value}`, `{value:<counter>}`, `{node}`, `{cause}`, `{firedAt}`. */
  z.strictObject({
    kind: z.literal('email'),
    ...actionCommon,
    address: z.email({ error: 'must be an email address' }),
    title: z.string().check(z.minLength(1), z.maxLength(200)),
    content: z.string().check(z.maxLength(10_000)),
  }),
  /** Set (`instances`) or change (`delta`) a CF app's web process instance count. */
  z.strictObject({
    kind: z.literal('cf-scale'),
    ...actionCommon,
    foundation: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
    org: z.string().check(z.minLength(1), z.maxLength(255)),
    space: z.string().check(z.minLength(1), z.maxLength(255)),
    app: z.string().check(z.minLength(1), z.maxLength(255)),
    instances: z.optional(wholeNumber(0, 2000)),
    delta: z.optional(wholeNumber(-2000, 2000)),
  }),
  /** Switch a CPU-load target ON (for `ttlSeconds`) or OFF. */
  z.strictObject({
    kind: z.literal('cpu-load'),
    ...actionCommon,
    loadTarget: z._default(z.string().check(z.regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, 'must be a CPU-load target name')), 'default'),
    state: z.enum(['ON', 'OFF']),
    ttlSeconds: z.optional(wholeNumber(1)),
  }),
  /** An exactly-once request run of `calls` calls to `url` (in REQUEST_RUN_ALLOWED_DESTINATIONS). */
  z.strictObject({
    kind: z.literal('request-run'),
    ...actionCommon,
    url: z.string().check(z.maxLength(2000)),
    calls: wholeNumber(1, 1_000_000),
    concurrency: z.optional(wholeNumber(1, 1000)),
  }),
]);
export type Action = z.output<typeof actionSchema>;
export type ActionKind = Action['kind'];
export const actionKinds = actionSchema.def.options.map((option) => option.shape.kind.def.values[0]) as ActionKind[];

export const MAX_CHAIN_ACTIONS = 20;
export const MAX_TRIGGER_COUNTERS = 10;

const triggerFields = {
  cluster: clusterNameSchema,
  counters: z.array(counterNameSchema).check(z.minLength(1, 'must name at least one counter'), z.maxLength(MAX_TRIGGER_COUNTERS)),
  combine: z._default(z.enum(nodeCombinations), 'any'),
  /**
   * The trigger's own comparison and threshold for its counters (default: each counter's), so one
   * counter (one sample per node and tick) serves a scale-out trigger at > 70 and a scale-in one at < 20.
   */
  comparison: z.optional(z.nullable(z.enum(comparisons, { error: `must be one of ${comparisons.join(' ')}` }))),
  threshold: z.optional(z.nullable(finiteNumber)),
  /** How often the trigger is evaluated (its cluster's schedule ticks at the smallest interval of its enabled triggers). */
  intervalMs: z._default(durationMs(MIN_INTERVAL_MS, MAX_INTERVAL_MS), 60_000),
  /** Wall-clock time from the first breaching evaluation until it fires (Prometheus `for`); at least the interval. */
  heldForMs: z._default(durationMs(0, 7 * 24 * 3600_000), 60_000),
  /** Hysteresis: once breaching, a value clears only past this threshold (one counter only). */
  clearThreshold: z.optional(z.nullable(finiteNumber)),
  /** Hysteresis: a breach is held this long after the condition was last true (Prometheus `keep_firing_for`). */
  keepFiringForMs: z._default(durationMs(0, 7 * 24 * 3600_000), 0),
  /**
   * 0: one firing per episode. Otherwise a trigger still firing (its condition holds) fires again this
   * long after its last firing, once that chain has ended: a step of scaling per period, as
   * Ceilometer's repeat_actions or an Auto Scaling alarm that stays in ALARM.
   */
  repeatAfterMs: z.optional(durationMs(0, 7 * 24 * 3600_000)),
  /** No new firing for this long after a firing clears (and its chain ended). */
  cooldownMs: z._default(durationMs(0, 7 * 24 * 3600_000), 300_000),
  enabled: z._default(z.boolean(), true),
  /** Circuit breaker: more than `maxFirings` firings within `windowMs` disables the trigger and mails. */
  circuitBreaker: z._default(z.strictObject({ maxFirings: wholeNumber(1, 1000), windowMs: durationMs(1000, 30 * 24 * 3600_000) }), { maxFirings: 5, windowMs: 3600_000 }),
  /** Who is mailed when the breaker trips or a node stays unreachable (default: the cluster's notify address). */
  notify: z.optional(z.nullable(z.email())),
  chain: z._default(z.array(actionSchema).check(z.maxLength(MAX_CHAIN_ACTIONS)), []),
};

const heldForAtLeastInterval = () =>
  z.refine<{ heldForMs: number; intervalMs: number }>((t) => t.heldForMs === 0 || t.heldForMs >= t.intervalMs, {
    message: 'must be 0 or at least intervalMs (a condition is seen once per interval)',
    path: ['heldForMs'],
  });
const comparisonWithThreshold = () =>
  z.refine<{ comparison?: Comparison | null; threshold?: number | null }>((t) => (t.comparison == null) === (t.threshold == null), {
    message: 'comparison and threshold are given together (or neither: each counter\'s own apply)',
    path: ['threshold'],
  });
const clearThresholdNeedsOneCounter = () =>
  z.refine<{ clearThreshold?: number | null; counters: string[] }>((t) => t.clearThreshold == null || t.counters.length === 1, {
    message: 'applies to a trigger of one counter (use keepFiringForMs with several)',
    path: ['clearThreshold'],
  });

/** A trigger as PUT /api/triggers/<name> takes it. */
export const triggerSchema = z.strictObject(triggerFields).check(heldForAtLeastInterval(), comparisonWithThreshold(), clearThresholdNeedsOneCounter());
export type TriggerBody = z.output<typeof triggerSchema>;
export type Trigger = { name: string } & TriggerBody;

export const triggerStateNames = ['inactive', 'pending', 'firing', 'cooldown'] as const;
export type TriggerStateName = (typeof triggerStateNames)[number];

// Workflows.

/** What a schedule's tick workflow takes: the cluster (the schedule fixes it). */
export const triggerTickInputSchema = z.strictObject({ cluster: clusterNameSchema });
export type TriggerTickInput = z.infer<typeof triggerTickInputSchema>;

/** A dry run: a counter (maybe unsaved) sampled on the cluster's nodes, or a trigger evaluated now. */
export const triggerPreviewInputSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('counter'), cluster: clusterNameSchema, name: counterNameSchema, counter: counterSchema, nodes: z.optional(z.array(z.string().check(z.maxLength(48))).check(z.maxLength(99))) }),
  z.strictObject({ kind: z.literal('trigger'), name: triggerNameSchema, trigger: triggerSchema }),
]);
export type TriggerPreviewInput = z.input<typeof triggerPreviewInputSchema>;
export const triggerPreviewWorkflowId = (name: string, id: string) => `trigger-preview:${name}:${id}`;

/** Why a chain runs, filled into emails and shown on the trigger's page. */
export interface FiringContext {
  trigger: string;
  cluster: string;
  /** `schedule` (the condition held) or `manual` (Run chain now). */
  cause: 'schedule' | 'manual';
  firedAt: string;
  /** Per counter, the combined value that breached (null for a manual run without data). */
  values: Record<string, number | null>;
  /** The node whose value breached (the worst one), when there is one. */
  node: string | null;
}

export const triggerChainInputSchema = z.strictObject({
  cluster: clusterNameSchema,
  trigger: triggerNameSchema,
  /**
   * The scheduled firing this run carries out (its row holds the chain as it was when it fired, so an
   * edit during a run changes the next one). Absent: a run by hand, which makes a manual firing.
   */
  firingId: z.optional(wholeNumber(1)),
});
export type TriggerChainInput = z.input<typeof triggerChainInputSchema>;

export type ActionOutcome = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';
export interface ActionProgress {
  index: number;
  kind: ActionKind;
  label: string;
  status: ActionOutcome;
  /** A skipped action's reason (at max, at min, no node), or what a finished one did. */
  detail?: string;
  error?: string;
  /** The child workflow that carried it out, when one did. */
  workflowId?: string;
  startedAt?: string;
  endedAt?: string;
}
export interface TriggerChainStatus {
  cluster: string;
  trigger: string;
  /** The firing it carries out (the trigger's firing history links to it). */
  firingId: number;
  context: FiringContext;
  state: 'running' | 'succeeded' | 'failed';
  actions: ActionProgress[];
}

export const triggerChainStatusQuery = defineQuery<TriggerChainStatus>('triggerChainStatus');

/** What a tick reports to humans (mailed to the trigger's notify address, or its cluster's). */
export interface TriggerEvents {
  cluster: string;
  /** Triggers whose circuit breaker tripped: they disabled themselves. */
  tripped: string[];
  /** Nodes without samples for a trigger's heldFor, by trigger. */
  unreachable: { trigger: string; nodes: string[] }[];
}

/** What a tick workflow returns: counts, and the chains it started. */
export interface TriggerTickSummary {
  cluster: string;
  evaluated: number;
  samples: number;
  failedSamples: number;
  started: string[];
  /** Firings not started because the trigger's chain was still running (single flight). */
  suppressed: string[];
  tripped: string[];
}
