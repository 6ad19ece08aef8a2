// Vocabulary of clusters and nodes (PyScaler's DeployEc2Node, RemoveEc2Node, OSConfiguration,
// LocalScript, DistributedScript and Email actions). Shared by the workflows, their activities,
// the API, the UI and the tests. Nothing here is a secret: SSH keys travel as references (a key
// name), AWS and SMTP credentials stay in the worker's configuration.
import { defineQuery } from '@temporalio/workflow';

export const NODES_TASK_QUEUE = 'nodes';

/** Cluster names become node names (`web01`) and EC2 tags: a short slug. */
export const CLUSTER_NAME_PATTERN = /^[a-z][a-z0-9-]{0,29}$/;
export const PROFILE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Node names are `<cluster>01` … `<cluster>99`, the first free one, as in the original. */
export const MAX_NODE_NUMBER = 99;

export const deployNodeWorkflowId = (cluster: string, deploymentId: string) => `node-deploy:${cluster}:${deploymentId}`;
/** One removal per node at a time: the workflow ID is the lock. */
export const removeNodeWorkflowId = (cluster: string, node: string) => `node-remove:${cluster}:${node}`;
export const scriptRunWorkflowId = (cluster: string, runId: string) => `script-run:${cluster}:${runId}`;

/** EC2's ClientToken (≤ 64 ASCII characters): one per deployment, so a retried launch is the same launch. */
export const clientTokenFor = (deploymentId: string) => `fleet-${deploymentId}`.slice(0, 64);

/** EC2 tags every node carries from launch: how a retried launch finds the instance it already made. */
export const NODE_TAGS = { deployment: 'fleet:deployment', cluster: 'fleet:cluster', name: 'Name' } as const;

export interface Ec2Profile {
  name: string;
  region: string;
  imageId: string;
  instanceType: string;
  keyName: string | null;
  securityGroups: string[];
  subnetId: string | null;
  /** A target group name or ARN. */
  targetGroup: string;
  /** The port targets are registered on (default: the target group's). */
  targetPort: number | null;
  /** Instance user data. Workflows see only USER_DATA_WITHHELD: it may hold secrets, so the launch reads it itself. */
  userData: string | null;
}

export const USER_DATA_WITHHELD = '(withheld from workflow history)';

export interface SshProfile {
  name: string;
  user: string;
  /** A file name under SSH_KEYS_DIR; the worker reads the key, workflows never see it. */
  keyRef: string;
  port: number | null;
}

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
};

export interface DeployNodeInput {
  cluster: string;
  /** The business key of this deployment (also the EC2 ClientToken's and the node row's). */
  deploymentId: string;
  /** Override the cluster's profiles, as PyScaler's DeployEc2Node action could. */
  ec2Profile?: string;
  sshProfile?: string;
  /** Who is told how it went (default: the cluster's notify address). */
  notify?: string;
  timings?: Partial<NodeTimings>;
}

export interface RemoveNodeInput {
  cluster: string;
  node: string;
  notify?: string;
  timings?: Partial<NodeTimings>;
}

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

// DistributedScript (and LocalScript on one node).

/** Fail fast; run every node and then fail; or succeed while at most a fraction of nodes failed. */
export const failurePolicies = ['fail-fast', 'continue', 'tolerate'] as const;
export type FailurePolicy = (typeof failurePolicies)[number];

export const MAX_SCRIPT_PARALLELISM = 50;
export const MAX_SCRIPT_BYTES = 64 * 1024;
/** Output kept per stream and node; the rest is cut (and says so). */
export const MAX_OUTPUT_BYTES = 16 * 1024;

export interface DistributedScriptInput {
  cluster: string;
  runId: string;
  script: string;
  parallelism: number;
  failurePolicy: FailurePolicy;
  /** With `tolerate`: the fraction of nodes (0–1) that may fail while the run still succeeds. */
  toleratedFailureFraction?: number;
  /** Only these nodes (a re-run on the failed ones); default every active node. */
  nodes?: string[];
  nodeTimeoutMs?: number;
}

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
  stdout: string;
  stderr: string;
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
