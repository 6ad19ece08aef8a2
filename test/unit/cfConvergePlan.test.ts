// computePlan on ownership and updates: an app holding one of our names without our owner label is
// a conflict (never planned), `adopt` takes unlabelled ones over, and apps whose annotations record
// other digests than their kind's are updated (env, droplet from a new prototype push or a copy).
import { describe, expect, it } from 'vitest';
import { computePlan, settingsFrom, type ConvergeInput, type KindDigests, type ObservedApp } from '../../workflows/cfConverge.shared.ts';

const current: KindDigests = { env: 'env-2', bits: 'bits-2' };

/** `digests: null` observes without digests (as before this product recorded them). */
function plan(input: Partial<ConvergeInput>, apps: ObservedApp[], digests: Record<string, KindDigests> | null = { a: current }) {
  const settings = settingsFrom({ prefix: 'p-', kinds: [{ kind: 'a', count: 3, instances: 1 }], ...input });
  return computePlan(settings, { organizationGuid: 'o', spaceGuid: 's', domain: { guid: 'd', name: 'apps.test' }, apps, ...(digests ? { digests } : {}) });
}

/** A converged app of ours, recording `digests` in its annotations. */
const converged = (index: number, digests: KindDigests = current, extra: Partial<ObservedApp> = {}): ObservedApp => ({
  name: `p-a-${index}`, guid: `g${index}`, state: 'STARTED', instances: 1, dropletGuid: `drop${index}`, routed: true,
  ownership: 'ours', envDigest: digests.env, bitsDigest: digests.bits, ...extra,
});

describe('convergence plan: ownership', () => {
  it('reports an unlabelled app holding one of our names as a conflict, plans nothing for it, and pushes the prototype to the next free name', () => {
    const foreign: ObservedApp = { name: 'p-a-0', guid: 'foreign', state: 'STOPPED', instances: 0, dropletGuid: null, routed: false, ownership: 'unlabelled' };
    const result = plan({}, [foreign]);
    expect(result.conflicts).toEqual([{ name: 'p-a-0', guid: 'foreign', reason: expect.stringMatching(/^has no fleet\.converge\/owner label: .*"adopt": true/) }]);
    // New apps are scaled even at 1 instance: the scale gives builtin bits their 32 MB of memory and disk.
    expect(result.apps.map((a) => [a.name, a.actions])).toEqual([
      ['p-a-1', ['create', 'push-prototype', 'scale', 'route', 'start']],
      ['p-a-2', ['create', 'copy-droplet', 'scale', 'route', 'start']],
    ]);
    expect(result.prototypes).toEqual([{ kind: 'a', app: 'p-a-1', bits: 'builtin:a' }]);
    expect(result.apps.some((a) => a.guid === 'foreign')).toBe(false);
  });

  it('never deletes a foreign app beyond the count, and reports another owner’s app too', () => {
    const result = plan({ kinds: [{ kind: 'a', count: 1, instances: 1 }] }, [
      converged(0),
      { name: 'p-a-4', guid: 'unlabelled', state: 'STARTED', instances: 1, dropletGuid: 'x', routed: true, ownership: 'unlabelled' },
      { name: 'p-a-5', guid: 'theirs', state: 'STARTED', instances: 1, dropletGuid: 'y', routed: true, ownership: 'other-owner' },
      converged(6),
    ]);
    expect(result.apps.map((a) => [a.name, a.actions])).toEqual([['p-a-6', ['delete']]]);
    expect(result.conflicts.map((c) => [c.guid, c.reason])).toEqual([
      ['unlabelled', expect.stringContaining('has no fleet.converge/owner label')],
      ['theirs', 'carries another fleet.converge/owner label'],
    ]);
  });

  it('adopts unlabelled apps when asked: labelled and rolled out to the desired env and bits, copying from a droplet of ours', () => {
    const old = (index: number): ObservedApp => ({ name: `p-a-${index}`, guid: `old${index}`, state: 'STARTED', instances: 1, dropletGuid: `olddrop${index}`, routed: true, ownership: 'unlabelled' });
    const result = plan({ adopt: true }, [converged(0), old(1), old(2), old(7)]);
    expect(result.conflicts.map((c) => c.name)).toEqual(['p-a-7']);
    expect(result.sourceDroplets).toEqual({ a: 'drop0' });
    expect(result.apps.map((a) => [a.name, a.actions, a.update, a.bits])).toEqual([
      ['p-a-1', ['update'], { env: true, bits: true, adopt: true }, undefined],
      ['p-a-2', ['update'], { env: true, bits: true, adopt: true }, undefined],
    ]);
  });
});

describe('convergence plan: updates', () => {
  it('updates only the environment of apps whose env digest differs, and counts them', () => {
    const result = plan({}, [converged(0, { env: 'env-1', bits: 'bits-2' }), converged(1), converged(2, { env: 'env-1', bits: 'bits-2' })]);
    expect(result.apps.map((a) => [a.name, a.actions, a.update])).toEqual([
      ['p-a-0', ['update'], { env: true, bits: false, adopt: false }],
      ['p-a-2', ['update'], { env: true, bits: false, adopt: false }],
    ]);
    expect(result.counts.update).toBe(2);
    expect(result.prototypes).toEqual([]);
  });

  it('pushes changed bits once, to the prototype, and copies the new droplet to the others', () => {
    const stale = { env: 'env-2', bits: 'bits-1' };
    const result = plan({}, [converged(0, stale), converged(1, stale), converged(2, stale)]);
    expect(result.sourceDroplets).toEqual({});
    expect(result.prototypes).toEqual([{ kind: 'a', app: 'p-a-0', bits: 'builtin:a' }]);
    expect(result.apps.map((a) => [a.name, a.actions, a.update, a.bits])).toEqual([
      ['p-a-0', ['update'], { env: false, bits: true, adopt: false }, 'builtin:a'],
      ['p-a-1', ['update'], { env: false, bits: true, adopt: false }, undefined],
      ['p-a-2', ['update'], { env: false, bits: true, adopt: false }, undefined],
    ]);
  });

  it('copies from an app already rebuilt (a crash after the prototype’s update) instead of pushing again', () => {
    const result = plan({}, [converged(0, { env: 'env-2', bits: 'bits-1' }), converged(1), converged(2, { env: 'env-2', bits: 'bits-1' })]);
    expect(result.prototypes).toEqual([]);
    expect(result.sourceDroplets).toEqual({ a: 'drop1' });
    expect(result.apps.map((a) => [a.name, a.bits])).toEqual([['p-a-0', undefined], ['p-a-2', undefined]]);
  });

  it('plans nothing for apps whose digests match, or when the observation carries no digests', () => {
    expect(plan({}, [converged(0), converged(1), converged(2)]).apps).toEqual([]);
    expect(plan({}, [converged(0, { env: 'x', bits: 'y' }), converged(1), converged(2)], null).apps).toEqual([]);
  });
});
