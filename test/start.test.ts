// `npm start` as a user runs it: up, healthy, usable from the temporal CLI, refusing a second
// copy with one clear line, stopping on Ctrl-C, and reusing its data on the next start.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { hostEnv, loadConfig, projectRoot } from '../config.ts';
import { findFreePort, isPortFree } from '../scripts/processes.ts';
import { locateTemporalCli } from '../scripts/temporalCli.ts';
import { freeStackPorts } from '../scripts/stack.ts';
import { runStart, waitForOutput, type Started } from './support/npmStart.ts';
import { mintToken } from '../scripts/token.ts';
import type { Page } from 'playwright-core';
import type { CpuLoadView } from '../services/cpuLoad.ts';
import { launchChromium, screenshot, signInInBrowser } from './support/browser.ts';


/** The route table docs/security.md shows (test/unit/access.test.ts holds it equal to the app's). */
function documentedRoutes(): { method: string; path: string; level: string }[] {
  const doc = readFileSync(join(projectRoot, 'docs/security.md'), 'utf8');
  return [...doc.matchAll(/^\| `(\w+)` \| `([^`]+)` \| (\w+) \|$/gm)].map(([, method, path, level]) => ({ method: method!, path: path!, level: level! }));
}

const concretePath = (path: string) => path.replace(/:(\w+)\{([^}|]+)[^}]*\}/g, '$2').replace(/:tokenId/g, '1').replace(/:(\w+)/g, 'x').replace(/\*$/, 'k');

/**
 * Against the running server: every control route answers 401 without credentials (the login page
 * for a browser's page load), a viewer token gets 403 on every state-changing route that needs more,
 * and another site's form post, a text/plain post and a foreign Origin are refused with 403.
 */
async function expectEveryControlRouteGuarded(api: string, viewerToken: string, operatorToken: string): Promise<void> {
  const routes = documentedRoutes().filter((route) => route.method !== 'ALL');
  expect(routes.length).toBeGreaterThan(100);
  for (const { method, path, level } of routes) {
    if (level === 'public' || level === 'dataPlane') continue;
    const url = `${api}${concretePath(path)}`;
    const body = method === 'GET' ? undefined : '{}';
    const anonymous = await fetch(url, { method, body, headers: { 'content-type': 'application/json', accept: 'application/json' }, redirect: 'manual' });
    expect(anonymous.status, `${method} ${path} without credentials`).toBe(401);
    if (method !== 'GET' && level !== 'viewer') {
      const viewer = await fetch(url, { method, body, headers: { 'content-type': 'application/json', authorization: `Bearer ${viewerToken}` }, redirect: 'manual' });
      expect(viewer.status, `${method} ${path} as a viewer`).toBe(403);
    }
  }
  const page = await fetch(`${api}/nodes`, { headers: { accept: 'text/html' }, redirect: 'manual' });
  expect([page.status, page.headers.get('location')]).toEqual([302, '/login?next=%2Fnodes']);
  const fromEvil = { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' };
  const refusals = [
    fetch(`${api}/ui/nodes/clusters/web/scripts`, { method: 'POST', headers: { ...fromEvil, 'content-type': 'application/x-www-form-urlencoded' }, body: 'script=id' }),
    fetch(`${api}/api/health-checks`, { method: 'POST', headers: { ...fromEvil, 'content-type': 'text/plain' }, body: '{}' }),
    fetch(`${api}/api/health-checks`, { method: 'POST', headers: { ...fromEvil, 'content-type': 'application/json' }, body: '{}' }),
  ];
  expect((await Promise.all(refusals)).map((r) => r.status)).toEqual([403, 403, 403]);
  // Even with a token, a JSON route takes JSON only.
  const plain = await fetch(`${api}/api/health-checks`, { method: 'POST', headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'text/plain' }, body: '{}' });
  expect(plain.status).toBe(415);
}

describe('npm start (scripts/start.ts)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fleet-start-'));
  const running: Started[] = [];
  afterAll(async () => {
    for (const s of running) if (s.child.exitCode === null) s.child.kill('SIGINT');
    await Promise.all(running.map((s) => s.exit));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('comes up healthy, refuses a second stack, stops on Ctrl-C and reuses its data', async () => {
    const env = { ...(await freeStackPorts()), FLEET_DATA_DIR: dataDir };
    const config = loadConfig(env);
    const api = `http://127.0.0.1:${config.api.port}`;

    const first = runStart(env);
    running.push(first);
    await waitForOutput(first, 'Press Ctrl-C to stop.', 90_000);
    expect(first.output()).toContain(`UI and API        ${api}`);
    expect(first.output()).toContain(`Temporal Web UI   http://127.0.0.1:${config.temporal.uiPort}`);
    expect((await fetch(`${api}/readyz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${config.temporal.uiPort}/`)).status).toBe(200);

    // The first admin: printed with the URLs, kept in a file only its owner reads, and it signs in.
    const printed = /Sign in {11}(\S+)\/login as admin, one-time password (\S+)/.exec(first.output());
    expect(printed?.[1], first.output()).toBe(api);
    const passwordFile = join(dataDir, 'admin.password');
    expect(statSync(passwordFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(passwordFile, 'utf8').trim()).toBe(printed![2]);
    expect((await fetch(`${api}/api/workflows`)).status).toBe(401);
    const signIn = await fetch(`${api}/login`, { method: 'POST', body: new URLSearchParams({ username: 'admin', password: printed![2]! }), redirect: 'manual' });
    expect(signIn.status).toBe(303);
    expect(signIn.headers.get('location')).toBe('/account/password');
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    // Until the admin chooses their own password, the session opens nothing else.
    expect((await fetch(`${api}/api/me`, { headers: { cookie } })).status).toBe(403);
    const passwordPage = await (await fetch(`${api}/account/password`, { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([\w-]+)"/.exec(passwordPage)![1]!;
    const changed = await fetch(`${api}/account/password`, {
      method: 'POST',
      headers: { cookie },
      body: new URLSearchParams({ _csrf: csrf, currentPassword: printed![2]!, newPassword: 'the admin’s own passphrase' }),
      redirect: 'manual',
    });
    expect(changed.status).toBe(303);
    expect((await fetch(`${api}/api/me`, { headers: { cookie } }).then((r) => r.json())) as object).toMatchObject({ name: 'admin', role: 'admin' });

    await expectEveryControlRouteGuarded(api, await mintToken(config, 'route-walk', 'viewer'), await mintToken(config, 'route-walk', 'operator'));

    // The README's example, against this stack.
    const cli = locateTemporalCli(config, hostEnv().PATH)!;
    const address = ['--address', config.temporal.address];
    const startCmd = spawnSync(cli, ['workflow', 'start', ...address, '--type', 'healthCheck', '--task-queue', 'health-checks', '--workflow-id', 'readme-example', '--input', '{"dependencies":["mysql","memcached","etcd"]}'], { encoding: 'utf8' });
    expect(startCmd.status, startCmd.stderr).toBe(0);
    // Results are encrypted: the CLI reads them through the API's codec server, with a token.
    const token = await mintToken(config, 'readme-example', 'operator');
    const codec = ['--codec-endpoint', `${api}/codec`, '--codec-auth', `Bearer ${token}`];
    const encrypted = spawnSync(cli, ['workflow', 'result', ...address, '--workflow-id', 'readme-example', '-o', 'json'], { encoding: 'utf8' });
    expect(encrypted.stdout).toContain('"encryption-key-id"');
    expect(encrypted.stdout).not.toMatch(/healthy/);
    const result = spawnSync(cli, ['workflow', 'result', ...address, ...codec, '--workflow-id', 'readme-example', '-o', 'json'], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/"healthy":\s*true/);

    // Fractals, as the README shows them: the faafo CLI and `temporal workflow start`, rendered by the
    // stack's own fractal worker processes into moto's S3.
    const faafo = (...args: string[]) =>
      spawnSync(process.execPath, [join(projectRoot, 'scripts/faafo.mjs'), ...args], {
        encoding: 'utf8',
        timeout: 60_000,
        env: hostEnv({ FAAFO_ENDPOINT_URL: api, FLEET_TOKEN: token }),
      });
    const created = faafo('create', '--tasks', '1', '--width', '64', '--height', '48', '--iterations', '50');
    expect(created.status, created.stderr).toBe(0);
    const fractalUuid = created.stdout.trim();
    const viaCli = spawnSync(cli, ['workflow', 'start', ...address, '--type', 'fractal', '--task-queue', 'fractal-jobs', '--workflow-id', 'fractal-1b4e28ba-2fa1-4d2b-883f-0016d3cca427', '--input', '{"uuid":"1b4e28ba-2fa1-4d2b-883f-0016d3cca427","width":64,"height":64,"iterations":100,"xa":-1.5,"xb":1.5,"ya":-1.5,"yb":1.5}'], { encoding: 'utf8' });
    expect(viaCli.status, viaCli.stderr).toBe(0);
    const batchViaCli = spawnSync(cli, ['workflow', 'start', ...address, '--type', 'fractalBatch', '--task-queue', 'fractal-jobs', '--workflow-id', 'fractal-batch-5f3c6a8e-1d2b-4c3a-9e5f-7a6b5c4d3e2f', '--input', '{"batchId":"5f3c6a8e-1d2b-4c3a-9e5f-7a6b5c4d3e2f","spec":{"tasks":3,"width":32,"height":32,"iterations":32}}'], { encoding: 'utf8' });
    expect(batchViaCli.status, batchViaCli.stderr).toBe(0);
    const pngFile = join(dataDir, 'fractal.png');
    await vi.waitFor(() => {
      const got = faafo('get', fractalUuid, '--output', pngFile);
      expect(got.status, got.stderr).toBe(0);
    }, { timeout: 60_000, interval: 500 });
    expect(readFileSync(pngFile).subarray(1, 4).toString()).toBe('PNG');
    const shown = faafo('show', '1b4e28ba-2fa1-4d2b-883f-0016d3cca427', '--json');
    expect(shown.status, shown.stderr).toBe(0);
    await vi.waitFor(async () => {
      const progress = (await (await fetch(`${api}/v1/fractal-batches/5f3c6a8e-1d2b-4c3a-9e5f-7a6b5c4d3e2f`, { headers: { authorization: `Bearer ${token}` } })).json()) as { done: number };
      expect(progress.done).toBe(3);
      const single = JSON.parse(faafo('show', '1b4e28ba-2fa1-4d2b-883f-0016d3cca427', '--json').stdout) as { status: string; generated_by: string };
      expect(single.status).toBe('done');
      expect(single.generated_by).toMatch(/^fractal-\d+@/);
    }, { timeout: 60_000, interval: 500 });
    const listed = faafo('list');
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(fractalUuid);
    expect(faafo('delete', fractalUuid).status).toBe(0);
    expect(faafo('show', fractalUuid).status).toBe(1);

    // The Temporal Web UI shows the decoded result to an operator signed in to the app, once its codec
    // settings send credentials (the dev server has no flag for that; docs/security.md).
    const runId = (JSON.parse(result.stdout) as { runId: string }).runId;
    const webUi = `http://127.0.0.1:${config.temporal.uiPort}`;
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await signInInBrowser({ page, baseUrl: api }, { username: 'admin', password: 'the admin’s own passphrase' });
      // The Web UI's codec settings as an operator sets them once (kept in its localStorage).
      const openRunWithCodec = async (tab: Page) => {
        await tab.goto(`${webUi}/namespaces/default/workflows`);
        await tab.evaluate((endpoint) => {
          localStorage.setItem('endpoint', JSON.stringify(endpoint));
          localStorage.setItem('includeCredentials', 'true');
          localStorage.setItem('overrideRemoteCodecConfiguration', 'true');
        }, `${api}/codec`);
        await tab.goto(`${webUi}/namespaces/default/workflows/readme-example/${runId}/history`);
      };
      await openRunWithCodec(page);
      await page.getByText('"healthy"').first().waitFor({ timeout: 30_000 });
      await screenshot(page, 'temporal-web-ui-decoded');
      // The control: the same settings without the app's session decode nothing.
      const anonymous = await browser.newPage();
      await openRunWithCodec(anonymous);
      await anonymous.getByText('"encryption-key-id"').first().waitFor({ timeout: 30_000 });
      expect(await anonymous.getByText('"healthy"').count()).toBe(0);
      await screenshot(anonymous, 'temporal-web-ui-not-signed-in');
    } finally {
      await browser.close();
    }

    // The CPU load burns in the worker's own threads (CPU_LOAD_WORKERS slots, 2 by default): the stack
    // runs no load-worker process, and each slot reports the CPU its thread measured under an ID of its own.
    const lock = JSON.parse(readFileSync(join(dataDir, 'stack.lock.json'), 'utf8')) as { children: { name: string; pid: number }[] };
    expect(lock.children.map((c) => c.name).filter((name) => name.includes('load-worker'))).toEqual([]);
    const worker = lock.children.find((c) => c.name === 'worker-1')!;
    const cpuLoadUrl = `${api}/api/cpu-load/start-test`;
    const asOperator = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    expect((await fetch(cpuLoadUrl, { method: 'PUT', headers: asOperator, body: JSON.stringify({ state: 'ON', ttlSeconds: 300 }) })).status).toBe(200);
    await vi.waitFor(async () => {
      const { samples } = (await (await fetch(cpuLoadUrl, { headers: asOperator })).json()) as CpuLoadView;
      expect(new Set(samples.map((sample) => sample.workerId))).toEqual(new Set([1, 2].map((slot) => `${worker.pid}@${hostname()}/${slot}`)));
      for (const sample of samples) expect(sample).toMatchObject({ pid: worker.pid, cpuPercent: expect.any(Number) });
      expect(Math.min(...samples.map((sample) => sample.cpuPercent))).toBeGreaterThan(12);
    }, { timeout: 40_000, interval: 1000 }); // slices of 10 s
    expect((await fetch(cpuLoadUrl, { method: 'POST', headers: asOperator, body: JSON.stringify({ state: 'OFF' }) })).status).toBe(200);

    // A worker killed outright is restarted by the supervisor, and work goes on.
    process.kill(worker.pid, 'SIGKILL');
    await waitForOutput(first, 'worker-1 exited (SIGKILL); restarting it in 0.5 s (restart 1 of 5 in 5 min)', 10_000);
    const afterCrash = spawnSync(cli, ['workflow', 'execute', ...address, '--type', 'healthCheck', '--task-queue', 'health-checks', '--workflow-id', 'after-crash', '--input', '{}', ...codec, '-o', 'json'], { encoding: 'utf8', timeout: 30_000 });
    expect(afterCrash.status, afterCrash.stderr).toBe(0);
    expect(afterCrash.stdout).toMatch(/"healthy":\s*true/);

    // A second stack on the same data dir is refused in one line, and changes nothing.
    const second = runStart(env);
    expect(await second.exit).toBe(1);
    const secondLines = second.output().trim().split('\n');
    expect(secondLines).toHaveLength(1);
    expect(secondLines[0]).toMatch(/^error: Another stack \(pid \d+\) is running on /);

    // A second stack elsewhere, on the same ports, is refused naming the ports.
    const otherDir = mkdtempSync(join(tmpdir(), 'fleet-start-other-'));
    const third = runStart({ ...env, FLEET_DATA_DIR: otherDir });
    expect(await third.exit).toBe(1);
    expect(third.output().trim().split('\n')).toHaveLength(1);
    expect(third.output()).toMatch(/^error: Ports already in use: \d+ \(Temporal, set TEMPORAL_ADDRESS\)/);
    rmSync(otherDir, { recursive: true, force: true });
    expect((await fetch(`${api}/readyz`)).status).toBe(200);

    // A seeded trigger deleted: the next start seeds it again, and only it (a start that finds every
    // seeded row skips the seeding process; scripts/fleetPrepared.ts).
    const asAdmin = { authorization: `Bearer ${await mintToken(config, 'reseed', 'admin')}` };
    expect((await fetch(`${api}/api/triggers/web-scale-in`, { method: 'DELETE', headers: asAdmin })).status).toBe(204);

    // Ctrl-C stops everything and frees the ports.
    first.child.kill('SIGINT');
    expect(await first.exit).toBe(0);
    expect(first.output()).toContain('Stopped.');
    for (const port of [config.api.port, config.temporal.uiPort, config.mysql.port, config.memcached.port, config.etcd.port]) {
      expect(await isPortFree('127.0.0.1', port)).toBe(true);
    }
    expect(Number(config.temporal.address.split(':')[1])).toSatisfy((p: number) => p > 0);

    // The next start finds the earlier workflow: Temporal's SQLite file was reused.
    const again = runStart(env);
    running.push(again);
    await waitForOutput(again, 'Press Ctrl-C to stop.', 90_000);
    // No second admin and no new password: the admin chose theirs, so the printed one's file is gone.
    expect(again.output()).not.toContain('Sign in');
    expect(again.output()).toContain('Seeded the autoscaling example on cluster web: trigger web-scale-in.');
    expect((await fetch(`${api}/api/triggers/web-scale-in`, { headers: asAdmin })).status).toBe(200);
    expect(existsSync(passwordFile)).toBe(false);
    const described = spawnSync(cli, ['workflow', 'describe', ...address, '--workflow-id', 'readme-example', '-o', 'json'], { encoding: 'utf8' });
    expect(described.status, described.stderr).toBe(0);
    expect(described.stdout).toContain('WORKFLOW_EXECUTION_STATUS_COMPLETED');
    again.child.kill('SIGINT');
    expect(await again.exit).toBe(0);
  }, 240_000);

  it('refuses an open data plane on a network address, naming the setting', async () => {
    const started = runStart({ API_HOST: '0.0.0.0', DATA_PLANE_OPEN: 'true', FLEET_DATA_DIR: dataDir });
    expect(await started.exit).toBe(1);
    expect(started.output().trim().split('\n')).toHaveLength(1);
    expect(started.output()).toMatch(/^error: DATA_PLANE_OPEN=true with API_HOST=0\.0\.0\.0: /);
  });

  it('explains a bad setting in one line and exits non-zero', async () => {
    const started = runStart({ API_PORT: 'abc', FLEET_DATA_DIR: dataDir });
    expect(await started.exit).toBe(1);
    expect(started.output().trim()).toBe('error: API_PORT="abc" is not a TCP port: use a whole number from 1 to 65535.');
  });

  it('stops what it started when a server fails at once, in one line', async () => {
    // etcd cannot use a data dir that is a file: it exits while MariaDB is still starting.
    const brokenDir = mkdtempSync(join(tmpdir(), 'fleet-start-broken-'));
    writeFileSync(join(brokenDir, 'etcd'), 'not a directory\n');
    try {
      const ports = await freeStackPorts();
      const started = runStart({ ...ports, FLEET_DATA_DIR: brokenDir });
      expect(await started.exit).toBe(1);
      const lines = started.output().trim().split('\n');
      expect(lines.find((line) => line.startsWith('error: ')), started.output()).toMatch(/^error: etcd exited \(1\) while starting; see /);
      expect(started.output()).not.toContain('Node.js v'); // no crash: the supervisor stopped the others
      const left = readdirSync('/proc').filter((pid) => /^\d+$/.test(pid) && (() => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(brokenDir);
        } catch {
          return false;
        }
      })());
      expect(left, 'processes of the failed stack still running').toEqual([]);
      // Those that name no data dir (memcached, moto, the simulators) are found by their ports.
      const portsOf = [...Object.entries(ports).filter(([name]) => name.endsWith('_PORT')).map(([, port]) => Number(port)), Number(ports.TEMPORAL_ADDRESS!.split(':')[1])];
      const stillTaken = (await Promise.all(portsOf.map(async (port) => ((await isPortFree('127.0.0.1', port)) ? [] : [port])))).flat();
      expect(stillTaken, 'ports of the failed stack still taken').toEqual([]);
    } finally {
      rmSync(brokenDir, { recursive: true, force: true });
    }
  });

  it('explains an unreachable Temporal in one line', async () => {
    const started = runStart({
      ...(await freeStackPorts()),
      FLEET_DATA_DIR: join(dataDir, 'remote'),
      TEMPORAL_ADDRESS: `127.0.0.1:${await findFreePort()}`, // nothing listens there
      TEMPORAL_LOCAL_SERVER: 'false',
      FLEET_LOCAL_SERVICES: 'false',
      CF_SIM: 'false',
    });
    expect(await started.exit).toBe(1);
    const errorLines = started.output().split('\n').filter((line) => line.startsWith('error:'));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(/^error: Temporal at 127\.0\.0\.1:\d+ did not become healthy within \d+ s/);
  }, 60_000);
});
