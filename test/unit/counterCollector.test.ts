// The counter collector without a network: a runner that runs the node's batch script with a local
// sh (as sshd would), fetch stubs, and the CF simulator in process for cf-process counters.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { storedZip } from '../../activities/cf/bits.ts';
import { createCfClient } from '../../activities/cf/client.ts';
import { CommandAbortedError, type SshRunner } from '../../activities/nodes/ssh.ts';
import { cfMetric, createCfProcessStatsReader, createCounterCollector, renderCounterUrl } from '../../activities/triggers/collect.ts';
import { createCfSimulator } from '../../sim/cf/simulator.ts';
import type { SshTarget } from '../../workflows/nodes.shared.ts';
import type { Counter } from '../../workflows/triggers.shared.ts';

const node = (n: number): SshTarget => ({ node: `web${String(n).padStart(2, '0')}`, host: `127.0.0.${10 + n}`, port: 22, user: 'fleet', keyRef: 'k' });
const ssh = (name: string, script: string): Counter => ({ name, kind: 'ssh', comparison: '>', threshold: 1, script });
const http = (name: string, url: string, extra: Partial<Extract<Counter, { kind: 'http' }>> = {}): Counter => ({ name, kind: 'http', comparison: '>', threshold: 1, format: 'json', url, ...extra });

/** Runs what the collector sends (`sh -s` with the script on stdin) here, after `delayMs`, counting logins and how many are at once. */
function localRunner(delayMs = 0) {
  const stats = { logins: 0, inFlight: 0, maxInFlight: 0, commands: [] as string[] };
  const runner: SshRunner = {
    async run(_target, command, options) {
      stats.logins++;
      stats.commands.push(command);
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      try {
        await sleep(delayMs, undefined, { signal: options.signal }).catch(() => {
          throw new CommandAbortedError('stopped waiting');
        });
        return await new Promise((resolve) => {
          const child = spawn('sh', ['-s']);
          let stdout = '';
          child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
          child.on('close', (code) => resolve({ exitCode: code, signal: null, stdout, stderr: '', truncated: false, timedOut: false, durationMs: 1, hostKeySha256: '' }));
          child.stdin.end(options.stdin);
        });
      } finally {
        stats.inFlight--;
      }
    },
  };
  return { runner, stats };
}

const refusingFetch = (() => Promise.reject(new Error('no fetch expected'))) as typeof fetch;

describe('collecting a tick', () => {
  it('logs in once per node for all its SSH counters, at most `parallelism` nodes at once', async () => {
    const { runner, stats } = localRunner(30);
    const collector = createCounterCollector({ ssh: runner, fetch: refusingFetch, allowedHosts: [], parallelism: 3 });
    const nodes = Array.from({ length: 12 }, (_, i) => node(i + 1));
    const samples = await collector.collect({ nodes, counters: [ssh('one', 'echo 1'), ssh('two', 'echo 2.5'), ssh('bad', 'echo x')] });
    expect(stats.logins).toBe(12);
    expect(stats.maxInFlight).toBe(3);
    expect(new Set(stats.commands)).toEqual(new Set(['sh -s']));
    expect(samples).toHaveLength(36);
    expect(samples.slice(0, 3).map((s) => [s.node, s.counter, s.value, s.error])).toEqual([
      ['web01', 'one', 1, undefined],
      ['web01', 'two', 2.5, undefined],
      ['web01', 'bad', null, 'stdout is not a number: "x\\n"'],
    ]);
  });

  it('ends at the overall deadline with failed samples for the nodes it did not finish, and rejects when the caller aborts', async () => {
    const { runner } = localRunner(60_000);
    const collector = createCounterCollector({ ssh: runner, fetch: refusingFetch, allowedHosts: [], parallelism: 2 });
    const started = performance.now();
    const samples = await collector.collect({ nodes: [node(1), node(2), node(3)], counters: [ssh('one', 'echo 1')], timeoutMs: 200 });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(samples.map((s) => [s.node, s.value, s.error])).toEqual([
      ['web01', null, 'the collection did not finish within 200 ms'],
      ['web02', null, 'the collection did not finish within 200 ms'],
      ['web03', null, 'the collection did not finish within 200 ms'],
    ]);

    const controller = new AbortController();
    const collecting = collector.collect({ nodes: [node(1)], counters: [ssh('one', 'echo 1')] }, controller.signal);
    setTimeout(() => controller.abort(new Error('activity cancelled')), 50);
    await expect(collecting).rejects.toThrow('activity cancelled');
  });

  it('renders URL templates per node, GETs each URL once, follows no redirect and refuses hosts not allowed', async () => {
    const asked: string[] = [];
    const fakeFetch = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = String(input);
      asked.push(url);
      expect(init?.redirect).toBe('manual');
      if (url.endsWith('/moved')) return new Response(null, { status: 302, headers: { location: 'http://169.254.169.254/' } });
      if (url.endsWith('/big')) return new Response('x'.repeat(5000));
      if (url.includes('metrics.internal')) return new Response('{"v": 4}');
      return new Response(JSON.stringify({ node: decodeURIComponent(url.split('/').pop()!), value: 2, nested: { 'a/b': 3 } }));
    }) as typeof fetch;
    const collector = createCounterCollector({ ssh: localRunner().runner, fetch: fakeFetch, allowedHosts: ['Metrics.Internal'], maxHttpBytes: 1000 });
    const counters = [
      http('per-node', 'http://{host}:9100/n/{node}', { jsonPointer: '/value' }),
      http('same-url', 'http://{host}:9100/n/{node}', { jsonPointer: '/nested/a~1b' }),
      http('shared', 'http://metrics.internal/all', { jsonPointer: '/v' }),
      http('moved', 'http://127.0.0.1/moved'),
      http('big', 'http://127.0.0.1/big'),
      http('outside', 'http://{node}.example.com/x'),
      http('prom', 'http://127.0.0.1/n/x', { format: 'prometheus', metric: 'up' }),
    ];
    const samples = await collector.collect({ nodes: [node(1), node(2)], counters });
    const of = (n: string, c: string) => samples.find((s) => s.node === n && s.counter === c)!;
    expect(of('web01', 'per-node').value).toBe(2);
    expect(of('web02', 'same-url').value).toBe(3);
    expect(of('web01', 'shared').value).toBe(4);
    expect(of('web01', 'moved')).toMatchObject({ value: null, error: 'http://127.0.0.1/moved answered HTTP 302' });
    expect(of('web01', 'big').error).toMatch(/larger than 1000 bytes/);
    expect(of('web01', 'outside').error).toBe('refused: host web01.example.com is not in COUNTER_ALLOWED_HOSTS');
    expect(of('web01', 'prom').error).toMatch(/did not answer Prometheus text/);
    // Per node, its own URL once; the shared ones once for the call; nothing for a refused host.
    expect(asked.sort()).toEqual(['http://127.0.0.1/big', 'http://127.0.0.1/moved', 'http://127.0.0.1/n/x', 'http://127.0.0.11:9100/n/web01', 'http://127.0.0.12:9100/n/web02', 'http://metrics.internal/all']);
    expect(renderCounterUrl('http://{host}/{node}', { host: '::1', node: 'a b/c' })).toBe('http://[::1]/a%20b%2Fc');
  });

  it('reads a CF app\'s process stats once per call for all its counters, under cf:<app>', async () => {
    const sim = createCfSimulator({ stagingDelayMs: 0, instanceStartDelayMs: 0, uploadProcessingMs: 0 });
    const statsReads: string[] = [];
    const simFetch = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = String(input);
      if (url.endsWith('/stats')) statsReads.push(url);
      return sim.request(url, init);
    }) as typeof fetch;
    const client = createCfClient({ apiUrl: 'http://cf.test', credentials: { kind: 'password', username: 'admin', password: 'admin-secret' }, fetch: simFetch });
    const org = await client.createOrganization('demo');
    const space = await client.createSpace(org.guid, 'prod');
    const app = await client.createApp(space.guid, 'shop', {}, undefined, { buildpacks: ['binary_buildpack'] });
    const pkg = await client.createPackage(app.guid);
    await client.uploadBits(pkg.guid, storedZip({ Procfile: 'web: ./shop --port $PORT\n' }));
    await client.waitForPackageReady(pkg.guid, { intervalMs: 1 });
    const build = await client.waitForBuild((await client.createBuild(pkg.guid)).guid, { intervalMs: 1 });
    await client.setCurrentDroplet(app.guid, build.droplet!.guid);
    await client.startApp(app.guid);
    await client.scaleWeb(app.guid, 3);
    expect((await sim.request(`http://cf.test/__sim/apps/${app.guid}/usage`, { method: 'PUT', body: JSON.stringify({ cpu: 42.5, memory: 100_000_000 }) })).status).toBe(200);

    const collector = createCounterCollector({ ssh: localRunner().runner, fetch: refusingFetch, allowedHosts: [], cfStats: createCfProcessStatsReader(() => client) });
    const cf = (name: string, metric: 'cpu' | 'memory' | 'instances', appName = 'shop'): Counter => ({ name, kind: 'cf-process', comparison: '>', threshold: 1, org: 'demo', space: 'prod', app: appName, metric });
    const counters = [cf('cpu', 'cpu'), cf('mem', 'memory'), cf('inst', 'instances'), cf('gone', 'cpu', 'no-such-app')];
    const samples = await collector.collect({ nodes: [node(1), node(2)], counters });
    expect(samples.map((s) => [s.node, s.counter, s.value, s.error])).toEqual([
      ['cf:shop', 'cpu', 42.5, undefined],
      ['cf:shop', 'mem', 300_000_000, undefined],
      ['cf:shop', 'inst', 3, undefined],
      ['cf:no-such-app', 'gone', null, 'process stats of demo/prod/no-such-app: no app no-such-app in demo/prod'],
    ]);
    expect(statsReads).toHaveLength(1);
    await collector.collect({ nodes: [], counters: counters.slice(0, 1) });
    expect(statsReads).toHaveLength(2);
  });

  it('averages CPU over running instances only, sums their memory, and has no CPU without one', () => {
    const stats = [
      { type: 'web', index: 0, state: 'RUNNING' as const, usage: { cpu: 0.2, mem: 100 } },
      { type: 'web', index: 1, state: 'RUNNING' as const, usage: { cpu: 0.6, mem: 300 } },
      { type: 'web', index: 2, state: 'STARTING' as const, usage: {} },
      { type: 'web', index: 3, state: 'CRASHED' as const, usage: { cpu: 9, mem: 9999 } },
    ];
    expect(cfMetric(stats, 'cpu')).toEqual({ value: 40 });
    expect(cfMetric(stats, 'memory')).toEqual({ value: 400 });
    expect(cfMetric(stats, 'instances')).toEqual({ value: 2 });
    expect(cfMetric(stats.slice(2), 'cpu')).toEqual({ error: 'no running instance reports CPU (2 instances, 0 running)' });
  });
});
