// What a trigger's chain needs besides the nodes' and request runs' workflows: its firing (the chain as
// it was when it fired), the cluster's size and newest node, CF scaling, and the CPU-load switch.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { FleetModel } from '../../db/nodes.ts';
import type { Firing, FiringOutcome, TriggerStateStore } from '../../db/triggerStates.ts';
import type { CfClient } from '../cf/client.ts';
import type { CfAppRef } from './collect.ts';
import type { CpuLoadSwitchBody } from '../../workflows/cpuLoad.shared.ts';
import { DEFAULT_FOUNDATION } from '../../workflows/cfConverge.shared.ts';
import { notifyAddressProblem } from '../../workflows/nodes.shared.ts';
import { triggerChainWorkflowId, type Trigger, type TriggerEvents } from '../../workflows/triggers.shared.ts';
import type { Mailer } from '../nodes/email.ts';

export interface ChainActivityDependencies {
  states: TriggerStateStore;
  definitions: { getTrigger(name: string): Promise<Trigger | undefined> };
  fleet: Pick<FleetModel, 'getCluster' | 'listNodes'>;
  /** A CF client for a foundation by name (activities/cf/foundations.ts clientFactory). */
  cfClientFor(foundation: string, signal: AbortSignal): CfClient;
  /** Switches a CPU-load target as the API does (services/cpuLoad.ts). */
  switchCpuLoad(target: string, body: CpuLoadSwitchBody): Promise<unknown>;
  mailer: Mailer;
  /** NOTIFY_ALLOWED_DOMAINS (config.smtp.allowedDomains). */
  notifyAllowedDomains: readonly string[];
}

export interface ClusterSize {
  minNodes: number;
  maxNodes: number;
  /** Nodes counted against the bounds: every node row but those being removed. */
  nodes: number;
  /** The newest active node (the `lastnode` target), if any. */
  newest: string | null;
}


export function createChainActivities(deps: ChainActivityDependencies) {
  async function findApp(ref: CfAppRef): Promise<{ client: CfClient; guid: string }> {
    const client = deps.cfClientFor(ref.foundation ?? DEFAULT_FOUNDATION, Context.current().cancellationSignal);
    const found = await client.findAppByNames(ref);
    if ('missing' in found) throw ApplicationFailure.nonRetryable(`No app ${ref.app} in ${ref.org}/${ref.space}: ${found.missing}.`, 'UnknownApp');
    return { client, guid: found.app.guid };
  }

  return {
    /**
     * The firing this chain run carries out: the scheduled one it was started for, or a manual firing
     * made now (a run started by hand: "Run chain now" or `temporal workflow start`).
     */
    async openTriggerFiring(request: { cluster: string; trigger: string; firingId?: number; runId: string }): Promise<Firing> {
      if (request.firingId !== undefined) return deps.states.openFiring({ firingId: request.firingId, runId: request.runId });
      const trigger = await deps.definitions.getTrigger(request.trigger);
      if (!trigger || trigger.cluster !== request.cluster) throw ApplicationFailure.nonRetryable(`No trigger ${request.trigger} on cluster ${request.cluster}.`, 'UnknownTrigger');
      const context = { trigger: trigger.name, cluster: trigger.cluster, cause: 'manual' as const, firedAt: new Date().toISOString(), values: {}, node: null };
      return deps.states.openFiring({ runId: request.runId, manual: { context, chain: trigger.chain, chainWorkflowId: triggerChainWorkflowId(trigger.cluster, trigger.name) } });
    },

    async closeTriggerFiring(request: { firingId: number; outcome: Exclude<FiringOutcome, 'running'>; detail: string | null }): Promise<void> {
      await deps.states.closeFiring(request.firingId, request.outcome, request.detail);
    },

    async clusterSize(cluster: string): Promise<ClusterSize> {
      const definition = await deps.fleet.getCluster(cluster);
      if (!definition) throw ApplicationFailure.nonRetryable(`No cluster named ${cluster}.`, 'UnknownCluster');
      const nodes = (await deps.fleet.listNodes(cluster)).filter((node) => node.state !== 'removing');
      const active = nodes.filter((node) => node.state === 'active').sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name));
      return { minNodes: definition.minNodes, maxNodes: definition.maxNodes, nodes: nodes.length, newest: active.at(-1)?.name ?? null };
    },

    /** The app's web process instance count now (a change is then set as an absolute count: a retry cannot apply it twice). */
    async cfAppInstances(ref: CfAppRef): Promise<number> {
      const { client, guid } = await findApp(ref);
      return (await client.webStats(guid)).length;
    },

    async scaleCfApp(request: CfAppRef & { instances: number }): Promise<void> {
      const { client, guid } = await findApp(request);
      await client.scaleWeb(guid, request.instances);
    },

    /** Mails a tripped breaker or an unreachable node to the trigger's notify address (or its cluster's); no address, no mail. */
    async notifyTriggerEvents(events: TriggerEvents): Promise<{ mailed: string[] }> {
      const cluster = await deps.fleet.getCluster(events.cluster);
      const lines = new Map<string, string[]>();
      const add = async (trigger: string, line: string) => {
        const to = (await deps.definitions.getTrigger(trigger))?.notify ?? cluster?.notifyEmail;
        if (!to || notifyAddressProblem(to, deps.notifyAllowedDomains)) return;
        lines.set(to, [...(lines.get(to) ?? []), line]);
      };
      for (const trigger of events.tripped) await add(trigger, `Trigger ${trigger} fired more often than its circuit breaker allows, so it disabled itself. Enable it again on its page once the cause is fixed.`);
      for (const { trigger, nodes } of events.unreachable) await add(trigger, `Trigger ${trigger}: no samples from ${nodes.join(', ')} for its whole heldFor; those nodes neither breach nor clear it.`);
      for (const [to, body] of lines) await deps.mailer({ to, subject: `[fleet] triggers on cluster ${events.cluster} need attention`, text: body.join('\n\n') });
      return { mailed: [...lines.keys()] };
    },

    async switchCpuLoad(request: { target: string; state: 'ON' | 'OFF'; ttlSeconds?: number }): Promise<void> {
      await deps.switchCpuLoad(request.target, { state: request.state, ...(request.ttlSeconds === undefined ? {} : { ttlSeconds: request.ttlSeconds }) });
    },
  };
}

export type ChainActivities = ReturnType<typeof createChainActivities>;
