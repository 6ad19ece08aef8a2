// The fractals pages' logic without a browser: the create form's fields against the domain's schemas
// (defaults that parse, numbers coerced only when they are numbers, empty optional fields left out),
// and the batch bars and a fractal's panel polling while it renders and not after.
import { describe, expect, it } from 'vitest';
import { safeParse } from 'zod/mini';
import type { BatchProgress } from '../../db/fractals.ts';
import { parseInput } from '../../services/errors.ts';
import { batchBody, batchFields, FractalBatches, fractalBody, fractalFields, FractalPanel } from '../../ui/pages/fractals.tsx';
import type { FractalView } from '../../services/fractals.ts';
import { fractalBatchDefaults, fractalBatchSpecSchema, fractalCreateSchema } from '../../workflows/fractals.shared.ts';

const initial = (fields: { name: string; initial?: number }[]) => Object.fromEntries(fields.map((f) => [f.name, f.initial === undefined ? '' : String(f.initial)]));

describe('the one-fractal form', () => {
  it('covers every parameter of fractalCreateSchema but the uuid', () => {
    expect(fractalFields.map((f) => f.name).sort()).toEqual(Object.keys(fractalCreateSchema.def.shape).filter((key) => key !== 'uuid').sort());
  });

  it('reads its defaults as a 512×512, 256-iteration view of -1.5..1.5 × -1..1, the constant left to the uuid', () => {
    const body = fractalBody(initial(fractalFields));
    expect(body).toEqual({ width: 512, height: 512, iterations: 256, xa: -1.5, xb: 1.5, ya: -1, yb: 1 });
    expect(safeParse(fractalCreateSchema, body).success).toBe(true);
  });

  it('keeps a number that is not one as typed, so the schema names the field', () => {
    const form = { ...initial(fractalFields), iterations: ' twelve ', cx: '0.3' };
    expect(fractalBody(form)).toMatchObject({ iterations: 'twelve', cx: 0.3 });
    expect(() => parseInput(fractalCreateSchema, fractalBody(form))).toThrow(/^iterations: /);
    expect(() => parseInput(fractalCreateSchema, fractalBody({ ...initial(fractalFields), cx: '0.3' }))).toThrow('cy: must be given with cx (both parts of the constant, or neither)');
  });
});

describe('the batch form', () => {
  it('opens on the original CLI’s ranges, which read back as exactly fractalBatchDefaults', () => {
    const body = batchBody({ ...initial(batchFields), tasks: '6' });
    expect(body).toEqual({ tasks: 6, ...fractalBatchDefaults });
    expect(parseInput(fractalBatchSpecSchema, body)).toEqual({ tasks: 6, ...fractalBatchDefaults });
  });

  it('leaves a range out when both bounds are empty (the default applies), and fills an empty bound with the default’s', () => {
    const form = { ...initial(batchFields), tasks: '3', 'width.min': '', 'width.max': '', 'height.min': '300', 'height.max': '' };
    expect(batchBody(form)).not.toHaveProperty('width');
    expect(batchBody(form)).toMatchObject({ height: { min: 300, max: 1024 } });
    expect(() => parseInput(fractalBatchSpecSchema, batchBody({ ...form, 'height.min': '2000' }))).toThrow('height: min must not exceed max');
  });

  it('refuses bounds that overlap, naming the field', () => {
    expect(() => parseInput(fractalBatchSpecSchema, batchBody({ ...initial(batchFields), 'xa.max': '2' }))).toThrow('xb: must be greater than every xa (up to 2)');
  });
});

describe('<FractalBatches>', () => {
  const batch = (id: string, done: number): BatchProgress => ({ batch_id: id, tasks: 6, accepted: 6, done, created_at: '2026-11-30T10:00:00.000Z' });
  const id = '0f8fad5b-d9cb-469f-a165-70867728950e';

  it('polls, naming the batches shown and what they had done, while one is unfinished', () => {
    const html = String(<FractalBatches batches={[batch(id, 2)]} />);
    expect(html).toContain(`hx-get="/ui/partials/fractal-batches?batch=${id}&amp;done=2"`);
    expect(html).toContain('hx-trigger="every 1s"');
    expect(html).toContain('2/6 rendered, 6 accepted');
  });

  it('shows a finished batch as done and stops polling', () => {
    const html = String(<FractalBatches batches={[batch(id, 6)]} />);
    expect(html).not.toContain('hx-get');
    expect(html).toContain('done: 6/6');
  });
});

describe('<FractalPanel>', () => {
  const uuid = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const queued: FractalView = {
    uuid, checksum: null, url: null, duration: null, size: null, width: 64, height: 48, iterations: 64, xa: -1.5, xb: 1.5, ya: -1, yb: 1, cx: -0.8, cy: 0.156,
    generated_by: null, status: 'queued', batch_id: null, created_at: '2026-11-30T10:00:00.000Z', workflow_id: `fractal-${uuid}`,
  };

  it('shows a queued fractal as rendering, without an image, and polls its partial', () => {
    const html = String(<FractalPanel fractal={queued} workflowUrl="http://ui/x" />);
    expect(html).toContain(`hx-get="/ui/partials/fractals/${uuid}"`);
    expect(html).toContain('Rendering…');
    expect(html).not.toContain('<img');
  });

  it('shows a rendered one with its image, checksum and worker, and polls no more', () => {
    const html = String(<FractalPanel fractal={{ ...queued, status: 'done', checksum: 'ab'.repeat(32), size: 1234, duration: 0.25, generated_by: '7@host', url: `/fractal/${uuid}` }} workflowUrl="http://ui/x" />);
    expect(html).not.toContain('hx-get');
    expect(html).toContain(`<img src="/fractal/${uuid}"`);
    expect(html).toContain(`<code class="checksum">${'ab'.repeat(32)}</code>`);
    expect(html).toContain('<dd>250 ms</dd>');
    expect(html).toContain('<dd>7@host</dd>');
  });
});
