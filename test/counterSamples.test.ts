// Counters collected on real nodes (the local sshd), an HTTP endpoint of the test's own, and recorded
// in the stack's MariaDB and memcached under PyScaler's keys.
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { userInfo } from 'node:os';
import memjs from 'memjs';
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSshRunner, LOCAL_SSH_KEY, type SshRunner } from '../activities/nodes/ssh.ts';
import { createCounterCollector } from '../activities/triggers/collect.ts';
import { createSampleStore, memcachedKeys } from '../db/samples.ts';
import type { SshTarget } from '../workflows/nodes.shared.ts';
import type { Counter, Sample } from '../workflows/triggers.shared.ts';
import { useStack } from './support/fixture.ts';

describe('counters on two nodes, recorded in MySQL and memcached', () => {
  const stack = useStack({ workers: false });
  const id = randomUUID().replace(/-/g, '').slice(0, 8);
  const valueFile = `/tmp/fleet-counter-${id}`;
  const logins = new Map<string, number>();
  const requests: string[] = [];
  let server: Server;
  let base: string;
  let nodes: SshTarget[];
  let counting: SshRunner;

  beforeAll(async () => {
    server = createServer((request, response) => {
      requests.push(request.url!);
      const node = /^\/json\/([^/]+)$/.exec(request.url!)?.[1];
      if (node) return response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ load: { value: node.endsWith('1') ? 0.5 : 1.5 } }));
      if (request.url === '/metrics') {
        return response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(
          ['# HELP queue_depth Jobs waiting.', '# TYPE queue_depth gauge', 'queue_depth{queue="mail"} 3', 'queue_depth{queue="jobs",note="say \\"hi\\""} 17 1700000000000', ''].join('\n'),
        );
      }
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { sshd, keysDir } = stack.env.config.ssh;
    nodes = [1, 2].map((n) => ({ node: `k${id}0${n}`, host: sshd.addresses[n - 1]!, port: sshd.port, user: userInfo().username, keyRef: LOCAL_SSH_KEY }));
    const real = createSshRunner({ keysDir });
    counting = {
      run(target, command, options) {
        logins.set(target.node, (logins.get(target.node) ?? 0) + 1);
        return real.run(target, command, options);
      },
    };
  });
  afterAll(async () => {
    rmSync(valueFile, { force: true });
    await new Promise((resolve) => server.close(resolve));
  });

  const counters = (): Counter[] => [
    // The breaching one: its value comes from a file the test writes between rounds.
    { name: `k${id}-held`, kind: 'ssh', comparison: '>', threshold: 70, script: `cat ${valueFile}` },
    { name: `k${id}-load`, kind: 'ssh', comparison: '>=', threshold: 1000, script: "awk '{print $1}' /proc/loadavg" },
    { name: `k${id}-broken`, kind: 'ssh', comparison: '>', threshold: 0, script: 'echo 12; echo "disk gone" >&2; exit 2' },
    { name: `k${id}-json`, kind: 'http', comparison: '<', threshold: 1, format: 'json', url: `${base}/json/{node}`, jsonPointer: '/load/value' },
    { name: `k${id}-prom`, kind: 'http', comparison: '>', threshold: 10, format: 'prometheus', url: `${base}/metrics`, metric: 'queue_depth', labels: { queue: 'jobs' } },
    { name: `k${id}-away`, kind: 'http', comparison: '>', threshold: 0, format: 'json', url: 'http://example.com/{node}' },
  ];
  const byKey = (samples: Sample[]) => new Map(samples.map((s) => [`${s.node} ${s.counter.slice(id.length + 2)}`, s]));
  const memcachedValue = async (key: string) => (await stack.env.clients.memcached.get(key)).value?.toString() ?? null;
  /** Seconds the key has left, by memcached's meta get (memjs has no way to ask). */
  const ttlOf = (key: string) =>
    new Promise<number>((resolve, reject) => {
      const { host, port } = stack.env.config.memcached;
      const socket = connect(port, host, () => socket.write(`mg ${key} t\r\n`));
      let answer = '';
      socket.on('data', (chunk) => {
        answer += chunk.toString();
        if (!answer.endsWith('\r\n')) return;
        socket.end();
        const ttl = /^HD t(-?\d+)/.exec(answer);
        if (ttl) resolve(Number(ttl[1]));
        else reject(new Error(`mg ${key}: ${answer.trim()}`));
      });
      socket.on('error', reject);
    });
  const collector = () => createCounterCollector({ ssh: counting, allowedHosts: [], timeouts: { counterMs: 5000 }, parallelism: 2 });

  it('collects three SSH counters per node in one login each, HTTP counters once per URL, and refuses a host not allowed', async () => {
    writeFileSync(valueFile, '80\n');
    logins.clear();
    requests.length = 0;
    const samples = byKey(await collector().collect({ nodes, counters: counters() }));
    expect(samples.size).toBe(12);
    expect(Object.fromEntries(logins)).toEqual({ [nodes[0]!.node]: 1, [nodes[1]!.node]: 1 });
    for (const [n, node] of nodes.entries()) {
      expect(samples.get(`${node.node} held`)).toMatchObject({ value: 80 });
      expect(samples.get(`${node.node} load`)!.value).toEqual(expect.any(Number));
      expect(samples.get(`${node.node} broken`)).toMatchObject({ value: null, error: 'the script exited 2: disk gone' });
      expect(samples.get(`${node.node} json`)).toMatchObject({ value: n === 0 ? 0.5 : 1.5 });
      expect(samples.get(`${node.node} prom`)).toMatchObject({ value: 17 });
      expect(samples.get(`${node.node} away`)).toMatchObject({ value: null, error: 'refused: host example.com is not in COUNTER_ALLOWED_HOSTS' });
    }
    // /metrics has no {host} or {node}: one GET serves both nodes.
    expect(requests.sort()).toEqual([`/json/${nodes[0]!.node}`, `/json/${nodes[1]!.node}`, '/metrics']);
  });

  it('fails every SSH counter of an unreachable node with the reason, and still takes its HTTP counters', async () => {
    const unreachable: SshTarget = { ...nodes[0]!, node: `k${id}09`, port: 1 };
    const samples = byKey(await collector().collect({ nodes: [unreachable, nodes[1]!], counters: counters().slice(0, 4) }));
    for (const counter of ['held', 'load', 'broken']) expect(samples.get(`${unreachable.node} ${counter}`)).toMatchObject({ value: null, error: expect.stringMatching(/^SSH to .*:1 failed: .*ECONNREFUSED/) });
    expect(samples.get(`${unreachable.node} json`)).toMatchObject({ value: 1.5 });
    expect(samples.get(`${nodes[1]!.node} held`)!.value).toEqual(expect.any(Number));
  });

  it('counts breaches in memcached under the seed keys (1, 2, then 0), keeps failed samples out of them, and writes every sample and roll-up to MySQL', async () => {
    const store = createSampleStore(stack.env.clients.mysql, stack.env.clients.memcached, { retentionDays: 7 });
    const all = counters();
    const [held, , broken, json] = all;
    const rounds: Sample[][] = [];
    for (const value of ['80', '90.5', '10']) {
      writeFileSync(valueFile, `${value}\n`);
      const samples = await collector().collect({ nodes, counters: all });
      rounds.push(samples);
      expect(await store.record(samples, all)).toEqual({ stored: 12, memcached: 'ok' });
      const keys = memcachedKeys('ssh', nodes[0]!.node, held!.name, samples.find((s) => s.counter === held!.name && s.node === nodes[0]!.node)!.at);
      expect(await memcachedValue(keys.value)).toBe(value);
      if (rounds.length === 2) {
        expect(await memcachedValue(keys.count)).toBe('2');
        expect(keys.count).toBe(`ssh_sshcounter.${nodes[0]!.node}.${held!.name}`);
        expect(keys.value).toMatch(new RegExp(`^ssh_sshcounter\\.${nodes[0]!.node}\\.${held!.name}\\.20\\d{10}$`));
      }
    }
    for (const node of nodes) {
      expect(await memcachedValue(memcachedKeys('ssh', node.node, held!.name, new Date()).count)).toBe('0');
      // Failed every round: no count and no value, as PyScaler left the counter alone.
      expect(await memcachedValue(memcachedKeys('ssh', node.node, broken!.name, new Date()).count)).toBeNull();
    }
    // HTTP counters under their own prefix: node 1's 0.5 < 1 breached three times, node 2's 1.5 never.
    expect(await memcachedValue(`http_httpcounter.${nodes[0]!.node}.${json!.name}`)).toBe('3');
    expect(await memcachedValue(`http_httpcounter.${nodes[1]!.node}.${json!.name}`)).toBe('0');
    // A day to live (the count is touched after each incr, which alone keeps its first expiry).
    for (const key of [`ssh_sshcounter.${nodes[0]!.node}.${held!.name}`, `http_httpcounter.${nodes[0]!.node}.${json!.name}`]) {
      expect(await ttlOf(key)).toBeGreaterThan(86_390);
    }

    const pool: mysql.Pool = stack.env.clients.mysql;
    const [rows] = await pool.query<mysql.RowDataPacket[]>('SELECT counter, node, value, error FROM counter_samples WHERE counter LIKE ? ORDER BY at', [`k${id}-%`]);
    expect(rows).toHaveLength(36);
    expect(rows.filter((r) => r.counter === held!.name && r.node === nodes[0]!.node).map((r) => r.value)).toEqual([80, 90.5, 10]);
    expect(rows.filter((r) => r.counter === broken!.name).every((r) => r.value === null && r.error === 'the script exited 2: disk gone')).toBe(true);

    const from = new Date(Date.parse(rounds[0]![0]!.at) - 120_000);
    const to = new Date(Date.now() + 60_000);
    const series = await store.series({ counter: held!.name, node: nodes[0]!.node, from, to });
    expect(series.map((s) => s.value)).toEqual([80, 90.5, 10]);
    const rollups = await store.rollups({ counter: held!.name, node: nodes[0]!.node, from, to });
    // The rounds may straddle a minute: add the minutes up.
    expect(rollups.reduce((n, r) => n + r.count, 0)).toBe(3);
    expect(Math.min(...rollups.map((r) => r.min!))).toBe(10);
    expect(Math.max(...rollups.map((r) => r.max!))).toBe(90.5);
    expect(rollups.reduce((n, r) => n + r.sum!, 0)).toBe(180.5);
    const failedRollups = await store.rollups({ counter: broken!.name, from, to });
    expect(failedRollups.reduce((n, r) => n + r.failed, 0)).toBe(6);
    expect(failedRollups.every((r) => r.count === 0 && r.min === null && r.avg === null)).toBe(true);

    // Recording the same samples again (a retried activity) does not count them twice in the roll-ups.
    await store.record(rounds[2]!, all);
    const again = await store.rollups({ counter: held!.name, node: nodes[0]!.node, from, to });
    expect(again.reduce((n, r) => n + r.count, 0)).toBe(3);
  });

  it('records to MySQL when memcached is down, and says so', async () => {
    const down = memjs.Client.create('127.0.0.1:1', { retries: 0, timeout: 0.5, conntimeout: 0.5, logger: { log: () => {} } });
    try {
      const store = createSampleStore(stack.env.clients.mysql, down, { retentionDays: 7 });
      const counter: Counter = { name: `k${id}-nocache`, kind: 'ssh', comparison: '>', threshold: 1, script: 'echo 2' };
      const samples: Sample[] = nodes.map((n) => ({ counter: counter.name, node: n.node, at: new Date().toISOString(), value: 2 }));
      const started = performance.now();
      const result = await store.record(samples, [counter]);
      expect(result).toMatchObject({ stored: 2, memcached: 'unavailable', memcachedError: expect.any(String) });
      expect(performance.now() - started).toBeLessThan(6000);
      const series = await store.series({ counter: counter.name, from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000) });
      expect(series).toHaveLength(2);
    } finally {
      down.close();
    }
  });

  it('prunes samples past the retention and roll-ups past ten times it', async () => {
    const store = createSampleStore(stack.env.clients.mysql, stack.env.clients.memcached, { retentionDays: 7 });
    const counter: Counter = { name: `k${id}-old`, kind: 'ssh', comparison: '>', threshold: 1, script: 'echo 2' };
    const now = new Date();
    const daysAgo = (days: number) => new Date(now.getTime() - days * 86_400_000).toISOString();
    await store.record([6, 8, 71].map((days) => ({ counter: counter.name, node: 'prune01', at: daysAgo(days), value: days })), [counter]);
    const pruned = await store.prune(now);
    expect(pruned.samples).toBeGreaterThanOrEqual(2);
    expect(pruned.rollups).toBeGreaterThanOrEqual(1);
    const window = { counter: counter.name, node: 'prune01', from: new Date(now.getTime() - 100 * 86_400_000), to: now };
    expect((await store.series(window)).map((s) => s.value)).toEqual([6]);
    expect((await store.rollups(window)).map((r) => r.max)).toEqual([8, 6]);
  });
});
