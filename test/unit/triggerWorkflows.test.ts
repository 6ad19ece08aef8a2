// The tick and chain workflows with stub activities on the time-skipping test server: a tick starts
// the chains that fired, and only one per trigger at a time; a chain runs its actions in order, skips
// scale actions at the cluster's bounds, and stops or continues after a failure as each action says.
import { describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import type { Firing } from '../../db/triggerStates.ts';
import type { ClusterSize } from '../../activities/triggers/chain.ts';
import { tickTime, type TickOutcome } from '../../activities/triggers/tick.ts';
import type { Email } from '../../activities/nodes/email.ts';
import { fillTemplate, triggerChain } from '../../workflows/triggerChain.ts';
import { triggerTick } from '../../workflows/triggerTick.ts';
import { scheduledTickTime, triggerChainStatusQuery, triggerChainWorkflowId, type Action, type FiringContext } from '../../workflows/triggers.shared.ts';
import { expectLogLines, signalled, useWorkflowTestEnvironment } from './support/workflowEnv.ts';

const t = useWorkflowTestEnvironment();
expectLogLines(/^Activity failed/);

const context: FiringContext = { trigger: 'scale-out', cluster: 'web', cause: 'schedule', firedAt: '2026-11-30T07:00:00.000Z', values: { 'cpu-busy': 83.456 }, node: 'web02' };
const firingOf = (id: number, chain: Action[], trigger = 'scale-out'): Firing => ({
  id,
  trigger,
  cluster: 'web',
  cause: 'schedule',
  firedAt: context.firedAt,
  context: { ...context, trigger },
  chain,
  chainWorkflowId: triggerChainWorkflowId('web', trigger),
  chainRunId: null,
  outcome: 'running',
  detail: null,
  endedAt: null,
});
const email = (title: string): Action => ({ kind: 'email', target: 'none', onFailure: 'stop', address: 'ops@example.com', title, content: '{trigger} on {cluster}: {value} on {node} ({cause})' });

/** Stubs of the chain's activities, recording what the chain did. */
function chainStubs(firing: Firing, size: Partial<ClusterSize> = {}) {
  const mails: Email[] = [];
  const closed: { firingId: number; outcome: string; detail: string | null }[] = [];
  const scaled: { app: string; instances: number }[] = [];
  return {
    mails,
    closed,
    scaled,
    activities: {
      openTriggerFiring: async () => firing,
      closeTriggerFiring: async (request: { firingId: number; outcome: string; detail: string | null }) => void closed.push(request),
      clusterSize: async (): Promise<ClusterSize> => ({ minNodes: 1, maxNodes: 3, nodes: 2, newest: 'web02', ...size }),
      sendEmail: async (mail: Email) => {
        mails.push(mail);
        return { messageId: `<${mails.length}@test>` };
      },
      cfAppInstances: async () => 2,
      scaleCfApp: async (request: { app: string; instances: number }) => {
        if (request.app === 'broken') throw ApplicationFailure.nonRetryable('CF-ScaleDisabled: scaling is off for this app', 'CfApiError');
        scaled.push({ app: request.app, instances: request.instances });
      },
    },
  };
}

describe('triggerTick (stub activities)', () => {
  it('starts the chain of each trigger that fired, which runs its actions with the firing context filled in', async () => {
    const chain = chainStubs(firingOf(7, [email('{trigger} fired')]));
    t.stubsFor(triggerChainWorkflowId('web', 'scale-out'), chain.activities);
    const outcome: TickOutcome = {
      tickId: 'x', at: context.firedAt, evaluated: 2, triggers: 2, nodes: 2, samples: 4, failedSamples: 0,
      fire: [{ trigger: 'scale-out', firingId: 7, workflowId: triggerChainWorkflowId('web', 'scale-out') }],
      tripped: [], unreachable: [],
    };
    const summary = await t.runWorkflow(triggerTick, { args: [{ cluster: 'web' }], activities: { evaluateTriggerTick: async () => outcome } });
    expect(summary).toMatchObject({ cluster: 'web', evaluated: 2, samples: 4, started: ['scale-out'], suppressed: [], tripped: [] });

    const result = await t.env.client.workflow.getHandle(triggerChainWorkflowId('web', 'scale-out')).result();
    expect(result).toMatchObject({ state: 'succeeded', firingId: 7, actions: [{ kind: 'email', status: 'succeeded', detail: 'mailed ops@example.com' }] });
    expect(chain.mails).toEqual([{ to: 'ops@example.com', subject: 'scale-out fired', text: 'scale-out on web: 83.46 on web02 (schedule)' }]);
    expect(chain.closed).toEqual([{ firingId: 7, outcome: 'succeeded', detail: '1 succeeded, 0 skipped, 0 failed' }]);
  });

  it('evaluates at its scheduled time, read from the ID the schedule gave it (a tick started by hand has none)', async () => {
    const requests: { scheduledAt?: string }[] = [];
    const evaluateTriggerTick = async (request: { scheduledAt?: string }): Promise<TickOutcome> => {
      requests.push(request);
      return { tickId: 'x', at: context.firedAt, evaluated: 0, triggers: 0, nodes: 0, samples: 0, failedSamples: 0, fire: [], tripped: [], unreachable: [] };
    };
    await t.runWorkflow(triggerTick, { args: [{ cluster: 'web' }], workflowId: 'trigger-tick:web-2026-11-30T08:00:10Z', activities: { evaluateTriggerTick } });
    await t.runWorkflow(triggerTick, { args: [{ cluster: 'web' }], workflowId: 'tick-by-hand', activities: { evaluateTriggerTick } });
    expect(requests.map((r) => r.scheduledAt)).toEqual(['2026-11-30T08:00:10.000Z', undefined]);
    // Another cluster's prefix is not this one's.
    expect(scheduledTickTime('trigger-tick:web-2-2026-11-30T08:00:10Z', 'web')).toBeUndefined();
  });

  it('takes the scheduled time as the clock only when it is in the recent past', () => {
    const scheduled = Date.parse('2026-11-30T08:00:10Z');
    // Collection jitter (here 740 ms against a previous tick's 120 ms) no longer moves the evaluation time.
    expect(tickTime('2026-11-30T08:00:10Z', scheduled + 740)).toBe(scheduled);
    expect(tickTime(undefined, scheduled + 740)).toBe(scheduled + 740);
    // A tick that waited over a minute, or a time in the future, is evaluated now.
    expect(tickTime('2026-11-30T08:00:10Z', scheduled + 61_000)).toBe(scheduled + 61_000);
    expect(tickTime('2026-11-30T08:00:10Z', scheduled - 5)).toBe(scheduled - 5);
  });

  it('does not start a second chain while the trigger’s chain runs: the firing is recorded as suppressed', async () => {
    const trigger = 'single-flight';
    const mailing = signalled();
    const release = signalled();
    const running = chainStubs(firingOf(1, [email('first')], trigger));
    const workflowId = triggerChainWorkflowId('web', trigger);
    const closed: { firingId: number; outcome: string }[] = [];
    await t.withWorkflow(triggerChain, {
      args: [{ cluster: 'web', trigger, firingId: 1 }],
      workflowId,
      activities: {
        ...running.activities,
        sendEmail: async () => {
          mailing.resolve();
          await release.promise;
          return { messageId: '<1@test>' };
        },
      },
    }, async (first) => {
      await mailing.promise;
      const outcome: TickOutcome = {
        tickId: 'y', at: context.firedAt, evaluated: 1, triggers: 1, nodes: 1, samples: 1, failedSamples: 0,
        fire: [{ trigger, firingId: 2, workflowId }], tripped: [], unreachable: [],
      };
      const summary = await t.runWorkflow(triggerTick, {
        args: [{ cluster: 'web' }],
        activities: { evaluateTriggerTick: async () => outcome, closeTriggerFiring: async (request: { firingId: number; outcome: string }) => void closed.push(request) },
      });
      expect(summary).toMatchObject({ started: [], suppressed: [trigger] });
      expect(closed).toMatchObject([{ firingId: 2, outcome: 'suppressed' }]);
      release.resolve();
      expect(await first.result()).toMatchObject({ state: 'succeeded', firingId: 1 });
    });
  });

  it('mails a tripped circuit breaker and unreachable nodes', async () => {
    const events: unknown[] = [];
    const outcome: TickOutcome = {
      tickId: 'z', at: context.firedAt, evaluated: 1, triggers: 1, nodes: 2, samples: 1, failedSamples: 1,
      fire: [], tripped: ['flappy'], unreachable: [{ trigger: 'flappy', nodes: ['web02'] }],
    };
    const summary = await t.runWorkflow(triggerTick, {
      args: [{ cluster: 'web' }],
      activities: { evaluateTriggerTick: async () => outcome, notifyTriggerEvents: async (e: unknown) => void events.push(e) },
    });
    expect(summary.tripped).toEqual(['flappy']);
    expect(events).toEqual([{ cluster: 'web', tripped: ['flappy'], unreachable: [{ trigger: 'flappy', nodes: ['web02'] }] }]);
  });
});

describe('triggerChain (stub activities)', () => {
  const run = (trigger: string, firing: Firing, stubs: ReturnType<typeof chainStubs>) =>
    t.runWorkflow(triggerChain, { args: [{ cluster: 'web', trigger, firingId: firing.id }], workflowId: triggerChainWorkflowId('web', trigger), activities: stubs.activities });

  it('skips scale actions at the cluster’s bounds, with the reason, and does not fail for it', async () => {
    const chainOf: Action[] = [
      { kind: 'deploy-node', target: 'none', onFailure: 'stop' },
      { kind: 'remove-node', target: 'none', onFailure: 'stop' },
      email('after the bounds'),
    ];
    const atMax = chainStubs(firingOf(11, chainOf, 'bounds-max'), { nodes: 3, maxNodes: 3, minNodes: 3 });
    const result = await run('bounds-max', firingOf(11, chainOf, 'bounds-max'), atMax);
    expect(result.state).toBe('succeeded');
    expect(result.actions.map((a) => [a.kind, a.status, a.detail])).toEqual([
      ['deploy-node', 'skipped', 'at maxNodes: 3 of 3 node(s)'],
      ['remove-node', 'skipped', 'at minNodes: 3 of 3 node(s)'],
      ['email', 'succeeded', 'mailed ops@example.com'],
    ]);
    expect(atMax.closed).toEqual([{ firingId: 11, outcome: 'succeeded', detail: '1 succeeded, 2 skipped, 0 failed' }]);
  });

  it('skips a lastnode action when the cluster has no active node', async () => {
    const chainOf: Action[] = [{ kind: 'local-script', target: 'lastnode', onFailure: 'stop', script: 'uptime' }];
    const empty = chainStubs(firingOf(12, chainOf, 'no-node'), { nodes: 0, newest: null, minNodes: 0 });
    const result = await run('no-node', firingOf(12, chainOf, 'no-node'), empty);
    expect(result.actions[0]).toMatchObject({ status: 'skipped', detail: 'no active node to act on' });
  });

  it('sets a CF app’s instance count from a change, as an absolute count', async () => {
    const chainOf: Action[] = [{ kind: 'cf-scale', target: 'none', onFailure: 'stop', org: 'o', space: 's', app: 'ticker', delta: 3 }];
    const stubs = chainStubs(firingOf(13, chainOf, 'cf-scale'));
    const result = await run('cf-scale', firingOf(13, chainOf, 'cf-scale'), stubs);
    expect(stubs.scaled).toEqual([{ app: 'ticker', instances: 5 }]);
    expect(result.actions[0]).toMatchObject({ status: 'succeeded', detail: 'ticker: 2 → 5 instance(s)' });
  });

  it('stops at a failed action whose policy is stop: the rest is not run, the chain fails, the firing is recorded as failed', async () => {
    const chainOf: Action[] = [
      { kind: 'cf-scale', target: 'none', onFailure: 'stop', org: 'o', space: 's', app: 'broken', instances: 4 },
      email('never sent'),
    ];
    const stubs = chainStubs(firingOf(14, chainOf, 'stops'));
    const failed = await run('stops', firingOf(14, chainOf, 'stops'), stubs).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(WorkflowFailedError);
    expect((failed as WorkflowFailedError).cause).toMatchObject({ type: 'ChainFailed', message: expect.stringContaining('cf-scale failed: CF-ScaleDisabled') });
    expect(stubs.mails).toEqual([]);
    expect(stubs.closed).toMatchObject([{ firingId: 14, outcome: 'failed', detail: expect.stringContaining('CF-ScaleDisabled') }]);
    const status = await t.env.client.workflow.getHandle(triggerChainWorkflowId('web', 'stops')).query(triggerChainStatusQuery);
    expect(status.actions.map((a) => a.status)).toEqual(['failed', 'skipped']);
  });

  it('applies a Puppet manifest on every active node by default, and on the newest one for lastnode', async () => {
    const chainOf: Action[] = [
      { kind: 'puppet', target: 'none', onFailure: 'stop', manifest: 'notify { "hello": }' },
      { kind: 'puppet', target: 'lastnode', onFailure: 'stop', manifest: 'notify { "newest": }' },
    ];
    const stubs = chainStubs(firingOf(16, chainOf, 'puppet'));
    const applied: { node: string; manifest: string }[] = [];
    const target = (node: string) => ({ node, host: '127.0.0.11', port: 22, user: 'fleet', keyRef: 'local' });
    const activities = {
      ...stubs.activities,
      activeNodeTargets: async (_cluster: string, only?: string[]) => ['web01', 'web02'].filter((n) => !only || only.includes(n)).map(target),
      applyPuppetManifest: async (request: { target: { node: string }; manifest: string }) => {
        applied.push({ node: request.target.node, manifest: request.manifest });
        return { changed: true, durationMs: 1, stdout: '' };
      },
    };
    const result = await t.runWorkflow(triggerChain, { args: [{ cluster: 'web', trigger: 'puppet', firingId: 16 }], workflowId: triggerChainWorkflowId('web', 'puppet'), activities });
    expect(result.actions.map((a) => a.detail)).toEqual(['applied on web01, web02', 'applied on web02']);
    // The nodes of one action are configured side by side, in any order.
    expect(applied.sort((a, b) => a.manifest.localeCompare(b.manifest) || a.node.localeCompare(b.node))).toEqual([
      { node: 'web01', manifest: 'notify { "hello": }' },
      { node: 'web02', manifest: 'notify { "hello": }' },
      { node: 'web02', manifest: 'notify { "newest": }' },
    ]);
  });

  it('goes on after a failed action whose policy is continue, and succeeds', async () => {
    const chainOf: Action[] = [
      { kind: 'cf-scale', target: 'none', onFailure: 'continue', org: 'o', space: 's', app: 'broken', instances: 4 },
      email('sent anyway'),
    ];
    const stubs = chainStubs(firingOf(15, chainOf, 'continues'));
    const result = await run('continues', firingOf(15, chainOf, 'continues'), stubs);
    expect(result.state).toBe('succeeded');
    expect(result.actions.map((a) => a.status)).toEqual(['failed', 'succeeded']);
    expect(stubs.mails.map((m) => m.subject)).toEqual(['sent anyway']);
    expect(stubs.closed).toMatchObject([{ outcome: 'succeeded', detail: '1 succeeded, 0 skipped, 1 failed' }]);
  });
});

describe('fillTemplate', () => {
  it('fills the firing context, a counter’s value by name, and n/a where there is none', () => {
    expect(fillTemplate('{value:cpu-busy}% on {node} at {firedAt}; {value:other}', context)).toBe('83.46% on web02 at 2026-11-30T07:00:00.000Z; n/a');
    expect(fillTemplate('{node} {unknown}', { ...context, node: null })).toBe('n/a {unknown}');
  });
});
