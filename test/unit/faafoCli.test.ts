// The faafo CLI (scripts/faafo.ts) against a fake API in process (a Hono app speaking the /v1/fractal
// contract): what each command sends, what it prints, and its exit codes for bad options, refused
// tokens, API errors and an endpoint nobody answers.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join, resolve } from 'node:path';
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, faafoSettings, hostEnv } from '../../config.ts';
import { runFaafo, type FaafoIo } from '../../scripts/faafo.ts';
import { fractalBatchDefaults, fractalCreateSchema, FRACTAL_API_PAGE_SIZE, type FractalRecord } from '../../workflows/fractals.shared.ts';

const endpoint = 'http://api.test';
const token = 'operator-token';
const viewerToken = 'viewer-token';
const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4, 5]);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

interface Sent {
  method: string;
  url: string;
  body: unknown;
}

function recordOf(uuid: string, params: Partial<FractalRecord> = {}): FractalRecord {
  return {
    uuid,
    checksum: sha256(png),
    url: `/fractal/${uuid}`,
    duration: 0.5,
    size: png.length,
    width: 300,
    height: 200,
    iterations: 128,
    xa: -2,
    xb: 2,
    ya: -1,
    yb: 1,
    cx: -0.8,
    cy: 0.156,
    generated_by: '42@worker',
    status: 'done',
    batch_id: null,
    created_at: '2025-01-01T00:00:00.000Z',
    ...params,
  };
}

const uuidN = (n: number) => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;

/** The API's contract, in memory: records newest first, a batch that finishes two fractals per look. */
function fakeApi() {
  const fractals: FractalRecord[] = [];
  const sent: Sent[] = [];
  const batches = new Map<string, { tasks: number; looks: number }>();
  const app = new Hono();
  const fail = (status: 401 | 403 | 404, code: string, message: string) => Response.json({ error: { code, message } }, { status });
  app.use(async (c, next) => {
    const body = c.req.header('content-type') === 'application/json' ? await c.req.raw.clone().json() : undefined;
    sent.push({ method: c.req.method, url: c.req.url, body });
    const auth = c.req.header('authorization');
    if (auth !== `Bearer ${token}` && auth !== `Bearer ${viewerToken}`) return fail(401, 'unauthorized', 'a token is needed');
    if (auth === `Bearer ${viewerToken}` && c.req.method !== 'GET') return fail(403, 'forbidden', 'viewers may not change fractals');
    await next();
  });
  const find = (uuid: string) => fractals.find((f) => f.uuid === uuid);
  app.post('/v1/fractal', async (c) => {
    const body = fractalCreateSchema.parse(await c.req.json());
    const record = recordOf(body.uuid!, { ...body, status: 'queued', checksum: null, url: null });
    fractals.unshift(record);
    return c.json(record, 201);
  });
  app.post('/v1/fractal-batches', async (c) => {
    const { tasks } = (await c.req.json()) as { tasks: number };
    const batchId = uuidN(900 + batches.size);
    batches.set(batchId, { tasks, looks: 0 });
    return c.json({ batch_id: batchId, tasks, workflow_id: `fractal-batch-${batchId}` }, 202);
  });
  app.get('/v1/fractal-batches/:id', (c) => {
    const batch = batches.get(c.req.param('id'))!;
    batch.looks++;
    const done = Math.min(batch.tasks, 2 * batch.looks);
    return c.json({ batch_id: c.req.param('id'), tasks: batch.tasks, done, queued: batch.tasks - done });
  });
  app.get('/v1/fractal', (c) => {
    const page = Number(c.req.query('page') ?? 1);
    const objects = fractals.slice((page - 1) * FRACTAL_API_PAGE_SIZE, page * FRACTAL_API_PAGE_SIZE);
    return c.json({ objects, num_results: fractals.length, page, total_pages: Math.ceil(fractals.length / FRACTAL_API_PAGE_SIZE) });
  });
  app.get('/v1/fractal/:uuid', (c) => {
    const record = find(c.req.param('uuid'));
    return record ? c.json(record) : fail(404, 'not_found', `no fractal ${c.req.param('uuid')}`);
  });
  app.delete('/v1/fractal/:uuid', (c) => {
    const index = fractals.findIndex((f) => f.uuid === c.req.param('uuid'));
    if (index < 0) return fail(404, 'not_found', `no fractal ${c.req.param('uuid')}`);
    fractals.splice(index, 1);
    return c.body(null, 204);
  });
  app.get('/fractal/:uuid', (c) => {
    const record = find(c.req.param('uuid'));
    if (!record || record.status !== 'done') return fail(404, 'not_found', 'no image');
    return c.body(record.uuid === uuidN(666) ? Uint8Array.from([1, 2, 3]) : png, 200, { 'content-type': 'image/png' });
  });
  return { app, fractals, sent };
}

let api: ReturnType<typeof fakeApi>;
let dir: string;
beforeEach(async () => {
  api = fakeApi();
  dir = await mkdtemp(join(tmpdir(), 'faafo-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs one command line against the fake API; files are written under the test's directory. */
async function faafo(argv: string[], overrides: Partial<FaafoIo> = {}) {
  let stdout = '';
  let stderr = '';
  const sleeps: number[] = [];
  const code = await runFaafo(argv, {
    settings: { endpointUrl: endpoint, token },
    fetch: async (url, init) => api.app.request(url, init),
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    writeFile: (path, data, options) => writeFile(resolve(dir, path), data, options),
    sleep: async (ms) => void sleeps.push(ms),
    ...overrides,
  });
  return { code, stdout, stderr, sleeps };
}

describe('faafo create', () => {
  it('posts one fractal with the values given and the others drawn within their bounds, and prints its uuid', async () => {
    const { code, stdout } = await faafo(['create', '--tasks', '1', '--width', '300', '--min-height', '400', '--max-height', '402', '--iterations', '200', '--xa', '-2', '--xb', '2.5', '--min-ya', '-1.5', '--max-ya', '-1']);
    expect(code).toBe(0);
    expect(api.sent.map((s) => `${s.method} ${new URL(s.url).pathname}`)).toEqual(['POST /v1/fractal']);
    const body = api.sent[0]!.body as Record<string, number | string>;
    expect(stdout).toBe(`${body.uuid}\n`);
    expect(body).toMatchObject({ width: 300, iterations: 200, xa: -2, xb: 2.5 });
    expect([400, 401, 402]).toContain(body.height);
    expect(body.ya).toBeGreaterThanOrEqual(-1.5);
    expect(body.ya).toBeLessThanOrEqual(-1);
    expect(body).not.toHaveProperty('cx');
  });

  it("draws every parameter from the original's default ranges when none is given", async () => {
    for (let i = 0; i < 20; i++) expect((await faafo(['create', '--tasks', '1'])).code).toBe(0);
    for (const { body } of api.sent) {
      const params = body as Record<string, number>;
      for (const [name, { min, max }] of Object.entries(fractalBatchDefaults)) {
        expect(params[name], name).toBeGreaterThanOrEqual(min);
        expect(params[name], name).toBeLessThanOrEqual(max);
      }
      for (const name of ['width', 'height', 'iterations']) expect(Number.isInteger(params[name]), name).toBe(true);
    }
    expect(new Set(api.sent.map((s) => (s.body as { width: number }).width)).size).toBeGreaterThan(1);
  });

  it('sends the Julia constant when both parts are given', async () => {
    expect((await faafo(['create', '--tasks', '1', '--cx', '-0.8', '--cy', '0.156'])).code).toBe(0);
    expect(api.sent[0]!.body).toMatchObject({ cx: -0.8, cy: 0.156 });
  });

  it('starts more than one task as one batch carrying the values and ranges, and prints the batch id', async () => {
    const { code, stdout } = await faafo(['create', '--tasks', '5', '--min-width', '300', '--max-width', '400', '--iterations', '50', '--max-xb', '2']);
    expect(code).toBe(0);
    expect(api.sent).toHaveLength(1);
    expect(new URL(api.sent[0]!.url).pathname).toBe('/v1/fractal-batches');
    expect(api.sent[0]!.body).toEqual({
      tasks: 5,
      width: { min: 300, max: 400 },
      height: fractalBatchDefaults.height,
      iterations: 50,
      xa: fractalBatchDefaults.xa,
      xb: { min: fractalBatchDefaults.xb.min, max: 2 },
      ya: fractalBatchDefaults.ya,
      yb: fractalBatchDefaults.yb,
    });
    expect(stdout).toBe(`${uuidN(900)}\n`);
  });

  it('with --wait, polls the batch until every fractal is done, showing done/tasks', async () => {
    const { code, stderr, sleeps } = await faafo(['create', '--tasks', '5', '--wait', '--poll-seconds', '0.5']);
    expect(code).toBe(0);
    expect(stderr).toBe('2/5 done\n4/5 done\n5/5 done\n');
    expect(sleeps).toEqual([500, 500]);
  });

  it('takes the task count from --min-tasks/--max-tasks when --tasks is absent', async () => {
    expect((await faafo(['create', '--min-tasks', '3', '--max-tasks', '3'])).code).toBe(0);
    expect(api.sent[0]!.body).toMatchObject({ tasks: 3 });
  });

  it.each([
    [['--width', 'abc'], '--width: must be a whole number from 1 to 4096'],
    [['--width', '0'], '--width: must be a whole number'],
    [['--iterations', '2.5'], '--iterations: must be a whole number'],
    [['--min-width', '900', '--max-width', '300'], '--min-width/--max-width: min must not exceed max'],
    [['--max-height', '5000'], '--max-height: must be a whole number from 1 to 4096'],
    [['--xa', 'NaN'], '--xa: must be a finite number'],
    [['--tasks', '1', '--xa', '1', '--xb', '0'], '--xb: must be greater than every xa'],
    [['--tasks', '0'], '--tasks: must be a whole number from 1 to 10000'],
    [['--tasks', '10001'], '--tasks: must be a whole number from 1 to 10000'],
    [['--min-tasks', '4', '--max-tasks', '2'], '--min-tasks/--max-tasks: min must not exceed max'],
    [['--tasks', '3', '--cx', '0.1'], '--cy: must be given with cx'],
    [['--width', '300', '--max-width', '400'], '--width: give a value or its bounds'],
    [['--widht', '300'], "Unknown option '--widht'"],
    [['--xa'], "Option '--xa <value>' argument missing"],
    [['--poll-seconds', '0'], '--poll-seconds'],
    [['--endpoint-url', 'ftp://x'], '--endpoint-url'],
  ])('refuses %j with exit 2, naming the option, and sends nothing', async (args, message) => {
    const { code, stderr } = await faafo(['create', ...args]);
    expect(stderr).toContain(message);
    expect(code).toBe(2);
    expect(api.sent).toEqual([]);
  });
});

describe('faafo list, show, delete', () => {
  beforeEach(() => {
    for (let n = 1; n <= 23; n++) api.fractals.unshift(recordOf(uuidN(n), { width: 100 + n, status: n % 2 ? 'done' : 'queued', checksum: n % 2 ? sha256(png) : null }));
  });

  it('list walks every page and prints one line per fractal, newest first', async () => {
    const { code, stdout } = await faafo(['list']);
    expect(code).toBe(0);
    expect(api.sent.map((s) => new URL(s.url).search)).toEqual(['?page=1', '?page=2', '?page=3']);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(23);
    expect(lines[0]!.split(/\s+/)).toEqual([uuidN(23), 'done', '123x200', '128', sha256(png).slice(0, 12)]);
    expect(lines[1]!.split(/\s+/)).toEqual([uuidN(22), 'queued', '122x200', '128', '-']);
    expect(lines[22]!.split(/\s+/)[0]).toBe(uuidN(1));
  });

  it('list --json prints every record', async () => {
    const { code, stdout } = await faafo(['list', '--json']);
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as FractalRecord[]).map((r) => r.uuid)).toEqual(api.fractals.map((r) => r.uuid));
  });

  it('show prints the record as a Parameter | Value table', async () => {
    const { code, stdout } = await faafo(['show', uuidN(22)]);
    expect(code).toBe(0);
    const rows = stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^\+-+\+-+\+$/);
    expect(rows[1]).toMatch(/^\| Parameter +\| Value +\|$/);
    const cells = Object.fromEntries(rows.filter((r) => r.startsWith('| ')).map((r) => r.split('|').slice(1, 3).map((c) => c.trim())));
    expect(cells).toMatchObject({ uuid: uuidN(22), status: 'queued', width: '122', height: '200', xa: '-2', cy: '0.156', checksum: '-', generated_by: '42@worker' });
    expect(new Set(rows.map((r) => r.length)).size).toBe(1);
  });

  it('show accepts an uppercase uuid and asks for it lowercased', async () => {
    expect((await faafo(['show', uuidN(3).toUpperCase()])).code).toBe(0);
    expect(new URL(api.sent[0]!.url).pathname).toBe(`/v1/fractal/${uuidN(3)}`);
  });

  it('delete removes the fractal', async () => {
    const { code } = await faafo(['delete', uuidN(5)]);
    expect(code).toBe(0);
    expect(api.fractals.map((f) => f.uuid)).not.toContain(uuidN(5));
    expect(api.fractals).toHaveLength(22);
  });

  it("prints the API's error message and code, exit 1", async () => {
    const { code, stderr } = await faafo(['delete', uuidN(99)]);
    expect(code).toBe(1);
    expect(stderr).toBe(`error: no fractal ${uuidN(99)} (not_found)\n`);
  });

  it('refuses a malformed uuid with exit 2 before calling the API', async () => {
    const { code, stderr } = await faafo(['show', 'not-a-uuid']);
    expect(code).toBe(2);
    expect(stderr).toContain('<uuid> "not-a-uuid": must be a UUID');
    expect(api.sent).toEqual([]);
  });
});

describe('faafo get', () => {
  beforeEach(() => {
    api.fractals.push(recordOf(uuidN(1)), recordOf(uuidN(2), { status: 'queued', checksum: null, url: null }), recordOf(uuidN(666)));
  });

  it('writes the PNG to <uuid>.png', async () => {
    const { code, stdout } = await faafo(['get', uuidN(1)]);
    expect(code).toBe(0);
    expect(stdout).toBe(`${uuidN(1)}.png\n`);
    expect(new Uint8Array(await readFile(join(dir, `${uuidN(1)}.png`)))).toEqual(png);
  });

  it('refuses to overwrite a file unless --force', async () => {
    const output = join(dir, 'mine.png');
    await writeFile(output, 'keep me');
    const refused = await faafo(['get', uuidN(1), '--output', output]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`${output} exists; use --force to overwrite it\n`);
    expect(await readFile(output, 'utf8')).toBe('keep me');
    expect((await faafo(['get', uuidN(1), '-o', output, '--force'])).code).toBe(0);
    expect(new Uint8Array(await readFile(output))).toEqual(png);
  });

  it('says a fractal not rendered yet is not, exit 1, and writes nothing', async () => {
    const { code, stderr } = await faafo(['get', uuidN(2)]);
    expect(code).toBe(1);
    expect(stderr).toContain(`fractal ${uuidN(2)} is not rendered yet (status queued)`);
    await expect(readFile(join(dir, `${uuidN(2)}.png`))).rejects.toThrow(/ENOENT/);
  });

  it('writes nothing when the PNG does not match its checksum', async () => {
    const { code, stderr } = await faafo(['get', uuidN(666)]);
    expect(code).toBe(1);
    expect(stderr).toContain('does not match its checksum');
    await expect(readFile(join(dir, `${uuidN(666)}.png`))).rejects.toThrow(/ENOENT/);
  });
});

describe('tokens, endpoints and usage', () => {
  it('exits 3 with a hint to set FLEET_TOKEN when no token is sent', async () => {
    const { code, stderr } = await faafo(['list'], { settings: { endpointUrl: endpoint, token: undefined } });
    expect(code).toBe(3);
    expect(stderr).toContain('a token is needed (unauthorized)');
    expect(stderr).toContain('FLEET_TOKEN is not set');
  });

  it("exits 3 when the token's role may not do this", async () => {
    const { code, stderr } = await faafo(['delete', uuidN(1)], { settings: { endpointUrl: endpoint, token: viewerToken } });
    expect(code).toBe(3);
    expect(stderr).toContain('viewers may not change fractals (forbidden)');
  });

  it('calls the --endpoint-url given instead of the setting', async () => {
    expect((await faafo(['list', '--endpoint-url', 'http://other.test:8080/'])).code).toBe(0);
    expect(api.sent[0]!.url).toBe('http://other.test:8080/v1/fractal?page=1');
  });

  it('names the endpoint when nothing answers there, exit 1', async () => {
    const closed = await closedPort();
    const { code, stderr } = await faafo(['list'], { fetch: (url, init) => fetch(url, init), settings: { endpointUrl: `http://127.0.0.1:${closed}`, token } });
    expect(code).toBe(1);
    expect(stderr).toBe(`cannot reach http://127.0.0.1:${closed}: ECONNREFUSED\n`);
  });

  it('refuses an unknown command with exit 2, and prints help with exit 0', async () => {
    const unknown = await faafo(['paint']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "paint"');
    const usage = await faafo(['create', '--help']);
    expect(usage.code).toBe(0);
    expect(usage.stdout).toContain('--min-width N (256)');
    expect((await faafo([])).code).toBe(2);
    expect(api.sent).toEqual([]);
  });

  it('stops quietly, exit 0, when its reader stops early (`faafo list | head -1`)', async () => {
    // The real bin in a shell pipe, against an HTTP server listing 3,000 fractals (about 250 KB of rows,
    // more than a pipe holds): head exits after one line, and the rest meets a closed pipe.
    const records = Array.from({ length: 3000 }, (_, i) => recordOf(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`));
    const server = createHttpServer((request, response) => {
      const page = Number(new URL(request.url!, 'http://x').searchParams.get('page') ?? 1);
      const objects = records.slice((page - 1) * 1000, page * 1000);
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ objects, num_results: records.length, page, total_pages: 3 }));
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const { port } = server.address() as { port: number };
      const bin = resolve(import.meta.dirname, '../../scripts/faafo.mjs');
      // Not spawnSync: the server answers from this process's event loop.
      const piped = await promisify(execFile)('bash', ['-c', `"${process.execPath}" "${bin}" list | head -1; echo "faafo exit \${PIPESTATUS[0]}" >&2`], {
        encoding: 'utf8',
        env: hostEnv({ FAAFO_ENDPOINT_URL: `http://127.0.0.1:${port}`, FLEET_TOKEN: token }),
      });
      expect(piped.stdout).toMatch(/^00000000-0000-4000-8000-000000000000 {2}done\b.*\n$/);
      expect(piped.stderr.trim()).toBe('faafo exit 0');
    } finally {
      server.close();
    }
  });

  it('reads FAAFO_ENDPOINT_URL and FLEET_TOKEN through config.ts', () => {
    expect(faafoSettings({})).toEqual({ endpointUrl: 'http://127.0.0.1:3000', token: undefined });
    expect(faafoSettings({ FAAFO_ENDPOINT_URL: 'https://fractals.example/', FLEET_TOKEN: ' t0k ' })).toEqual({ endpointUrl: 'https://fractals.example', token: 't0k' });
    expect(() => faafoSettings({ FAAFO_ENDPOINT_URL: 'fractals.example' })).toThrow(ConfigError);
  });
});

/** A port nothing listens on: one the kernel gave a server that has closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}
