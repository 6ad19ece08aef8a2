// clusters and nodes: the model (clusters, EC2 and SSH profiles), node deployments and
// removals (runbook workflows), scripts over a cluster's nodes, and the local SMTP sink's mailbox.
// Requests arrive parsed with the vocabulary's schemas (workflows/nodes.shared.ts) and are checked
// against the model here, so a bad one gets a 4xx and changes nothing; the workflows check their
// input with the same schemas, and bounds again under a row lock, since this view may be stale.
import { randomUUID } from 'node:crypto';
import type { output } from 'zod/v4/core';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createFleetModel, FleetModelError, type FleetErrorCode } from '../db/nodes.ts';
import { createScriptOutputStore, type ScriptOutput } from '../db/scriptOutputs.ts';
import { cleanupNode, cleanupNodeWorkflowId } from '../workflows/cleanupNode.ts';
import { deployNode } from '../workflows/deployNode.ts';
import { distributedScript } from '../workflows/distributedScript.ts';
import { removeNode } from '../workflows/removeNode.ts';
import * as vocabulary from '../workflows/nodes.shared.ts';
import {
  deployNodeWorkflowId,
  failedOutcomes,
  profileKindNames,
  profileKinds,
  removeNodeWorkflowId,
  runbookStatusQuery,
  runbookWorkflowIdSchema,
  scriptRunStatusQuery,
  scriptRunWorkflowId,
  notifyAddressProblem,
  scriptRunWorkflowIdSchema,
  type Cluster,
  type ProfileKind,
  type ProfileBody,
  type ProfileView,
  type RunbookStatus,
  type ScriptRunStatus,
} from '../workflows/nodes.shared.ts';
import type { Pool } from 'mysql2/promise';
import { parseId, ServiceError, validationError } from './errors.ts';
import { decodePayload, describeOwn, listRecentExecutions, type ExecutionSummary, type WorkflowLinks } from './executions.ts';

export interface NodesApiDependencies {
  temporal: Client;
  mysql: Pool;
  taskQueue: string;
  links: WorkflowLinks;
  /** The local SMTP sink's mailbox URL (http://host:port), when the stack runs one. */
  mailboxUrl?: string;
  /** Domains a notify address may be in (NOTIFY_ALLOWED_DOMAINS); the email activity holds mail to them too. */
  notifyAllowedDomains: readonly string[];
}

const httpStatusOf: Record<FleetErrorCode, 404 | 409 | 422> = {
  UnknownCluster: 404,
  UnknownNode: 404,
  UnknownProfile: 422,
  ClusterAtMax: 409,
  ClusterAtMin: 409,
  AlreadyExists: 409,
  InUse: 409,
};

const snake = (code: string) => code.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();

/** The model's refusals as API errors: unknown things are 404 (422 when named in a body), bounds 409. */
export async function modelCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof FleetModelError) throw new ServiceError(httpStatusOf[error.code], snake(error.code), error.message);
    throw error;
  }
}

export interface RunbookView extends RunbookStatus {
  workflowId: string;
  runId: string;
  execution: string;
  startTime: string;
  closeTime: string | null;
  webUiUrl: string;
}

export interface ScriptRunView extends ScriptRunStatus {
  workflowId: string;
  execution: string;
  webUiUrl: string;
}

/** A node's result with its output as stored in MySQL (the workflow keeps only tails). */
function withStoredOutput(result: vocabulary.NodeScriptResult, stored: ScriptOutput | undefined): vocabulary.NodeScriptResult {
  if (!stored) return result;
  return { ...result, stdout: stored.stdout, stderr: stored.stderr, stdoutBytes: stored.stdoutBytes, stderrBytes: stored.stderrBytes, truncated: stored.stdoutTruncated || stored.stderrTruncated };
}

export function createNodesService(deps: NodesApiDependencies) {
  const model = createFleetModel(deps.mysql);
  const outputs = createScriptOutputStore(deps.mysql);

  async function failureDetails<T>(handle: WorkflowHandle): Promise<T | undefined> {
    const failure = await handle.result().catch((e: unknown) => e);
    const cause = failure instanceof WorkflowFailedError ? failure.cause : undefined;
    return cause instanceof ApplicationFailure ? (cause.details?.[0] as T | undefined) : undefined;
  }

  /** A notify address the caller names must be on the allowlist: 400 naming its field otherwise. */
  function checkNotifyAddress(field: string, address: string | null | undefined): void {
    const problem = address ? notifyAddressProblem(address, deps.notifyAllowedDomains) : undefined;
    if (problem) throw validationError(field, problem.message);
  }

  async function requireCluster(name: string): Promise<Cluster> {
    const cluster = await model.getCluster(name);
    if (!cluster) throw new ServiceError(404, 'unknown_cluster', `No cluster named ${JSON.stringify(name)}.`);
    return cluster;
  }

  return {
    model,

    async clusterDetail(name: string) {
      const cluster = await requireCluster(name);
      return { cluster, nodes: await model.listNodes(name) };
    },

    async putCluster(body: output<typeof vocabulary.clusterSchema>, replace: boolean) {
      checkNotifyAddress('notifyEmail', body.notifyEmail);
      await modelCall(() => model.putCluster(body, { replace }));
      return requireCluster(body.name);
    },

    /** Creates or replaces a profile of either kind (an omitted secret keeps its value); the answer is the profile as stored, secrets summarised. */
    async putProfile<Kind extends ProfileKind>(kind: Kind, name: string, body: ProfileBody<Kind>): Promise<ProfileView<Kind>> {
      await model.putProfile(kind, { name, ...body });
      const stored = await model.getProfile(kind, name);
      if (!stored) throw new ServiceError(409, 'profile_gone', `The ${profileKinds[kind].label} profile ${name} was deleted while being saved.`);
      return stored;
    },

    async startDeployment(clusterName: string, body: output<typeof vocabulary.deploySchema>) {
      checkNotifyAddress('notify', body.notify);
      const cluster = await requireCluster(clusterName);
      for (const kind of profileKindNames) {
        const { field, label } = profileKinds[kind];
        const name = body[field] ?? cluster[field];
        if (!(await model.getProfile(kind, name))) throw new ServiceError(422, 'unknown_profile', `No ${label} profile named ${JSON.stringify(name)}.`, { field });
      }
      const nodes = await model.listNodes(clusterName);
      const deploymentId = body.deploymentId ?? randomUUID();
      const workflowId = deployNodeWorkflowId(clusterName, deploymentId);
      if (!nodes.some((n) => n.deploymentId === deploymentId) && nodes.length >= cluster.maxNodes) {
        throw new ServiceError(409, 'cluster_at_max', `Cluster ${clusterName} already has ${nodes.length} node(s), its maximum is ${cluster.maxNodes}.`);
      }
      try {
        const handle = await deps.temporal.workflow.start(deployNode, {
          workflowId,
          taskQueue: deps.taskQueue,
          args: [{ cluster: clusterName, deploymentId, ec2Profile: body.ec2Profile, sshProfile: body.sshProfile, notify: body.notify, timings: body.timings }],
          // The deployment ID is an idempotency key: asking again returns the same deployment.
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
        return { deploymentId, workflowId, runId: handle.firstExecutionRunId, webUiUrl: deps.links.execution(workflowId, handle.firstExecutionRunId) };
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) {
          throw new ServiceError(409, 'deployment_exists', `Deployment ${deploymentId} has already run; pick a new deploymentId.`, { workflowId });
        }
        throw error;
      }
    },

    /** Adds an existing host to the cluster as an active node (no launch, no workflow): scripts and counters run on it at once. */
    async registerNode(clusterName: string, body: output<typeof vocabulary.registerNodeSchema>) {
      await requireCluster(clusterName);
      const deploymentId = `${vocabulary.REGISTERED_DEPLOYMENT_PREFIX}${randomUUID()}`;
      return modelCall(() => model.registerNode({ deploymentId, cluster: clusterName, ...body }));
    },

    /**
     * A node a deployment left in `launching` or `configuring`: a cleanupNode workflow terminates its
     * instance (if any) and deletes its row. 409 while its deployment still runs (it cleans up itself).
     */
    async startCleanup(clusterName: string, nodeName: string) {
      await requireCluster(clusterName);
      const node = await model.getNode(clusterName, nodeName);
      if (!node) throw new ServiceError(404, 'unknown_node', `Cluster ${clusterName} has no node named ${JSON.stringify(nodeName)}.`);
      if (node.state !== 'launching' && node.state !== 'configuring') {
        throw new ServiceError(409, 'node_not_stuck', `Node ${nodeName} is ${node.state}: only a node left launching or configuring is cleaned up (remove an active node instead).`);
      }
      const deployment = vocabulary.deployNodeWorkflowId(clusterName, node.deploymentId);
      const running = await deps.temporal.workflow
        .getHandle(deployment)
        .describe()
        .then((d) => d.status.name === 'RUNNING', (error: unknown) => (error instanceof WorkflowNotFoundError ? false : Promise.reject(error)));
      if (running) throw new ServiceError(409, 'deployment_running', `Deployment ${node.deploymentId} of ${nodeName} is still running: cancel it, and it cleans up after itself.`, { workflowId: deployment });
      const profile = await model.getProfile('ec2', node.ec2Profile);
      if (!profile) throw new ServiceError(422, 'unknown_profile', `EC2 profile ${node.ec2Profile} of ${nodeName} no longer exists.`);
      const workflowId = cleanupNodeWorkflowId(clusterName, nodeName);
      const handle = await deps.temporal.workflow.start(cleanupNode, {
        workflowId,
        taskQueue: deps.taskQueue,
        args: [{ cluster: clusterName, node: nodeName, deploymentId: node.deploymentId, region: profile.region, instanceId: node.instanceId }],
        // Asking twice while one runs returns that one.
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      return { workflowId, runId: handle.firstExecutionRunId, webUiUrl: deps.links.execution(workflowId, handle.firstExecutionRunId) };
    },

    async startRemoval(clusterName: string, nodeName: string, body: output<typeof vocabulary.removeSchema>) {
      checkNotifyAddress('notify', body.notify);
      const cluster = await requireCluster(clusterName);
      const node = await model.getNode(clusterName, nodeName);
      if (!node) throw new ServiceError(404, 'unknown_node', `Cluster ${clusterName} has no node named ${JSON.stringify(nodeName)}.`);
      const workflowId = removeNodeWorkflowId(clusterName, nodeName);
      if (node.state === 'active') {
        const active = (await model.listNodes(clusterName)).filter((n) => n.state === 'active').length;
        if (active <= cluster.minNodes) throw new ServiceError(409, 'cluster_at_min', `Cluster ${clusterName} has ${active} active node(s), its minimum is ${cluster.minNodes}.`);
      } else if (node.state !== 'removing') {
        throw new ServiceError(409, 'node_busy', `Node ${nodeName} is ${node.state}: wait for its deployment to finish.`);
      }
      try {
        const handle = await deps.temporal.workflow.start(removeNode, {
          workflowId,
          taskQueue: deps.taskQueue,
          args: [{ cluster: clusterName, node: nodeName, notify: body.notify, timings: body.timings }],
          workflowIdConflictPolicy: 'FAIL',
        });
        return { workflowId, runId: handle.firstExecutionRunId, webUiUrl: deps.links.execution(workflowId, handle.firstExecutionRunId) };
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) throw new ServiceError(409, 'already_running', `Node ${nodeName} is already being removed.`, { workflowId });
        throw error;
      }
    },

    /** A deployment's or removal's steps: its ID by the domain's scheme, its execution of the matching type (404 otherwise). */
    async runbook(workflowId: string): Promise<RunbookView> {
      const type = parseId(runbookWorkflowIdSchema, workflowId).startsWith('node-deploy:') ? deployNode.name : removeNode.name;
      const { description, handle } = await describeOwn(deps.temporal, [type], workflowId);
      const status = (description.status.name === 'FAILED' ? await failureDetails<RunbookStatus>(handle) : undefined) ?? (await handle.query(runbookStatusQuery));
      return {
        ...status,
        workflowId,
        runId: description.runId,
        execution: description.status.name,
        startTime: description.startTime.toISOString(),
        closeTime: description.closeTime?.toISOString() ?? null,
        webUiUrl: deps.links.execution(workflowId, description.runId),
      };
    },

    recentRunbooks: (limit: number, cluster?: string): Promise<ExecutionSummary[]> =>
      listRecentExecutions(deps.temporal, deps.links, { limit, query: 'WorkflowType IN ("deployNode", "removeNode")' }).then((list) => (cluster ? list.filter((e) => e.workflowId.split(':')[1] === cluster) : list)),

    recentScriptRuns: (limit: number, cluster?: string): Promise<ExecutionSummary[]> =>
      listRecentExecutions(deps.temporal, deps.links, { limit, query: 'WorkflowType = "distributedScript"' }).then((list) =>
        cluster ? list.filter((e) => e.workflowId.startsWith(scriptRunWorkflowId(cluster, ''))) : list,
      ),

    async startScript(clusterName: string, body: output<typeof vocabulary.scriptSchema>) {
      await requireCluster(clusterName);
      const targets = await modelCall(() => model.activeNodeTargets(clusterName, body.nodes));
      if (targets.length === 0) throw new ServiceError(422, 'no_active_nodes', `Cluster ${clusterName} has no active node to run the script on.`);
      const runId = randomUUID();
      const workflowId = scriptRunWorkflowId(clusterName, runId);
      const handle = await deps.temporal.workflow.start(distributedScript, {
        workflowId,
        taskQueue: deps.taskQueue,
        args: [{ cluster: clusterName, runId, script: body.script, parallelism: body.parallelism, failurePolicy: body.failurePolicy, toleratedFailureFraction: body.toleratedFailureFraction, nodes: body.nodes, nodeTimeoutMs: body.nodeTimeoutMs }],
      });
      return { runId, workflowId, nodes: targets.map((t) => t.node), webUiUrl: deps.links.execution(workflowId, handle.firstExecutionRunId) };
    },

    /** A script run's nodes: its ID by the domain's scheme, its execution a distributedScript workflow (404 otherwise). */
    async scriptRun(workflowId: string): Promise<ScriptRunView> {
      const { description, handle } = await describeOwn(deps.temporal, [distributedScript.name], parseId(scriptRunWorkflowIdSchema, workflowId));
      const status = (description.status.name === 'FAILED' ? await failureDetails<ScriptRunStatus>(handle) : undefined) ?? (await handle.query(scriptRunStatusQuery));
      const stored = await outputs.forRun(workflowId);
      const nodes = status.nodes.map((result) => withStoredOutput(result, stored.get(result.node)));
      return { ...status, nodes, workflowId, execution: description.status.name, webUiUrl: deps.links.execution(workflowId, description.runId) };
    },

    /** Runs the same script again on the nodes that did not succeed (Ansible's "relaunch on failed hosts"). */
    async rerunFailed(workflowId: string) {
      const previous = await this.scriptRun(workflowId);
      if (previous.execution === 'RUNNING') throw new ServiceError(409, 'still_running', `Script run ${previous.runId} is still running.`);
      const failed = previous.nodes.filter((n) => failedOutcomes.includes(n.outcome) || n.outcome === 'skipped').map((n) => n.node);
      if (failed.length === 0) throw new ServiceError(422, 'nothing_failed', `Every node of script run ${previous.runId} succeeded.`);
      const { input } = await readScriptInput(deps.temporal, workflowId);
      return this.startScript(previous.cluster, { ...input, nodes: failed });
    },

    async mailbox(to?: string) {
      if (!deps.mailboxUrl) throw new ServiceError(404, 'no_local_mailbox', 'Mail goes to a real SMTP server (SMTP_HOST); there is no local mailbox to show.');
      const url = new URL('/messages', deps.mailboxUrl);
      if (to) url.searchParams.set('to', to);
      const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (!response.ok) throw new ServiceError(503, 'mailbox_unavailable', `The SMTP sink answered ${response.status}.`);
      return (await response.json()) as { messages: { id: string; receivedAt: string; from: string; to: string[]; subject: string; text: string }[]; total: number };
    },
  };
}

/** The first run's input of a script run (its script and settings), read back from Temporal's history. */
async function readScriptInput(temporal: Client, workflowId: string) {
  const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const payload = started?.input?.payloads?.[0];
  if (!payload) throw new ServiceError(409, 'no_input', `Script run ${workflowId} has no recorded input.`);
  const input = (await decodePayload<output<typeof vocabulary.scriptSchema>>(temporal, payload))!;
  return { input: { script: input.script, parallelism: input.parallelism, failurePolicy: input.failurePolicy, toleratedFailureFraction: input.toleratedFailureFraction, nodeTimeoutMs: input.nodeTimeoutMs } };
}

export type NodesService = ReturnType<typeof createNodesService>;
