// The trigger pages' logic without a browser: the editors' field lists against the schemas, the chain
// rearranged by Add/Up/Down/Remove, a posted form read back into a valid definition, and how samples
// become ticks, breach bands and chart lines (threshold, bands, markers).
import { describe, expect, it } from 'vitest';
import { safeParse } from 'zod/mini';
import { actionSchema, counterSchema, triggerSchema, type Sample } from '../../workflows/triggers.shared.ts';
import { actionFields, commonActionFields, editorValuesOf, rearranged, storedTriggerValues, triggerBody } from '../../ui/pages/triggers/triggerEditor.tsx';
import { exampleTriggers } from '../../scripts/localFleet.ts';
import { commonCounterFields, counterBody, counterFields } from '../../ui/pages/triggers/counters.tsx';
import { breachBands, ticksOf } from '../../ui/pages/triggers/shared.tsx';
import { LineChart } from '../../ui/components/lineChart.tsx';

const sorted = (names: Iterable<string>) => [...names].sort();

describe('the editors’ fields', () => {
  it('cover every field of every action kind, and no other', () => {
    for (const option of actionSchema.def.options) {
      const kind = option.shape.kind.def.values[0] as keyof typeof actionFields;
      const shape = Object.keys(option.shape).filter((key) => key !== 'kind');
      expect(sorted([...commonActionFields, ...actionFields[kind]].map((f) => f.name)), kind).toEqual(sorted(shape));
    }
  });

  it('cover every field of every counter kind, and no other', () => {
    for (const option of counterSchema.def.options) {
      const kind = option.shape.kind.def.values[0] as keyof typeof counterFields;
      const shape = Object.keys(option.shape).filter((key) => key !== 'kind');
      expect(sorted([...commonCounterFields, ...counterFields[kind]].map((f) => f.name)), kind).toEqual(sorted(shape));
    }
  });
});

describe('the chain editor', () => {
  const form = {
    cluster: 'web',
    'counter.cpu-busy': 'on',
    combine: 'avg',
    comparison: '>',
    threshold: '70.5',
    intervalMs: '10000',
    heldForMs: '30000',
    clearThreshold: '',
    keepFiringForMs: '0',
    cooldownMs: '60000',
    enabled: 'on',
    'circuitBreaker.maxFirings': '5',
    'circuitBreaker.windowMs': '3600000',
    notify: '',
    // Indices as the browser sends them, out of order and with a gap: their order is what counts.
    'chain.10.kind': 'email',
    'chain.10.target': 'none',
    'chain.10.onFailure': 'continue',
    'chain.10.address': 'ops@fleet.test',
    'chain.10.title': '{trigger} fired',
    'chain.10.content': 'line one\r\nline two',
    'chain.2.kind': 'deploy-node',
    'chain.2.target': 'none',
    'chain.2.onFailure': 'stop',
    'chain.2.label': '',
  };

  it('reads the form into a definition the schema takes, chain in index order', () => {
    const body = triggerBody(editorValuesOf(form));
    const parsed = safeParse(triggerSchema, body);
    expect(parsed.success, JSON.stringify(parsed.error)).toBe(true);
    expect(parsed.data).toMatchObject({
      cluster: 'web',
      counters: ['cpu-busy'],
      combine: 'avg',
      comparison: '>',
      threshold: 70.5,
      clearThreshold: null,
      notify: null,
      chain: [
        { kind: 'deploy-node', target: 'none', onFailure: 'stop' },
        { kind: 'email', onFailure: 'continue', address: 'ops@fleet.test', content: 'line one\nline two' },
      ],
    });
    expect(parsed.data!.chain[0]).not.toHaveProperty('label');
  });

  it('adds, moves and removes actions without touching what was typed', () => {
    let values = editorValuesOf({ ...form, newKind: 'local-script' });
    values = rearranged(values, 'add');
    expect(values.chain.map((a) => a.kind)).toEqual(['deploy-node', 'email', 'local-script']);
    values = rearranged(values, 'up:2');
    expect(values.chain.map((a) => a.kind)).toEqual(['deploy-node', 'local-script', 'email']);
    values = rearranged(values, 'down:0');
    expect(values.chain.map((a) => a.kind)).toEqual(['local-script', 'deploy-node', 'email']);
    values = rearranged(values, 'remove:1');
    expect(values.chain.map((a) => a.kind)).toEqual(['local-script', 'email']);
    expect(values.chain[1]!.title).toBe('{trigger} fired');
    // Out of range, or past either end: nothing moves.
    for (const op of ['up:0', 'down:1', 'remove:7', 'up:x']) expect(rearranged(values, op).chain).toEqual(values.chain);
    // An unknown kind is not added.
    expect(rearranged({ ...values, fields: { newKind: 'rm-rf' } }, 'add').chain).toEqual(values.chain);
  });

  it('keeps the seeded scale-out trigger as it is through the editor, its deployment timings (JSON) included', () => {
    const seeded = exampleTriggers({ notify: 'ops@fleet.local' })['web-scale-out']!;
    const values = storedTriggerValues({ name: 'web-scale-out', createdAt: '', updatedAt: '', ...seeded });
    expect(values.chain[0]!.timings).toBe('{"pollMs":1000}');
    const body = safeParse(triggerSchema, triggerBody(values));
    expect(body.success, JSON.stringify(body.error?.issues)).toBe(true);
    expect(body.data!.chain).toEqual(seeded.chain);
    // JSON that does not parse goes as typed: the schema names the field.
    const broken = safeParse(triggerSchema, triggerBody({ ...values, chain: [{ ...values.chain[0]!, timings: '{pollMs' }, values.chain[1]!] }));
    expect(broken.error!.issues[0]!.path).toEqual(['chain', 0, 'timings']);
  });

  it('leaves a number that is not one as typed, so the schema names the field', () => {
    const parsed = safeParse(triggerSchema, triggerBody(editorValuesOf({ ...form, heldForMs: 'soon' })));
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]!.path).toEqual(['heldForMs']);
  });
});

describe('the counter editor', () => {
  it('reads Prometheus labels written as a=b, c=d', () => {
    const body = counterBody({ kind: 'http', comparison: '>', threshold: '1', url: 'http://{host}:9100/metrics', format: 'prometheus', metric: 'node_load1', labels: 'mode=idle, cpu=0', jsonPointer: '' });
    expect(safeParse(counterSchema, body).data).toEqual({ kind: 'http', comparison: '>', threshold: 1, url: 'http://{host}:9100/metrics', format: 'prometheus', metric: 'node_load1', labels: { mode: 'idle', cpu: '0' } });
  });
});

describe('samples on a chart', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
  const sample = (node: string, second: number, value: number | null): Sample => ({ counter: 'cpu', node, at: at(second), value });
  // Ticks every 10 s; the two nodes are sampled a few hundred ms apart.
  const samples = [sample('a', 0, 50), sample('b', 0.3, 60), sample('a', 10, 90), sample('b', 10.2, 80), sample('a', 20, 95), sample('b', 20.4, null), sample('a', 30, 10), sample('b', 30.1, 20)];

  it('groups the nodes of a tick and combines them as the trigger does', () => {
    const ticks = ticksOf(samples, 10_000, 'avg', { comparison: '>', threshold: 70 });
    expect(ticks.map((t) => [t.value, t.breach])).toEqual([[55, false], [85, true], [95, true], [15, false]]);
    expect(ticksOf(samples, 10_000, 'all', { comparison: '>', threshold: 85 }).map((t) => t.breach)).toEqual([false, false, true, false]);
  });

  it('shades consecutive breaching ticks as one band', () => {
    const ticks = ticksOf(samples, 10_000, 'max', { comparison: '>', threshold: 70 });
    expect(breachBands(ticks, 10_000)).toEqual([[Date.parse(at(10)), Date.parse(at(30))]]);
  });

  it('draws the threshold, the bands and the markers it is given, inside its x domain', () => {
    const svg = String(
      <LineChart
        series={[{ label: 'a', color: '#000', points: [[0, 10], [10, 90]] }]}
        xLabel="t"
        yLabel="v"
        xDomain={[0, 20]}
        thresholds={[{ y: 70, label: '> 70' }]}
        bands={[[5, 15]]}
        markers={[{ x: 12, label: 'fired' }, { x: 99, label: 'outside' }]}
      />,
    );
    expect(svg).toContain('data-threshold="70"');
    expect(svg.match(/class="band"/g)).toHaveLength(1);
    expect(svg.match(/class="marker"/g)).toHaveLength(1);
    expect(svg).toContain('<title>fired</title>');
  });
});
