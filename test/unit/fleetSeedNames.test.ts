// The names the supervisor checks before it skips the seeding (scripts/fleetPrepared.ts) are the
// names the seeding makes (scripts/localFleet.ts): a trigger or counter seeded under another name
// would be missing from the check, and a start would skip seeding it.
import { describe, expect, it } from 'vitest';
import { seededNames } from '../../scripts/fleetPrepared.ts';
import { exampleTriggers, fractalTriggers, EXAMPLE_COUNTER, FRACTAL_BACKLOG_COUNTER } from '../../scripts/localFleet.ts';

describe('the seeded names the supervisor checks', () => {
  it('are the triggers and counters the seeding makes', () => {
    const triggers = [...Object.values(exampleTriggers({ notify: 'ops@fleet.local' })), ...Object.values(fractalTriggers({ notify: 'ops@fleet.local' }))];
    const triggerNames = [...Object.keys(exampleTriggers({ notify: 'ops@fleet.local' })), ...Object.keys(fractalTriggers({ notify: 'ops@fleet.local' }))];
    const names = seededNames(true);
    expect([...names.triggers].sort()).toEqual(triggerNames.sort());
    expect([...names.counters].sort()).toEqual([...new Set(triggers.flatMap((trigger) => trigger.counters))].sort());
    expect([...names.counters].sort()).toEqual([EXAMPLE_COUNTER, FRACTAL_BACKLOG_COUNTER].sort());
    expect(new Set(triggers.map((trigger) => trigger.cluster))).toEqual(new Set(names.clustersWithNodes));
  });

  it('check only the clusters and profiles when the stack seeds no autoscaling', () => {
    expect(seededNames(false)).toMatchObject({ clustersWithNodes: [], counters: [], triggers: [] });
  });
});
