// Fractals end to end on the real stack: the /v1/fractal API (the original's Flask-Restless shapes),
// the fractal and batch workflows on the main worker, a fractal worker rendering into moto's S3, and
// MySQL. Every call and its errors; the PNG served from object storage with the record's checksum.
import { createHash, randomUUID } from 'node:crypto';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { FractalImageStore } from '../activities/fractals/storage.ts';
import type { FractalPage, FractalRecord } from '../workflows/fractals.shared.ts';
import { asToken } from './support/asToken.ts';
import { requestJson, useStack } from './support/fixture.ts';
import { useFractalWorker } from './support/fractalWorker.ts';

const stack = useStack({ app: { fractalTimings: { renderHeartbeatTimeoutMs: 3000, retryMaxIntervalMs: 200 } } });
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const small = { width: 48, height: 32, iterations: 64, xa: -1.5, xb: 1.5, ya: -1, yb: 1 };

const worker = useFractalWorker(stack, `fractal-test${stack.suffix}`);
let store: FractalImageStore;
beforeAll(() => {
  store = worker.store;
});

const post = (body: unknown) => requestJson<FractalRecord & { error?: { code: string; message: string; field?: string } }>(stack.app, 'POST', '/v1/fractal', body);
const read = (uuid: string) => requestJson<FractalRecord>(stack.app, 'GET', `/v1/fractal/${uuid}`);
const rendered = (uuid: string) =>
  vi.waitFor(
    async () => {
      const { body } = await read(uuid);
      expect(body.status).toBe('done');
      return body;
    },
    { timeout: 20_000, interval: 100 },
  );

describe('POST /v1/fractal, then GET the record and /fractal/<uuid>', () => {
  it('makes one fractal: queued with its constant at once, then rendered, its PNG served with the record’s checksum', async () => {
    const uuid = randomUUID();
    const created = await post({ uuid, ...small });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ uuid, ...small, status: 'queued', checksum: null, url: null, generated_by: null, cx: expect.any(Number), cy: expect.any(Number) });
    const record = await rendered(uuid);
    expect(record).toMatchObject({ uuid, url: `/fractal/${uuid}`, generated_by: `fractal-test${stack.suffix}`, cx: created.body.cx, cy: created.body.cy });
    expect(record.duration).toBeGreaterThan(0);
    const image = await stack.app.request(`/fractal/${uuid}`);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await image.arrayBuffer());
    expect(sha256(png)).toBe(record.checksum);
    expect(png.length).toBe(record.size);
    const decoded = PNG.sync.read(png);
    expect([decoded.width, decoded.height]).toEqual([48, 32]);
    // The PNG is in object storage, not in MySQL.
    expect((await store.get(uuid))?.equals(png)).toBe(true);
  });

  it('makes a uuid when none is given, and keeps a given constant', async () => {
    const created = await post({ ...small, cx: -0.8, cy: 0.156 });
    expect(created.status).toBe(201);
    expect(created.body.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.body).toMatchObject({ cx: -0.8, cy: 0.156 });
    await rendered(created.body.uuid);
  });

  it('refuses a second POST of a uuid with 409, and changes nothing', async () => {
    const uuid = randomUUID();
    expect((await post({ uuid, ...small })).status).toBe(201);
    const again = await post({ uuid, ...small, iterations: 99 });
    expect(again.status).toBe(409);
    expect(again.body.error?.code).toBe('already_exists');
    expect((await read(uuid)).body.iterations).toBe(64);
  });

  it.each([
    [{ ...small, width: 0 }, 'width'],
    [{ ...small, height: 5000 }, 'height'],
    [{ ...small, iterations: 10_001 }, 'iterations'],
    [{ ...small, xa: 2 }, 'xb'],
    [{ ...small, ya: 1 }, 'yb'],
    [{ ...small, uuid: 'abc' }, 'uuid'],
    [{ ...small, image: 'aGVsbG8=' }, 'image'],
  ])('refuses %j with 400 naming %s, and starts nothing', async (body, field) => {
    const before = (await requestJson<FractalPage>(stack.app, 'GET', '/v1/fractal')).body.num_results;
    const refused = await post(body);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'validation_failed', field });
    expect((await requestJson<FractalPage>(stack.app, 'GET', '/v1/fractal')).body.num_results).toBe(before);
  });

  it('takes JSON only (415), and only from an operator (401 without a token, 403 for a viewer)', async () => {
    const plain = await stack.app.request('/v1/fractal', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(small) });
    expect(plain.status).toBe(415);
    const anonymous = await stack.anonymousApp.request('/v1/fractal', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(small) });
    expect(anonymous.status).toBe(401);
    const viewer = asToken(stack.anonymousApp, stack.tokens.viewer);
    expect((await requestJson(viewer, 'POST', '/v1/fractal', small)).status).toBe(403);
    expect((await requestJson(viewer, 'GET', '/v1/fractal')).status).toBe(200);
  });

  it('renders an image the store lost (moto restarted) again from its record, with the same checksum', async () => {
    const uuid = randomUUID();
    await post({ uuid, ...small });
    const record = await rendered(uuid);
    await store.delete(uuid);
    const lost = await requestJson<{ error: { code: string } }>(stack.app, 'GET', `/fractal/${uuid}`);
    expect(lost.status).toBe(503);
    expect(lost.body.error.code).toBe('image_rerendering');
    const png = await vi.waitFor(
      async () => {
        const response = await stack.app.request(`/fractal/${uuid}`);
        expect(response.status).toBe(200);
        return Buffer.from(await response.arrayBuffer());
      },
      { timeout: 20_000, interval: 200 },
    );
    expect(sha256(png)).toBe(record.checksum);
    expect((await read(uuid)).body).toMatchObject({ status: 'done', checksum: record.checksum });
  });

  it('answers 404 for a record or image that does not exist, and for an image not rendered yet', async () => {
    const missing = randomUUID();
    expect((await read(missing)).status).toBe(404);
    expect((await stack.app.request(`/fractal/${missing}`)).status).toBe(404);
    expect((await read('not-a-uuid')).status).toBe(400);
  });
});

describe('GET /v1/fractal?page=n', () => {
  it('pages ten records at a time, newest first, with Flask-Restless’s keys and no image', async () => {
    const ours: string[] = [];
    for (let i = 0; i < 11; i++) ours.push((await post({ ...small, iterations: 10 + i })).body.uuid);
    const first = await requestJson<FractalPage>(stack.app, 'GET', '/v1/fractal?page=1');
    expect(Object.keys(first.body).sort()).toEqual(['num_results', 'objects', 'page', 'total_pages']);
    expect(first.body.objects).toHaveLength(10);
    expect(first.body.page).toBe(1);
    expect(first.body.total_pages).toBe(Math.ceil(first.body.num_results / 10));
    expect(first.body.objects.some((record) => 'image' in record)).toBe(false);
    // Other test files make fractals too: ours are in the first pages, newest first, wherever they are
    // (a record made meanwhile pushes the pages down, so one of ours may show twice, never not at all).
    const seen = new Set<string>();
    for (let page = 1; page <= 6 && seen.size < 11; page++) {
      const { body } = await requestJson<FractalPage>(stack.app, 'GET', `/v1/fractal?page=${page}`);
      if (page < body.total_pages) expect(body.objects).toHaveLength(10);
      for (const record of body.objects) if (ours.includes(record.uuid)) seen.add(record.uuid);
    }
    expect([...seen]).toEqual([...ours].reverse());
    expect((await requestJson(stack.app, 'GET', '/v1/fractal?page=0')).status).toBe(400);
  });
});

describe('PUT and DELETE /v1/fractal/<uuid>', () => {
  it('renders a changed fractal again, refuses a change while it renders, and deletes the record and its image', async () => {
    const uuid = randomUUID();
    await post({ uuid, ...small });
    const whileQueued = await requestJson(stack.app, 'PUT', `/v1/fractal/${uuid}`, { iterations: 70 });
    // Unless the render was quicker than this request: then it is a change like the next one.
    if (whileQueued.status === 409) expect(whileQueued.body).toMatchObject({ error: { code: 'not_rendered' } });
    const before = await rendered(uuid);

    const bad = await requestJson<{ error: { field: string } }>(stack.app, 'PUT', `/v1/fractal/${uuid}`, { xb: -9 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('xb');
    const changed = await requestJson<FractalRecord>(stack.app, 'PUT', `/v1/fractal/${uuid}`, { iterations: 200, width: 40 });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ iterations: 200, width: 40, status: 'queued', checksum: null, cx: before.cx, cy: before.cy });
    const after = await rendered(uuid);
    expect(after.checksum).not.toBe(before.checksum);
    const png = Buffer.from(await (await stack.app.request(`/fractal/${uuid}`)).arrayBuffer());
    expect(sha256(png)).toBe(after.checksum);
    expect(PNG.sync.read(png).width).toBe(40);

    const deleted = await stack.app.request(`/v1/fractal/${uuid}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect((await read(uuid)).status).toBe(404);
    expect((await stack.app.request(`/fractal/${uuid}`)).status).toBe(404);
    expect(await store.head(uuid)).toBeUndefined();
    expect((await stack.app.request(`/v1/fractal/${uuid}`, { method: 'DELETE' })).status).toBe(404);
  });
});

describe('POST /v1/fractal-batches', () => {
  it('starts a batch whose fractals all render, each once, with its progress readable', async () => {
    const started = await requestJson<{ batch_id: string; tasks: number; workflow_id: string }>(stack.app, 'POST', '/v1/fractal-batches', {
      tasks: 6,
      width: { min: 20, max: 30 },
      height: 20,
      iterations: 40,
    });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ tasks: 6, workflow_id: `fractal-batch-${started.body.batch_id}` });
    const progress = await vi.waitFor(
      async () => {
        const { body } = await requestJson<{ tasks: number; accepted: number; done: number }>(stack.app, 'GET', `/v1/fractal-batches/${started.body.batch_id}`);
        expect(body).toMatchObject({ tasks: 6, done: 6 });
        return body;
      },
      { timeout: 30_000, interval: 200 },
    );
    expect(progress.accepted).toBe(6);
    // Other test files make fractals too: look through the first pages for this batch's.
    const ours: FractalRecord[] = [];
    for (let page = 1; page <= 10 && ours.length < 6; page++) {
      const { body } = await requestJson<FractalPage>(stack.app, 'GET', `/v1/fractal?page=${page}`);
      ours.push(...body.objects.filter((record) => record.batch_id === started.body.batch_id));
    }
    expect(ours).toHaveLength(6);
    for (const record of ours) {
      expect(record.width).toBeGreaterThanOrEqual(20);
      expect(record.width).toBeLessThanOrEqual(30);
      expect(record.height).toBe(20);
    }
    // A batch's fractal deleted is counted as removed, so the batch still reads as finished.
    expect((await stack.app.request(`/v1/fractal/${ours[0]!.uuid}`, { method: 'DELETE' })).status).toBe(204);
    const after = await requestJson<{ tasks: number; done: number; removed: number }>(stack.app, 'GET', `/v1/fractal-batches/${started.body.batch_id}`);
    expect(after.body).toMatchObject({ tasks: 6, done: 5, removed: 1 });
  });

  it('refuses more than 10,000 tasks, and an unknown batch is a 404', async () => {
    const refused = await requestJson<{ error: { field: string } }>(stack.app, 'POST', '/v1/fractal-batches', { tasks: 10_001 });
    expect(refused.status).toBe(400);
    expect(refused.body.error.field).toBe('tasks');
    expect((await requestJson(stack.app, 'GET', `/v1/fractal-batches/${randomUUID()}`)).status).toBe(404);
  });
});
