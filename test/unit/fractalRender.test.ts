// The fractal render and its deterministic choices (activities/fractals/julia.ts,
// workflows/fractals.shared.ts): a known image for known parameters, the same constant and uuids for
// the same uuid or batch, the original's acceptance rule and colouring, and the input schemas' refusals.
import { createHash } from 'node:crypto';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { encodePng, renderFractalPng, renderJuliaPixels } from '../../activities/fractals/julia.ts';
import {
  batchTask,
  batchTaskUuid,
  escapeCount,
  fractalBatchSpecSchema,
  fractalCreateSchema,
  fractalJobOf,
  juliaConstantFor,
} from '../../workflows/fractals.shared.ts';
import { problemOf } from '../../workflows/validation.shared.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const fixture = { width: 64, height: 48, iterations: 128, xa: -1.5, xb: 1.5, ya: -1, yb: 1, cx: -0.8, cy: 0.156 };
const uuid = '0f8fad5b-d9cb-469f-a165-70867728950e';

describe('the Julia render', () => {
  it('gives a known pixel buffer for known parameters and constant', () => {
    const pixels = renderJuliaPixels(fixture);
    expect(pixels.length).toBe(64 * 48 * 3);
    expect(sha256(pixels)).toBe('8fd4a58200ad21fa12661cd50729e5d44b53e754904f4ba9ed4592a164df7c62');
  });

  it('colours a point by the iteration it escaped at, as (i % 8 * 32, i % 16 * 16, i % 32 * 8)', () => {
    // One pixel at z = xa + ya·i = 3 + 0i escapes before the first step: i = 0, black.
    expect([...renderJuliaPixels({ ...fixture, width: 1, height: 1, xa: 3, xb: 4, ya: 0, yb: 1 })]).toEqual([0, 0, 0]);
    // z = 0 with c = 0 never escapes: i stays at iterations - 1 = 9, as Python's loop variable does.
    expect([...renderJuliaPixels({ ...fixture, width: 1, height: 1, iterations: 10, xa: 0, xb: 1, ya: 0, yb: 1, cx: 0, cy: 0 })]).toEqual([
      (9 % 8) * 32,
      (9 % 16) * 16,
      (9 % 32) * 8,
    ]);
  });

  it('encodes a real PNG that decodes to the same pixels, with the same bytes every time', () => {
    const pixels = renderJuliaPixels(fixture);
    const png = encodePng(64, 48, pixels);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const decoded = PNG.sync.read(png);
    expect([decoded.width, decoded.height]).toEqual([64, 48]);
    // Decoded as RGBA: every fourth byte is the opaque alpha.
    const rgb = Buffer.alloc(64 * 48 * 3);
    for (let p = 0; p < 64 * 48; p++) decoded.data.copy(rgb, p * 3, p * 4, p * 4 + 3);
    expect(rgb.equals(pixels)).toBe(true);
    const first = renderFractalPng(fixture);
    expect(renderFractalPng(fixture).checksum).toBe(first.checksum);
    expect(first.checksum).toBe(sha256(first.png));
  });
});

describe('deterministic choices', () => {
  it('chooses the same constant for the same uuid, by the original acceptance rule (10 < i < 100)', () => {
    const view = { xa: -2, xb: 2, ya: -1.5, yb: 1.5, iterations: 255 };
    const c = juliaConstantFor(uuid, view);
    expect(juliaConstantFor(uuid, view)).toEqual(c);
    expect(juliaConstantFor('1f8fad5b-d9cb-469f-a165-70867728950e', view)).not.toEqual(c);
    const i = escapeCount(c.cx, c.cy, 255);
    expect(i).toBeGreaterThan(10);
    expect(i).toBeLessThan(100);
    expect(c.cx).toBeGreaterThanOrEqual(-2);
    expect(c.cx).toBeLessThan(2);
  });

  it('still ends with a constant when too few iterations let no point pass the rule', () => {
    const c = juliaConstantFor(uuid, { xa: -2, xb: 2, ya: -1.5, yb: 1.5, iterations: 5 });
    expect(Number.isFinite(c.cx) && Number.isFinite(c.cy)).toBe(true);
  });

  it('keeps a given constant', () => {
    expect(fractalJobOf(uuid, { ...fixture })).toMatchObject({ uuid, cx: -0.8, cy: 0.156 });
  });

  it('draws a batch task the same way every time, within the ranges, with a v4 uuid', () => {
    const batchId = '6a1c0f8e-2b7d-4c3a-9e5f-1d2c3b4a5f6e';
    const spec = fractalBatchSpecSchema.parse({ tasks: 3, width: { min: 300, max: 310 }, height: 200, iterations: { min: 10, max: 20 } });
    const task = batchTask(batchId, spec, 1);
    expect(batchTask(batchId, spec, 1)).toEqual(task);
    expect(task.uuid).toBe(batchTaskUuid(batchId, 1));
    expect(task.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(batchTask(batchId, spec, 2).uuid).not.toBe(task.uuid);
    expect(task.params.width).toBeGreaterThanOrEqual(300);
    expect(task.params.width).toBeLessThanOrEqual(310);
    expect(task.params.height).toBe(200);
    expect(task.params.xa).toBeLessThan(task.params.xb);
    expect(fractalCreateSchema.safeParse({ uuid: task.uuid, ...task.params }).success).toBe(true);
  });
});

describe('input schemas', () => {
  const valid = { width: 512, height: 512, iterations: 256, xa: -2, xb: 2, ya: -1.5, yb: 1.5 };
  it.each([
    [{ ...valid, width: 0 }, 'width: must be a whole number from 1 to 4096'],
    [{ ...valid, height: 4097 }, 'height: must be a whole number from 1 to 4096'],
    [{ ...valid, iterations: 10_001 }, 'iterations: must be a whole number from 1 to 10000'],
    [{ ...valid, xb: -2 }, 'xb: must be greater than xa (-2)'],
    [{ ...valid, yb: -3 }, 'yb: must be greater than ya (-1.5)'],
    [{ ...valid, uuid: 'not-a-uuid' }, 'uuid: must be a UUID such as 0f8fad5b-d9cb-469f-a165-70867728950e'],
    [{ ...valid, cx: 0.3 }, 'cy: must be given with cx (both parts of the constant, or neither)'],
    [{ ...valid, image: 'x' }, 'image: unknown field'],
  ])('refuses %j with "%s"', (body, problem) => {
    expect(problemOf(fractalCreateSchema, body)).toBe(problem);
  });

  it('takes an uppercase uuid as its lowercase form', () => {
    expect(fractalCreateSchema.parse({ ...valid, uuid: uuid.toUpperCase() }).uuid).toBe(uuid);
  });

  it('refuses more than 10,000 tasks and overlapping bounds in a batch', () => {
    expect(problemOf(fractalBatchSpecSchema, { tasks: 10_001 })).toBe('tasks: must be a whole number from 1 to 10000');
    expect(problemOf(fractalBatchSpecSchema, { tasks: 2, xa: { min: -1, max: 2 }, xb: { min: 1, max: 3 } })).toBe('xb: must be greater than every xa (up to 2)');
    expect(problemOf(fractalBatchSpecSchema, { tasks: 2, width: { min: 10, max: 5 } })).toBe('width: min must not exceed max');
  });
});
