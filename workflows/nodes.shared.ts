// Vocabulary of clusters and nodes (PyScaler's DeployEc2Node, RemoveEc2Node, OSConfiguration,
// LocalScript, DistributedScript and Email actions). Shared by the workflows, their activities,
// the API, the UI and the tests. SSH keys travel as references (a key name), AWS and SMTP credentials
// stay in the worker's configuration; EC2 user data, which may hold secrets, is write-only (see
// SecretSummary) and withheld from workflows.
import { defineQuery } from '@temporalio/workflow';
import * as z from 'zod/mini';
import type { $ZodType } from 'zod/v4/core';
import { idSchema, wholeNumber } from './validation.shared.ts';

export const NODES_TASK_QUEUE = 'nodes';

export const PROFILE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** An SSH key is named by a plain file name under SSH_KEYS_DIR: no path, so no way out of it. */
export const KEY_REF_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const CLUSTER_NAME = '[a-z][a-z0-9-]{0,29}';
/** A deployment ID, or a script run's ID: a key of up to 64 characters. */
const RUN_KEY = '[A-Za-z0-9][A-Za-z0-9._-]{0,63}';
/** Cluster names become node names (`web01`) and EC2 tags: a short slug. */
export const clusterNameSchema = z.string().check(z.regex(new RegExp(`^${CLUSTER_NAME}$`), 'must be a lowercase slug of up to 30 characters (it prefixes node names)'));
export const profileNameSchema = z.string().check(z.regex(PROFILE_NAME_PATTERN, 'must be 1 to 64 letters, digits, dots, dashes or underscores'));
/** A node's name: its cluster's and a number from 01 to 99. */
export const nodeNameSchema = z.string().check(z.regex(new RegExp(`^${CLUSTER_NAME}[0-9]{2}$`), 'must be a node name such as web01'));
/** Node names are `<cluster>01` … `<cluster>99`, the first free one, as in the original. */
export const MAX_NODE_NUMBER = 99;

export const deployNodeWorkflowId = (cluster: string, deploymentId: string) => `node-deploy:${cluster}:${deploymentId}`;
/** One removal per node at a time: the workflow ID is the lock. */
export const removeNodeWorkflowId = (cluster: string, node: string) => `node-remove:${cluster}:${node}`;
export const scriptRunWorkflowId = (cluster: string, runId: string) => `script-run:${cluster}:${runId}`;

// What those builders make: a cluster name, then a deployment ID, a node name or a run ID (a UUID
// when the API starts the run, any such key from the CLI).
const runbookWorkflowIdPattern = new RegExp(`^(?:node-deploy:${CLUSTER_NAME}:${RUN_KEY}|node-remove:${CLUSTER_NAME}:${CLUSTER_NAME}[0-9]{2})$`);
const scriptRunWorkflowIdPattern = new RegExp(`^script-run:${CLUSTER_NAME}:${RUN_KEY}$`);
/** Whether `id` is one deployNodeWorkflowId or removeNodeWorkflowId builds. */
export const isRunbookWorkflowId = (id: string) => runbookWorkflowIdPattern.test(id);
/** Whether `id` is one scriptRunWorkflowId builds. */
export const isScriptRunWorkflowId = (id: string) => scriptRunWorkflowIdPattern.test(id);
/** A node deployment's or removal's workflow ID as a request names it. */
export const runbookWorkflowIdSchema = idSchema('a node deployment or removal', isRunbookWorkflowId);
/** A script run's workflow ID as a request names it. */
export const scriptRunWorkflowIdSchema = idSchema('a script run', isScriptRunWorkflowId);

/** EC2's ClientToken (≤ 64 ASCII characters): one per deployment, so a retried launch is the same launch. */
export const clientTokenFor = (deploymentId: string) => `fleet-${deploymentId}`.slice(0, 64);

/** EC2 tags every node carries from launch: how a retried launch finds the instance it already made. */
export const NODE_TAGS = { deployment: 'fleet:deployment', cluster: 'fleet:cluster', name: 'Name' } as const;

/** Optional text: absent, null and '' are all stored as null. */
const optionalText = (max: number) => z.pipe(z.optional(z.nullable(z.string().check(z.maxLength(max)))), z.transform((v) => (v === undefined || v === '' ? null : v)));
/** Write-only text (a secret): omitted keeps the stored value, null or '' clears it. Reads show only its SecretSummary. */
const secretText = (max: number) => z.pipe(z.optional(z.nullable(z.string().check(z.maxLength(max)))), z.transform((v) => (v === '' ? null : v)));
const optionalPort = z.pipe(z.optional(z.nullable(wholeNumber(1, 65535))), z.transform((v) => v ?? null));

/** An EC2 profile as PUT /api/ec2-profiles/<name> takes it (the name is in the path). */
export const ec2ProfileSchema = z.strictObject({
  region: z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as us-east-1')),
  imageId: z.string().check(z.regex(/^ami-[0-9a-f]{8,17}$/, 'must be an AMI ID such as ami-12c6146b')),
  instanceType: z.string().check(z.regex(/^[a-z0-9-]+\.[a-z0-9]+$/, 'must be an instance type such as t3.micro')),
  keyName: optionalText(255),
  securityGroups: z._default(z.array(z.string().check(z.minLength(1), z.maxLength(255))).check(z.maxLength(5)), () => []),
  subnetId: optionalText(64),
  /** A target group name or ARN. */
  targetGroup: z.string().check(z.minLength(1), z.maxLength(255)),
  /** The port targets are registered on (default: the target group's). */
  targetPort: optionalPort,
  /**
   * Instance user data, write-only: it may hold secrets. Omitted in a PUT keeps the stored value, null
   * or '' clears it; the API and UI show only its SecretSummary. Workflows see only USER_DATA_WITHHELD:
   * the launch reads it from MySQL itself.
   */
  userData: secretText(16 * 1024),
});
/** An EC2 profile as stored: what the worker launches with (user data included). */
export type Ec2Profile = { name: string } & Omit<z.output<typeof ec2ProfileSchema>, 'userData'> & { userData: string | null };

/** What a read shows of a write-only field: whether it is set, and its SHA-256 (hex) and length in bytes — never its value. */
export interface SecretSummary {
  set: boolean;
  sha256: string | null;
  bytes: number;
}
/** A profile as the API and UI read it: each of its secret fields as a SecretSummary. */
export type Summarised<P, Secret extends keyof P> = Omit<P, Secret> & { [K in Secret]: SecretSummary };

export const USER_DATA_WITHHELD = '(withheld from workflow history)';

/** An SSH profile as PUT /api/ssh-profiles/<name> takes it: a key by reference only. */
export const sshProfileSchema = z.strictObject({
  user: z.string().check(z.regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a user name such as ubuntu')),
  /** A file name under SSH_KEYS_DIR; the worker reads the key, workflows never see it. */
  keyRef: z.string().check(z.regex(KEY_REF_PATTERN, 'must be the file name of a key in SSH_KEYS_DIR (the key itself is never sent)')),
  port: optionalPort,
});
export type SshProfile = { name: string } & z.output<typeof sshProfileSchema>;

/**
 * The two kinds of profile differ only in this: how they are named in messages, the cluster field
 * that names one, and their fields (the schema). One route, service and model function serves both.
 */
export const profileKinds: { [Kind in ProfileKind]: ProfileKindInfo<ProfileBodies[Kind]> } = {
  ec2: { label: 'EC2', field: 'ec2Profile', schema: ec2ProfileSchema, fields: Object.keys(ec2ProfileSchema.shape), secrets: ['userData'] },
  ssh: { label: 'SSH', field: 'sshProfile', schema: sshProfileSchema, fields: Object.keys(sshProfileSchema.shape), secrets: [] },
};
/** What a PUT takes (a secret field may be absent: keep it). */
interface ProfileBodies {
  ec2: z.output<typeof ec2ProfileSchema>;
  ssh: z.output<typeof sshProfileSchema>;
}
/** What is stored (every field has its value). */
interface StoredBodies {
  ec2: Omit<Ec2Profile, 'name'>;
  ssh: z.output<typeof sshProfileSchema>;
}
/** What the API and UI read: secrets summarised. */
interface ViewBodies {
  ec2: Summarised<StoredBodies['ec2'], 'userData'>;
  ssh: StoredBodies['ssh'];
}
interface ProfileKindInfo<Body> {
  label: string;
  /** The cluster's (and a deployment's) field naming a profile of this kind. */
  field: 'ec2Profile' | 'sshProfile';
  schema: $ZodType<Body>;
  /** The schema's fields, in order: the stored columns and the JSON the API answers. */
  fields: readonly string[];
  /** Its write-only fields: set through a PUT, read only as a SecretSummary. */
  secrets: readonly string[];
}
export type ProfileKind = keyof ProfileBodies;
export const profileKindNames = Object.keys(profileKinds) as ProfileKind[];
/** A PUT's body. */
export type ProfileBody<Kind extends ProfileKind> = ProfileBodies[Kind];
/** A PUT's profile: its name and body. */
export type ProfileInput<Kind extends ProfileKind> = { name: string } & ProfileBodies[Kind];
/** A profile as stored, secrets included: for the worker only. */
export type ProfileOf<Kind extends ProfileKind> = { name: string } & StoredBodies[Kind];
/** A profile as the API and UI show it: secrets summarised. */
export type ProfileView<Kind extends ProfileKind> = { name: string } & ViewBodies[Kind];

export interface ClusterRunbook {
  puppetManifest: string | null;
  tomcatScript: string | null;
  deployScript: string | null;
  clusterUpdateScript: string | null;
}

export interface Cluster extends ClusterRunbook {
  name: string;
  minNodes: number;
  maxNodes: number;
  ec2Profile: string;
  sshProfile: string;
  notifyEmail: string | null;
}

export const nodeStates = ['launching', 'configuring', 'active', 'removing'] as const;
export type NodeState = (typeof nodeStates)[number];

export interface NodeRecord {
  cluster: string;
  name: string;
  deploymentId: string;
  state: NodeState;
  ec2Profile: string;
  sshProfile: string;
  instanceId: string | null;
  sshHost: string | null;
  sshPort: number | null;
  privateIp: string | null;
  hostKeySha256: string | null;
  createdAt: string;
}

/** Where and as whom to log in: no secret, only the key's name. */
export interface SshTarget {
  node: string;
  host: string;
  port: number;
  user: string;
  keyRef: string;
  /** The host key learnt at the node's first login (SHA-256, hex); a different key is refused. */
  hostKeySha256?: string | null;
}

/** Waits and timeouts are inputs: production waits minutes, tests milliseconds. */
export interface NodeTimings {
  /** How often waiters poll EC2 and the load balancer. */
  pollMs: number;
  instanceRunningMs: number;
  instanceStatusOkMs: number;
  /** How long to keep trying a real SSH login (Ansible's wait_for_connection waits 600 s). */
  sshReadyMs: number;
  puppetMs: number;
  scriptMs: number;
  targetHealthyMs: number;
  targetDrainedMs: number;
  instanceTerminatedMs: number;
  /** Compensations retry until they succeed, at most this long apart (an outage never leaves an instance behind). */
  compensationRetryMaxMs: number;
}

export const defaultNodeTimings: NodeTimings = {
  pollMs: 15_000,
  instanceRunningMs: 10 * 60_000,
  instanceStatusOkMs: 10 * 60_000,
  sshReadyMs: 10 * 60_000,
  puppetMs: 30 * 60_000,
  scriptMs: 15 * 60_000,
  targetHealthyMs: 10 * 60_000,
  targetDrainedMs: 10 * 60_000,
  instanceTerminatedMs: 10 * 60_000,
  compensationRetryMaxMs: 60_000,
};

/** The steps of the new-node runbook, in order: the seed's table, with registration after configuration. */
export const deploySteps = [
  { name: 'reserve', label: 'Check cluster bounds and reserve a node name' },
  { name: 'launch', label: 'Launch the EC2 instance' },
  { name: 'wait-running', label: 'Wait until the instance is running' },
  { name: 'wait-status-ok', label: 'Wait until instance status checks pass' },
  { name: 'ssh-ready', label: 'Wait for an SSH login' },
  { name: 'os-configuration', label: 'Operating system configuration (puppet apply)' },
  { name: 'tomcat', label: 'Tomcat configuration' },
  { name: 'app-deploy', label: 'Application deployment' },
  { name: 'lb-register', label: 'Register with the load balancer' },
  { name: 'lb-healthy', label: 'Wait until the target is healthy' },
  { name: 'cluster-update', label: 'Cluster update' },
  { name: 'notify', label: 'Email notification' },
] as const;

export const removeSteps = [
  { name: 'check', label: 'Check cluster bounds and mark the node as removing' },
  { name: 'lb-deregister', label: 'Deregister from the load balancer' },
  { name: 'lb-drained', label: 'Wait until the target has drained' },
  { name: 'terminate', label: 'Terminate the EC2 instance' },
  { name: 'wait-terminated', label: 'Wait until the instance is terminated' },
  { name: 'cluster-update', label: 'Cluster update' },
  { name: 'notify', label: 'Email notification' },
] as const;

export type StepStatus = 'pending' | 'running' | 'done' | 'skipped' | 'failed' | 'compensated' | 'compensation-failed';

export interface StepProgress {
  name: string;
  label: string;
  status: StepStatus;
  startedAt?: string;
  endedAt?: string;
  detail?: string;
  error?: string;
}

export interface RunbookStatus {
  kind: 'deploy' | 'remove';
  cluster: string;
  node: string | null;
  instanceId: string | null;
  state: 'running' | 'succeeded' | 'rolling-back' | 'rolled-back' | 'failed';
  steps: StepProgress[];
  /** The step that failed and why, once one has. */
  failure?: { step: string; message: string };
}

export const runbookStatusQuery = defineQuery<RunbookStatus>('runbookStatus');

export interface RunbookResult {
  cluster: string;
  node: string;
  instanceId: string | null;
}

// Notify addresses: the API, the UI and the email activity hold them to one allowlist
// (NOTIFY_ALLOWED_DOMAINS, runtime configuration: never part of a workflow's input).

/** One plain address (no list, display name, quotes, `%` or `!` routes): its domain, lower-cased. */
const PLAIN_ADDRESS = /^[A-Za-z0-9_'+.-]+@([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)$/;

/** True when `domain` is one of `allowed`: an exact name, or `*.example.com` for any subdomain of example.com. */
export function isAllowedMailDomain(domain: string, allowed: readonly string[]): boolean {
  const name = domain.toLowerCase();
  return allowed.some((entry) => {
    const pattern = entry.toLowerCase();
    return pattern.startsWith('*.') ? name.endsWith(pattern.slice(1)) : name === pattern;
  });
}

/** Why `address` may not be mailed (`BadAddress` or `AddressNotAllowed`, and a message), or undefined when it may. */
export function notifyAddressProblem(address: string, allowed: readonly string[]): { type: 'BadAddress' | 'AddressNotAllowed'; message: string } | undefined {
  const domain = PLAIN_ADDRESS.exec(address)?.[1];
  if (domain === undefined) return { type: 'BadAddress', message: `${JSON.stringify(address)} is not one plain email address` };
  if (isAllowedMailDomain(domain, allowed)) return undefined;
  return { type: 'AddressNotAllowed', message: `${domain.toLowerCase()} is not in NOTIFY_ALLOWED_DOMAINS (allowed: ${allowed.join(', ') || 'none'})` };
}

// DistributedScript (and LocalScript on one node).

/** Fail fast; run every node and then fail; or succeed while at most a fraction of nodes failed. */
export const failurePolicies = ['fail-fast', 'continue', 'tolerate'] as const;
export type FailurePolicy = (typeof failurePolicies)[number];

export const MAX_SCRIPT_PARALLELISM = 50;
export const MAX_SCRIPT_BYTES = 64 * 1024;
/** Output kept per stream and node (in MySQL, table script_outputs); the rest is cut (and says so). */
export const MAX_OUTPUT_BYTES = 16 * 1024;
/** The end of each stream a script run's workflow keeps (its payloads stay small whatever nodes print). */
export const OUTPUT_TAIL_BYTES = 512;

export type NodeOutcome = 'pending' | 'running' | 'succeeded' | 'failed' | 'timed-out' | 'unreachable' | 'skipped';

export interface CommandResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** True when stdout or stderr was cut at MAX_OUTPUT_BYTES. */
  truncated: boolean;
  timedOut: boolean;
  durationMs: number;
  /** The server's host key (SHA-256, hex). */
  hostKeySha256: string;
}

export interface NodeScriptResult {
  node: string;
  outcome: NodeOutcome;
  exitCode: number | null;
  /** In the workflow, the last OUTPUT_TAIL_BYTES of each stream; the script-run views put the stored output here. */
  stdout: string;
  stderr: string;
  /** What the node printed on each stream, in bytes (absent before the run's output went to MySQL). */
  stdoutBytes?: number;
  stderrBytes?: number;
  truncated: boolean;
  durationMs: number | null;
  error?: string;
}

export interface ScriptRunStatus {
  cluster: string;
  runId: string;
  parallelism: number;
  failurePolicy: FailurePolicy;
  toleratedFailureFraction: number;
  state: 'running' | 'succeeded' | 'partial' | 'failed';
  nodes: NodeScriptResult[];
  startedAt: string;
  endedAt?: string;
}

export const scriptRunStatusQuery = defineQuery<ScriptRunStatus>('scriptRunStatus');

/** A node that failed in any way is counted against the policy (unreachable is a failure too). */
export const failedOutcomes: readonly NodeOutcome[] = ['failed', 'timed-out', 'unreachable'];

/** The verdict of a finished run under its policy: `partial` means some failed within tolerance. */
export function scriptRunVerdict(results: NodeScriptResult[], policy: FailurePolicy, toleratedFraction: number): 'succeeded' | 'partial' | 'failed' {
  const failed = results.filter((r) => failedOutcomes.includes(r.outcome) || r.outcome === 'skipped').length;
  if (failed === 0) return 'succeeded';
  if (policy !== 'tolerate') return 'failed';
  return failed / Math.max(1, results.length) <= toleratedFraction ? 'partial' : 'failed';
}

// Requests: what the API and the UI take, and what the workflows check at start (the same fields,
// so `temporal workflow start --input` is held to the API's rules).

const scriptText = optionalText(MAX_SCRIPT_BYTES);
const boundsInOrder = () => z.refine<{ minNodes: number; maxNodes: number }>((c) => c.minNodes <= c.maxNodes, { message: 'must not exceed maxNodes', path: ['minNodes'] });
const clusterFields = {
  minNodes: z._default(wholeNumber(0, MAX_NODE_NUMBER), 0),
  maxNodes: wholeNumber(1, MAX_NODE_NUMBER),
  ec2Profile: profileNameSchema,
  sshProfile: profileNameSchema,
  notifyEmail: z.pipe(z.optional(z.nullable(z.email())), z.transform((v) => v ?? null)),
  puppetManifest: scriptText,
  tomcatScript: scriptText,
  deployScript: scriptText,
  clusterUpdateScript: scriptText,
};
/** A new cluster (POST /api/clusters). */
export const clusterSchema = z.strictObject({ name: clusterNameSchema, ...clusterFields }).check(boundsInOrder());
/** A cluster's new settings (PUT /api/clusters/<name>). */
export const clusterUpdateSchema = z.strictObject(clusterFields).check(boundsInOrder());

const timingMs = z.optional(wholeNumber(1));
export const timingsSchema = z.strictObject({
  pollMs: timingMs,
  instanceRunningMs: timingMs,
  instanceStatusOkMs: timingMs,
  sshReadyMs: timingMs,
  puppetMs: timingMs,
  scriptMs: timingMs,
  compensationRetryMaxMs: timingMs,
  targetHealthyMs: timingMs,
  targetDrainedMs: timingMs,
  instanceTerminatedMs: timingMs,
} satisfies Record<keyof NodeTimings, typeof timingMs>);

export const deploymentIdSchema = z.string().check(z.regex(new RegExp(`^${RUN_KEY}$`), 'must be 1 to 64 letters, digits, dots, dashes or underscores'));
const deploymentFields = {
  /** Override the cluster's profiles, as PyScaler's DeployEc2Node action could. */
  ec2Profile: z.optional(profileNameSchema),
  sshProfile: z.optional(profileNameSchema),
  /** Who is told how it went (default: the cluster's notify address). */
  notify: z.optional(z.email()),
  timings: z.optional(timingsSchema),
};
/** A deployment asked of the API (the cluster is in the path; a deployment ID is made up when absent). */
export const deploySchema = z.strictObject({ deploymentId: z.optional(deploymentIdSchema), ...deploymentFields });
export const deployNodeInputSchema = z.strictObject({
  cluster: clusterNameSchema,
  /** The business key of this deployment (also the EC2 ClientToken's and the node row's). */
  deploymentId: deploymentIdSchema,
  ...deploymentFields,
});
export type DeployNodeInput = z.input<typeof deployNodeInputSchema>;

/** A registered node's deployment ID starts so: it was never launched, and has no instance to terminate. */
export const REGISTERED_DEPLOYMENT_PREFIX = 'registered-';
export const isRegisteredNode = (node: Pick<NodeRecord, 'deploymentId'>) => node.deploymentId.startsWith(REGISTERED_DEPLOYMENT_PREFIX);
const hostnamePattern = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^[0-9A-Fa-f:]+$/;
/** An existing host added to a cluster as an active node (POST /api/clusters/<name>/nodes/register). */
export const registerNodeSchema = z.strictObject({
  hostname: z.string().check(z.maxLength(253), z.regex(hostnamePattern, 'must be a host name or an IP address')),
  /** Its SSH port (default: the SSH profile's, else 22). */
  port: z.optional(wholeNumber(1, 65535)),
  /** Who logs in (default: the cluster's SSH profile). */
  sshProfile: z.optional(profileNameSchema),
  /** The host key's SHA-256 (hex) to pin; without it the first login's key is accepted. */
  hostKeySha256: z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in lowercase hex'))),
});

const removalFields = { notify: z.optional(z.email()), timings: z.optional(timingsSchema) };
/** A removal asked of the API (cluster and node are in the path). */
export const removeSchema = z.strictObject(removalFields);
export const removeNodeInputSchema = z.strictObject({ cluster: clusterNameSchema, node: nodeNameSchema, ...removalFields });
export type RemoveNodeInput = z.input<typeof removeNodeInputSchema>;

const scriptFields = {
  script: z.string().check(z.minLength(1), z.maxLength(MAX_SCRIPT_BYTES)),
  parallelism: z._default(wholeNumber(1, MAX_SCRIPT_PARALLELISM), 10),
  failurePolicy: z._default(z.enum(failurePolicies), 'continue'),
  /** With `tolerate`: the fraction of nodes (0–1) that may fail while the run still succeeds. */
  toleratedFailureFraction: z.optional(z.number().check(z.minimum(0), z.maximum(1))),
  /** Only these nodes (a re-run on the failed ones); default every active node. */
  nodes: z.optional(z.array(z.string().check(z.minLength(1), z.maxLength(48))).check(z.minLength(1), z.maxLength(MAX_NODE_NUMBER))),
  nodeTimeoutMs: z.optional(wholeNumber(1, 24 * 3600_000)),
};
const toleranceOnlyWhenTolerated = () =>
  z.refine<{ failurePolicy: FailurePolicy; toleratedFailureFraction?: number }>((s) => s.failurePolicy === 'tolerate' || s.toleratedFailureFraction === undefined, {
    message: 'toleratedFailureFraction applies only to failurePolicy "tolerate"',
    path: ['toleratedFailureFraction'],
  });
/** A script run asked of the API (the cluster is in the path). */
export const scriptSchema = z.strictObject(scriptFields).check(toleranceOnlyWhenTolerated());
export const distributedScriptInputSchema = z
  .strictObject({ cluster: clusterNameSchema, runId: z.string().check(z.minLength(1), z.maxLength(64)), ...scriptFields })
  .check(toleranceOnlyWhenTolerated());
export type DistributedScriptInput = z.input<typeof distributedScriptInputSchema>;
