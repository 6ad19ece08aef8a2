// The convergence page without a browser: apps holding our names that are not ours are listed with
// why, and updates appear in the plan summary and as their own phase.
import { describe, expect, it } from 'vitest';
import type { ConvergenceView } from '../../services/cfConverge.ts';
import { ConvergenceDetails } from '../../ui/pages/cfConverge.tsx';
import { appActions, emptyCounts, type ConvergePlan } from '../../workflows/cfConverge.shared.ts';

const plan: ConvergePlan = {
  createOrganization: false, createSpace: false, quota: null, securityGroup: null, prototypes: [], sourceDroplets: {},
  apps: [{ name: 'scale-tick-0', kind: 'tick', guid: 'g0', actions: ['update'], instances: 2, env: {}, route: true, update: { env: true, bits: false, adopt: false } }],
  counts: { ...emptyCounts(), update: 1 },
  conflicts: [{ name: 'scale-tick-1', guid: 'foreign-guid', reason: 'has no fleet.converge/owner label: made by someone else' }],
};
const view: ConvergenceView = {
  workflowId: 'cf-converge-default-scale-org-scale-space', runId: 'r', execution: 'e', startTime: '2026-11-30T00:00:00Z', closeTime: null, error: null, webUiUrl: 'http://ui',
  status: 'applying', round: 1, plan, outcomes: [], failures: [], mutatingCalls: 0, settingsDone: { quota: false, securityGroup: false },
  phases: Object.fromEntries(appActions.map((action) => [action, { total: action === 'update' ? 1 : 0, done: 0, failed: 0 }])) as ConvergenceView['phases'],
};

describe('the convergence page', () => {
  it('lists the conflicts with their GUID and reason, and shows updates as a phase and in the plan', () => {
    const html = String(<ConvergenceDetails view={view} />);
    expect(html).toContain('<table class="apps" data-conflicts="1">');
    expect(html).toMatch(/<tr data-conflict="scale-tick-1"><td>scale-tick-1<\/td><td><code>foreign-guid<\/code><\/td><td>has no fleet.converge\/owner label: made by someone else<\/td><\/tr>/);
    expect(html).toContain('update 1 · 1 conflicts (not ours, untouched)');
    expect(html).toContain('data-phase="update"');
    expect(html).toContain('Update (env, droplet, rolling deployment)');
  });

  it('shows no conflicts table when there are none', () => {
    expect(String(<ConvergenceDetails view={{ ...view, plan: { ...plan, conflicts: [] } }} />)).not.toContain('data-conflicts');
  });
});
