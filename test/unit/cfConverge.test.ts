// cfConverge with stub activities over an in-memory foundation: observe → plan → apply rounds
// until nothing is left to do, and a failure naming the apps that never converged after maxRounds.
import { describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { CfConvergeActivities } from '../../activities/cf/converge.ts';
import { cfConverge } from '../../workflows/cfConverge.ts';
import { CF_FOREIGN_ORIGIN_FAILURE, type AppAction, type AppOutcome, type ConvergeInput, type ConvergeProgress, type ObservedApp } from '../../workflows/cfConverge.shared.ts';
import { useWorkflowTestEnvironment } from './support/workflowEnv.ts';

const { runWorkflow } = useWorkflowTestEnvironment();

const desired: ConvergeInput = { kinds: [{ kind: 'web', count: 3, instances: 2 }], prefix: 'scale-' };

/**
 * A space that starts empty (observing creates its org and space: 2 mutating calls) and applies
 * plans as Cloud Foundry would, except that starting `stuckApp` fails in the first `startFailsInRounds`
 * rounds. Every action attempted counts as one mutating call.
 */
function stubFoundation(options: { stuckApp: string; startFailsInRounds: number }) {
  const apps = new Map<string, ObservedApp>();
  let round = 0;
  const applied: { round: number; apps: string[] }[] = [];
  const activities: Partial<CfConvergeActivities> = {
    async observeFoundation() {
      round++;
      return {
        organizationGuid: 'org-1', spaceGuid: 'space-1', domain: { guid: 'domain-1', name: 'apps.test' },
        apps: [...apps.values()].map((app) => ({ ...app })),
        mutatingCalls: round === 1 ? 2 : 0,
      };
    },
    async applyApps(input) {
      applied.push({ round, apps: input.apps.map((a) => `${a.name}:${a.actions.join('+')}`) });
      let mutatingCalls = 0;
      const outcomes: AppOutcome[] = input.apps.map((plan) => {
        const app = apps.get(plan.name) ?? { name: plan.name, guid: `guid-${plan.name}`, state: 'STOPPED', instances: 1, dropletGuid: null, routed: false };
        const done: AppAction[] = [];
        for (const action of plan.actions) {
          mutatingCalls++;
          if (action === 'start' && plan.name === options.stuckApp && round <= options.startFailsInRounds) {
            return { name: plan.name, ok: false, done, failedAction: action, error: 'CF-InsufficientResources: memory quota exceeded' };
          }
          if (action === 'create') apps.set(plan.name, app);
          if (action === 'push-prototype' || action === 'copy-droplet') app.dropletGuid = 'droplet-web';
          if (action === 'scale') app.instances = plan.instances;
          if (action === 'route') app.routed = true;
          if (action === 'start') app.state = 'STARTED';
          done.push(action);
        }
        return { name: plan.name, ok: true, done, ...(plan.actions.includes('push-prototype') ? { dropletGuid: 'droplet-web' } : {}) };
      });
      return { outcomes, mutatingCalls };
    },
  };
  return { activities, applied, rounds: () => round };
}

describe('cfConverge (stub activities)', () => {
  it('repeats observe → plan → apply until the space matches, and reports the rounds and mutations it took', async () => {
    const foundation = stubFoundation({ stuckApp: 'scale-web-2', startFailsInRounds: 2 });
    const result = await runWorkflow(cfConverge, { args: [desired], activities: foundation.activities });

    expect(result.status).toBe('converged');
    expect(result.round).toBe(3);
    expect(foundation.rounds()).toBe(3);
    expect(foundation.applied).toEqual([
      { round: 1, apps: ['scale-web-0:create+push-prototype+scale+route+start', 'scale-web-1:create+copy-droplet+scale+route+start', 'scale-web-2:create+copy-droplet+scale+route+start'] },
      { round: 2, apps: ['scale-web-2:start'] },
      { round: 3, apps: ['scale-web-2:start'] },
    ]);
    // 2 to create the org and space, 15 actions in round 1, one start in each later round.
    expect(result.mutatingCalls).toBe(19);
    expect(result.plan?.counts).toMatchObject({ create: 3, 'push-prototype': 1, 'copy-droplet': 2, scale: 3, route: 3, start: 3, delete: 0 });
    expect(result.failures).toEqual([]);
  });

  it('fails after maxRounds with the apps that never converged and what failed for each', async () => {
    const foundation = stubFoundation({ stuckApp: 'scale-web-2', startFailsInRounds: Infinity });
    const failure = await runWorkflow(cfConverge, { args: [{ ...desired, maxRounds: 2 }], activities: foundation.activities }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause.type).toBe('ConvergenceFailed');
    expect(cause.message).toBe('1 apps did not converge after 2 rounds: scale-web-2 (start): CF-InsufficientResources: memory quota exceeded');
    expect(foundation.rounds()).toBe(2);
    const progress = cause.details?.[0] as ConvergeProgress;
    expect(progress).toMatchObject({ status: 'failed', round: 2, mutatingCalls: 2 + 15 + 1 });
    expect(progress.failures.map((f) => f.name)).toEqual(['scale-web-2']);
  });

  it("takes the seed's parameter file: the quota and ASG are applied once, before any app, and count in the plan", async () => {
    const foundation = stubFoundation({ stuckApp: 'none', startFailsInRounds: 0 });
    const calls: string[] = [];
    let settingsApplied = false;
    const activities: Partial<CfConvergeActivities> = {
      async observeFoundation(input) {
        calls.push(`observe ${input.quota} ${input.securityGroup} ${input.singleApps?.join(',')}`);
        const observed = await foundation.activities.observeFoundation!(input);
        const quota = settingsApplied ? { guid: 'q', name: 'scale-quota', apps: { total_memory_in_mb: 1_024_000, per_process_memory_in_mb: null, total_instances: null }, services: { total_service_instances: 100 }, routes: { total_routes: 20_000, total_reserved_ports: null }, organizationGuids: ['org-1'] } : null;
        const rules = [1, 2].map((i) => ({ protocol: 'tcp' as const, destination: `169.254.0.${i}`, ports: '80' }));
        return { ...observed, quota, securityGroup: settingsApplied ? { guid: 'sg', name: 'scale-asg', rules, runningSpaceGuids: ['space-1'] } : null };
      },
      async applyOrgSettings(input) {
        calls.push(`settings ${input.quota?.actions.join('+')} ${input.securityGroup?.actions.join('+')}`);
        settingsApplied = true;
        return { mutatingCalls: 4 };
      },
      async applyApps(input) {
        calls.push(`apps ${input.apps.length}`);
        return foundation.activities.applyApps!(input);
      },
    };
    const seedParams = { proxy_instances: 1, proxy_applications: 2, test_app_instances: 1, test_applications: 2, prefix: 'scale-', asg_size: 2 };
    const result = await runWorkflow(cfConverge, { args: [seedParams], activities });

    expect(result.status).toBe('converged');
    expect(calls).toEqual(['observe scale-quota scale-asg scale-registry', 'settings create+apply create+bind', 'apps 5']);
    expect(result.plan).toMatchObject({ quota: { actions: ['create', 'apply'] }, securityGroup: { actions: ['create', 'bind'] }, counts: { create: 5 } });
    expect(result.settingsDone).toEqual({ quota: true, securityGroup: true });
  });

  it.each(['observeFoundation', 'applyApps'] as const)('fails at once when %s refuses a URL on another origin: the retry policy never retries it', async (failing) => {
    const foundation = stubFoundation({ stuckApp: 'none', startFailsInRounds: 0 });
    let attempts = 0;
    // Thrown as retryable on purpose: the workflow's retry policy is what must stop it.
    const refuse = () => {
      attempts++;
      throw ApplicationFailure.retryable('Refused to follow job Location http://foreign.test/v3/jobs/1', CF_FOREIGN_ORIGIN_FAILURE);
    };
    const activities = { ...foundation.activities, [failing]: refuse };
    const failure = await runWorkflow(cfConverge, { args: [desired], activities }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const activityFailure = (failure as WorkflowFailedError).cause as ActivityFailure;
    expect(activityFailure).toBeInstanceOf(ActivityFailure);
    expect(activityFailure.cause).toMatchObject({ type: CF_FOREIGN_ORIGIN_FAILURE, message: 'Refused to follow job Location http://foreign.test/v3/jobs/1' });
    expect(attempts).toBe(1);
  });
});
