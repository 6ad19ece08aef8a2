// cf-pusher convergence: observe the space, plan the diff, push one prototype per kind, then apply
// the plan in batches with bounded concurrency. Rounds repeat (observe → plan → apply) until
// nothing is left to do, so a re-run, a crash or a pause converges instead of redoing work.
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { CfConvergeActivities } from '../activities/cf/converge.ts';
import { FleetDomain, FleetStatus } from '../temporal/searchAttributes.ts';
import {
  CF_FOREIGN_ORIGIN_FAILURE,
  appActions,
  computePlan,
  convergeInputSchema,
  hasSettingsWork,
  kindAppName,
  convergeProgressQuery,
  ownerOf,
  pauseSignal,
  resumeSignal,
  settingsFrom,
  type AppAction,
  type AppOutcome,
  type ConvergeInput,
  type ConvergePlan,
  type ConvergeProgress,
  type ConvergeResult,
  type ConvergeStatus,
  type PhaseProgress,
} from './cfConverge.shared.ts';
import { workflowInput } from './validation.shared.ts';

// A URL on another origin than the CF API's is refused every time: never retried.
const retry = { maximumAttempts: 5, initialInterval: '1 second', nonRetryableErrorTypes: [CF_FOREIGN_ORIGIN_FAILURE] };
const { observeFoundation, applyOrgSettings } = proxyActivities<CfConvergeActivities>({ startToCloseTimeout: '5 minutes', retry });
const { applyApps } = proxyActivities<CfConvergeActivities>({ startToCloseTimeout: '2 hours', heartbeatTimeout: '30 seconds', retry });

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export async function cfConverge(input: ConvergeInput): Promise<ConvergeResult> {
  const settings = settingsFrom(workflowInput(convergeInputSchema, input));
  const startedAt = new Date().toISOString();

  let status = 'observing' as ConvergeStatus;
  let round = 0;
  let plan: ConvergePlan | null = null;
  let failures: AppOutcome[] = [];
  let outcomes: AppOutcome[] = [];
  let mutatingCalls = 0;
  let paused = false;
  const settingsDone = { quota: false, securityGroup: false };
  const phases = Object.fromEntries(appActions.map((a) => [a, { total: 0, done: 0, failed: 0 }])) as Record<AppAction, PhaseProgress>;
  const progress = (): ConvergeProgress => ({ status, round, plan, phases, outcomes, failures, mutatingCalls, settingsDone });
  const setStatus = (next: ConvergeStatus) => {
    status = next;
    upsertSearchAttributes([{ key: FleetStatus, value: next }]);
  };
  upsertSearchAttributes([{ key: FleetDomain, value: 'cf-converge' }]);
  setHandler(convergeProgressQuery, progress);

  let pauseScope: CancellationScope | undefined;
  setHandler(pauseSignal, () => {
    paused = true;
    pauseScope?.cancel();
  });
  setHandler(resumeSignal, () => {
    paused = false;
  });

  const record = (batch: AppOutcome[]) => {
    for (const outcome of batch) for (const action of outcome.done) phases[action].done++;
    outcomes = [...outcomes.filter((o) => !batch.some((b) => b.name === o.name)), ...batch];
    failures = outcomes.filter((o) => !o.ok);
    for (const action of appActions) phases[action].failed = failures.filter((f) => f.failedAction === action).length;
  };

  try {
    while (round < settings.maxRounds) {
      if (paused) {
        setStatus('paused');
        await condition(() => !paused);
      }
      round++;
      setStatus('observing');
      const observation = await observeFoundation({
        foundation: settings.foundation, org: settings.org, space: settings.space, domain: settings.domain, prefix: settings.prefix,
        kinds: settings.kinds.filter((k) => k.names !== 'single').map((k) => k.kind), specs: settings.kinds,
        singleApps: settings.kinds.filter((k) => k.names === 'single').map((k) => kindAppName(settings.prefix, k, 0)),
        quota: settings.quota?.name, securityGroup: settings.securityGroup?.name, createMissing: !settings.dryRun,
      });
      mutatingCalls += observation.mutatingCalls;
      const roundPlan = computePlan(settings, observation);
      if (plan === null) {
        plan = roundPlan;
        for (const action of appActions) phases[action].total = roundPlan.counts[action];
      }
      if (settings.dryRun) {
        setStatus('planned');
        break;
      }
      if (roundPlan.apps.length === 0 && !hasSettingsWork(roundPlan)) {
        failures = [];
        settingsDone.quota = settingsDone.quota || roundPlan.quota !== null;
        settingsDone.securityGroup = settingsDone.securityGroup || roundPlan.securityGroup !== null;
        setStatus('converged');
        break;
      }

      setStatus('applying');
      // The quota first: the org's default quota may be too small for the apps about to start.
      if (hasSettingsWork(roundPlan)) {
        const applied = await applyOrgSettings({
          foundation: settings.foundation, organizationGuid: observation.organizationGuid!, spaceGuid: observation.spaceGuid!,
          quota: roundPlan.quota, securityGroup: roundPlan.securityGroup,
        });
        mutatingCalls += applied.mutatingCalls;
      }
      settingsDone.quota = roundPlan.quota !== null;
      settingsDone.securityGroup = roundPlan.securityGroup !== null;

      // Prototypes are pushed inside the first batch, so apps are created, scaled and routed while
      // the prototype stages; each copy waits only for its kind's droplet.
      const sourceDroplets = { ...roundPlan.sourceDroplets };
      const apps = roundPlan.apps;

      outcomes = [];
      let applied = 0;
      let interrupted = false;
      for (const batch of chunks(apps, settings.batchSize)) {
        if (paused) {
          // Paused before this batch began (say, while observing): the next round starts after resume.
          interrupted = true;
          round--;
          break;
        }
        pauseScope = new CancellationScope();
        try {
          const result = await pauseScope.run(() =>
            applyApps({
              foundation: settings.foundation, spaceGuid: observation.spaceGuid!, domainGuid: observation.domain.guid, apps: batch,
              sourceDroplets, concurrency: settings.concurrency, pollIntervalMs: settings.pollIntervalMs, waitForRunning: settings.waitForRunning,
              owner: ownerOf(settings.prefix), ...(observation.digests ? { digests: observation.digests } : {}),
            }),
          );
          mutatingCalls += result.mutatingCalls;
          applied += result.outcomes.length;
          record(result.outcomes);
          for (const outcome of result.outcomes) {
            const pushed = outcome.dropletGuid && batch.find((app) => app.name === outcome.name && app.bits);
            if (pushed) sourceDroplets[pushed.kind] = outcome.dropletGuid!;
          }
        } catch (error) {
          // A pause cancels the batch in flight; the next round re-observes what it managed to do.
          if (paused && isCancellation(error) && !CancellationScope.current().consideredCancelled) {
            interrupted = true;
            round--;
            break;
          }
          throw error;
        } finally {
          pauseScope = undefined;
        }
      }
      if (!interrupted && failures.length === 0 && applied === apps.length) {
        setStatus('converged');
        break;
      }
    }
  } catch (error) {
    setStatus(isCancellation(error) ? 'cancelled' : 'failed');
    throw error;
  }

  if (status !== 'converged' && status !== 'planned') {
    setStatus('failed');
    const summary = failures.slice(0, 5).map((f) => `${f.name} (${f.failedAction}): ${f.error}`).join('; ');
    throw ApplicationFailure.nonRetryable(`${failures.length} apps did not converge after ${round} rounds: ${summary}`, 'ConvergenceFailed', progress());
  }
  return { ...progress(), startedAt, endedAt: new Date().toISOString() };
}
