// A trigger's chain: its actions in order, each with its target and on-failure policy (PyScaler's
// triggerExecute, with what it lacked: email sent, failures that stop the chain, bounds checked before
// scaling). The workflow ID is the trigger's lock, so one chain per trigger runs at a time. Node
// deployments, removals and scripts run as the nodes domain's own workflows, so they show in its pages.
import {
  ApplicationFailure,
  CancellationScope,
  executeChild,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ChainActivities } from '../activities/triggers/chain.ts';
import type { NodeActivities } from '../activities/nodes/index.ts';
import { FleetDomain, FleetStatus } from '../temporal/searchAttributes.ts';
import { deployNode } from './deployNode.ts';
import { distributedScript } from './distributedScript.ts';
import { deployNodeWorkflowId, NODES_TASK_QUEUE, removeNodeWorkflowId, scriptRunWorkflowId } from './nodes.shared.ts';
import { removeNode } from './removeNode.ts';
import { requestRun } from './requestRun.ts';
import { REQUEST_RUN_TASK_QUEUE, requestRunWorkflowId } from './requestRun.shared.ts';
import {
  TRIGGERS_TASK_QUEUE,
  triggerChainInputSchema,
  triggerChainStatusQuery,
  type Action,
  type ActionProgress,
  type FiringContext,
  type TriggerChainInput,
  type TriggerChainStatus,
} from './triggers.shared.ts';
import { workflowInput } from './validation.shared.ts';

const chain = proxyActivities<ChainActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '10 seconds', maximumAttempts: 10, nonRetryableErrorTypes: ['UnknownTrigger', 'UnknownCluster', 'UnknownApp', 'UnknownFoundation'] },
});
/** The firing's outcome must be recorded whatever happened: retried until it is. */
const record = proxyActivities<ChainActivities>({ startToCloseTimeout: '30 seconds', retry: { initialInterval: '1 second', maximumInterval: '30 seconds' } });

/**
 * Where the other domains' work goes, seen from this workflow's task queue: `triggers<suffix>` (tests
 * suffix every queue) means `nodes<suffix>` and so on; any other queue is a worker that serves every
 * domain on that one queue (the unit tier's), so everything stays on it.
 */
export function siblingQueues(ownQueue: string): (queue: string) => string {
  if (!ownQueue.startsWith(TRIGGERS_TASK_QUEUE)) return () => ownQueue;
  const suffix = ownQueue.slice(TRIGGERS_TASK_QUEUE.length);
  return (queue) => queue + suffix;
}

/** A skipped action: not a failure (a bound reached, no node to act on). */
class Skipped extends Error {}

/** Fills `{trigger}`, `{cluster}`, `{value}`, `{node}`, `{cause}` and `{firedAt}` (values by counter as `{value:cpu-busy}`). */
export function fillTemplate(text: string, context: FiringContext): string {
  const first = Object.values(context.values)[0];
  const show = (value: number | null | undefined) => (value === null || value === undefined ? 'n/a' : String(Math.round(value * 100) / 100));
  return text.replace(/\{(trigger|cluster|value|node|cause|firedAt)(?::([a-z0-9-]+))?\}/g, (_, name: string, counter?: string) => {
    switch (name) {
      case 'value':
        return show(counter ? context.values[counter] : first);
      case 'node':
        return context.node ?? 'n/a';
      default:
        return String(context[name as 'trigger' | 'cluster' | 'cause' | 'firedAt']);
    }
  });
}

export async function triggerChain(rawInput: TriggerChainInput): Promise<TriggerChainStatus> {
  const input = workflowInput(triggerChainInputSchema, rawInput);
  const info = workflowInfo();
  const queueOf = siblingQueues(info.taskQueue);
  const nodes = proxyActivities<NodeActivities>({
    taskQueue: queueOf(NODES_TASK_QUEUE),
    startToCloseTimeout: '15 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumAttempts: 3, nonRetryableErrorTypes: ['PuppetFailed', 'AddressNotAllowed', 'BadAddress', 'SshKeyMissing', 'SshHostKeyMismatch'] },
  });
  upsertSearchAttributes([{ key: FleetDomain, value: 'triggers' }, { key: FleetStatus, value: 'running' }]);

  const firing = await chain.openTriggerFiring({ cluster: input.cluster, trigger: input.trigger, firingId: input.firingId, runId: info.runId });
  const status: TriggerChainStatus = {
    cluster: input.cluster,
    trigger: input.trigger,
    firingId: firing.id,
    context: firing.context,
    state: 'running',
    actions: firing.chain.map((action, index) => ({ index, kind: action.kind, label: action.label ?? action.kind, status: 'pending' })),
  };
  setHandler(triggerChainStatusQuery, () => status);
  // Keys made by this firing (deployments, script runs): a retried chain makes the same ones.
  const key = (index: number) => `${input.trigger}-f${firing.id}-${index}`;

  /** The nodes an action acts on: the newest (lastnode), every active one (cluster, undefined), or the action's default. */
  const targetNodes = async (action: Action, fallback: 'lastnode' | 'cluster'): Promise<string[] | undefined> => {
    const target = action.target === 'none' ? fallback : action.target;
    if (target === 'cluster') return undefined;
    const newest = (await chain.clusterSize(input.cluster)).newest;
    if (!newest) throw new Skipped('no active node to act on');
    return [newest];
  };

  const run = async (action: Action, index: number, progress: ActionProgress): Promise<string | undefined> => {
    switch (action.kind) {
      case 'deploy-node': {
        const size = await chain.clusterSize(input.cluster);
        if (size.nodes >= size.maxNodes) throw new Skipped(`at maxNodes: ${size.nodes} of ${size.maxNodes} node(s)`);
        const deploymentId = key(index);
        progress.workflowId = deployNodeWorkflowId(input.cluster, deploymentId);
        try {
          const result = await executeChild(deployNode, { workflowId: progress.workflowId, taskQueue: queueOf(NODES_TASK_QUEUE), args: [{ cluster: input.cluster, deploymentId, ...(action.timings ? { timings: action.timings } : {}) }] });
          return `deployed ${result.node}`;
        } catch (error) {
          // Another deployment took the last place meanwhile: the bound holds, the action is skipped.
          if (causeType(error) === 'ClusterAtMax') throw new Skipped(`at maxNodes (${causeMessage(error)})`);
          throw error;
        }
      }
      case 'remove-node': {
        const size = await chain.clusterSize(input.cluster);
        if (size.nodes <= size.minNodes) throw new Skipped(`at minNodes: ${size.nodes} of ${size.minNodes} node(s)`);
        if (!size.newest) throw new Skipped('no active node to remove');
        progress.workflowId = removeNodeWorkflowId(input.cluster, size.newest);
        try {
          await executeChild(removeNode, { workflowId: progress.workflowId, taskQueue: queueOf(NODES_TASK_QUEUE), args: [{ cluster: input.cluster, node: size.newest, ...(action.timings ? { timings: action.timings } : {}) }] });
          return `removed ${size.newest}`;
        } catch (error) {
          if (causeType(error) === 'ClusterAtMin') throw new Skipped(`at minNodes (${causeMessage(error)})`);
          throw error;
        }
      }
      case 'puppet': {
        const targets = await nodes.activeNodeTargets(input.cluster, await targetNodes(action, 'cluster'));
        if (targets.length === 0) throw new Skipped('no active node to configure');
        await Promise.all(targets.map((target) => nodes.applyPuppetManifest({ target, context: { cluster: input.cluster, node: target.node }, manifest: action.manifest, timeoutMs: 15 * 60_000 })));
        return `applied on ${targets.map((t) => t.node).join(', ')}`;
      }
      case 'local-script':
      case 'distributed-script': {
        const only = await targetNodes(action, action.kind === 'local-script' ? 'lastnode' : 'cluster');
        const runId = key(index);
        progress.workflowId = scriptRunWorkflowId(input.cluster, runId);
        const parallelism = action.kind === 'distributed-script' ? action.parallelism : 1;
        const result = await executeChild(distributedScript, {
          workflowId: progress.workflowId,
          taskQueue: queueOf(NODES_TASK_QUEUE),
          args: [{ cluster: input.cluster, runId, script: action.script, parallelism, failurePolicy: 'continue', ...(only ? { nodes: only } : {}) }],
        });
        return `${result.state} on ${result.nodes.length} node(s)`;
      }
      case 'email': {
        await nodes.sendEmail({ to: action.address, subject: fillTemplate(action.title, firing.context), text: fillTemplate(action.content, firing.context) });
        return `mailed ${action.address}`;
      }
      case 'cf-scale': {
        const ref = { foundation: action.foundation, org: action.org, space: action.space, app: action.app };
        const current = action.instances === undefined ? await chain.cfAppInstances(ref) : undefined;
        const instances = action.instances ?? Math.max(0, current! + (action.delta ?? 0));
        await chain.scaleCfApp({ ...ref, instances });
        return `${action.app}: ${current === undefined ? '' : `${current} → `}${instances} instance(s)`;
      }
      case 'cpu-load': {
        await chain.switchCpuLoad({ target: action.loadTarget, state: action.state, ...(action.ttlSeconds === undefined ? {} : { ttlSeconds: action.ttlSeconds }) });
        return `${action.loadTarget} ${action.state}`;
      }
      case 'request-run': {
        const scope = `chain-${input.trigger}`.slice(0, 40);
        progress.workflowId = requestRunWorkflowId(scope);
        const summary = await executeChild(requestRun, {
          workflowId: progress.workflowId,
          taskQueue: queueOf(REQUEST_RUN_TASK_QUEUE),
          args: [{ calls: action.calls, destination: action.url, scope, mode: 'exactly-once', ...(action.concurrency ? { concurrency: action.concurrency } : {}) }],
        });
        return `${summary.counted} of ${action.calls} call(s) counted`;
      }
    }
  };

  let failure: string | undefined;
  try {
    for (const [index, action] of firing.chain.entries()) {
      const progress = status.actions[index]!;
      if (failure) {
        progress.status = 'skipped';
        progress.detail = 'not run: an earlier action failed and stops the chain';
        continue;
      }
      progress.status = 'running';
      progress.startedAt = new Date().toISOString();
      try {
        progress.detail = await run(action, index, progress);
        progress.status = 'succeeded';
      } catch (error) {
        if (error instanceof Skipped) {
          progress.status = 'skipped';
          progress.detail = error.message;
        } else {
          progress.status = 'failed';
          progress.error = describe(error);
          if (action.onFailure === 'stop' || CancellationScope.current().consideredCancelled) failure = `${progress.label} failed: ${progress.error}`;
        }
      } finally {
        progress.endedAt = new Date().toISOString();
      }
    }
  } finally {
    // An action that failed with onFailure `continue` does not fail the chain; one with `stop` does.
    status.state = failure ? 'failed' : 'succeeded';
    upsertSearchAttributes([{ key: FleetStatus, value: failure ? 'failed' : 'succeeded' }]);
    await CancellationScope.nonCancellable(() => record.closeTriggerFiring({ firingId: firing.id, outcome: failure ? 'failed' : 'succeeded', detail: failure ?? summarise(status) }));
  }
  if (failure) throw ApplicationFailure.nonRetryable(failure, 'ChainFailed', status);
  return status;
}

function summarise(status: TriggerChainStatus): string {
  const count = (s: string) => status.actions.filter((a) => a.status === s).length;
  return `${count('succeeded')} succeeded, ${count('skipped')} skipped, ${count('failed')} failed`;
}

/** The first application failure with a type along the cause chain (a child's activity's refusal). */
function typedCause(error: unknown): ApplicationFailure | undefined {
  for (let cause = error; cause instanceof Error; cause = cause.cause) if (cause instanceof ApplicationFailure && cause.type) return cause;
  return undefined;
}
function causeType(error: unknown): string | undefined {
  return typedCause(error)?.type ?? undefined;
}
function causeMessage(error: unknown): string {
  return typedCause(error)?.message ?? String(error);
}
/** The failure's own words: the deepest cause's message (not "Activity task failed" or "Child Workflow execution failed"). */
function describe(error: unknown): string {
  let deepest = error;
  while (deepest instanceof Error && deepest.cause instanceof Error) deepest = deepest.cause;
  return deepest instanceof Error ? deepest.message : String(deepest);
}
