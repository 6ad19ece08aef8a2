// The queue-backlog counter without a server: its schema, the collector reading each queue once under
// `queue:<name>`, the reader's request and answer (a stubbed workflow service), and a tick that does
// not call a cluster's nodes unreachable for a counter that never samples them.
import { describe, expect, it } from 'vitest';
import type { SshRunner } from '../../activities/nodes/ssh.ts';
import { createCounterCollector, createQueueBacklogReader, type TaskQueueDescriber } from '../../activities/triggers/collect.ts';
import { sampledNodes } from '../../activities/triggers/tick.ts';
import { counterSchema, type Counter } from '../../workflows/triggers.shared.ts';
import { fractalTriggers, fractalBacklogCounter, fractalWorkerDeployScript, fractalWorkerEnv } from '../../scripts/localFleet.ts';
import { loadConfig } from '../../config.ts';

const noSsh: SshRunner = { run: () => Promise.reject(new Error('no SSH expected')) };
const backlog = (name: string, extra: Partial<Extract<Counter, { kind: 'queue-backlog' }>> = {}): Counter => ({ name, kind: 'queue-backlog', comparison: '>', threshold: 4, taskQueue: 'fractals', metric: 'count', ...extra });
const node = { node: 'fractal-workers01', host: '127.0.0.11', port: 2222, user: 'fleet', keyRef: 'k' };

describe('the queue-backlog counter', () => {
  it('defaults to the fractals queue and its count, and refuses what is not a queue name or metric', () => {
    expect(counterSchema.parse({ kind: 'queue-backlog', comparison: '>', threshold: 4 })).toEqual({ kind: 'queue-backlog', comparison: '>', threshold: 4, taskQueue: 'fractals', metric: 'count' });
    expect(counterSchema.parse({ kind: 'queue-backlog', comparison: '>', threshold: 30, taskQueue: 'renders-2', metric: 'age-seconds' })).toMatchObject({ taskQueue: 'renders-2', metric: 'age-seconds' });
    const refused = (body: object) => counterSchema.safeParse({ kind: 'queue-backlog', comparison: '>', threshold: 4, ...body }).error?.issues.map((i) => i.path.join('.'));
    expect(refused({ taskQueue: 'two words' })).toEqual(['taskQueue']);
    expect(refused({ taskQueue: '' })).toEqual(['taskQueue']);
    expect(refused({ metric: 'rate' })).toEqual(['metric']);
    expect(refused({ script: 'echo 1' })).toEqual(['']);
  });

  it('describes each queue once per collection, whatever the nodes, and records it under queue:<name>', async () => {
    const asked: string[] = [];
    const collector = createCounterCollector({
      ssh: noSsh,
      allowedHosts: [],
      queueBacklog: async (taskQueue) => {
        asked.push(taskQueue);
        return taskQueue === 'fractals' ? { count: 37, ageSeconds: 12.5 } : { count: 0, ageSeconds: 0 };
      },
    });
    const samples = await collector.collect({ nodes: [node, { ...node, node: 'fractal-workers02' }], counters: [backlog('waiting'), backlog('oldest', { metric: 'age-seconds' }), backlog('other', { taskQueue: 'idle' })] });
    expect(asked.sort()).toEqual(['fractals', 'idle']);
    expect(samples.map(({ counter, node, value }) => ({ counter, node, value }))).toEqual([
      { counter: 'waiting', node: 'queue:fractals', value: 37 },
      { counter: 'oldest', node: 'queue:fractals', value: 12.5 },
      { counter: 'other', node: 'queue:idle', value: 0 },
    ]);
  });

  it('is a failed sample, never an exception, when the server cannot answer or no reader is configured', async () => {
    const failing = createCounterCollector({ ssh: noSsh, allowedHosts: [], queueBacklog: () => Promise.reject(new Error('UNAVAILABLE: connection refused')) });
    expect(await failing.collect({ nodes: [node], counters: [backlog('waiting')] })).toEqual([
      expect.objectContaining({ node: 'queue:fractals', value: null, error: 'backlog of task queue fractals: UNAVAILABLE: connection refused' }),
    ]);
    const unconfigured = createCounterCollector({ ssh: noSsh, allowedHosts: [] });
    expect((await unconfigured.collect({ nodes: [node], counters: [backlog('waiting')] }))[0]).toMatchObject({ value: null, error: expect.stringContaining('no Temporal client') });
  });

  it('asks for the activity queue with stats (suffix appended) and reads the approximate count and age', async () => {
    const requests: unknown[] = [];
    const service: TaskQueueDescriber = {
      describeTaskQueue: async (request) => {
        requests.push(request);
        // The server's int64s arrive as Longs (the integration test reads real ones); numbers stand in here.
        return { stats: { approximateBacklogCount: 123, approximateBacklogAge: { seconds: 7, nanos: 500_000_000 } } } as unknown as Awaited<ReturnType<TaskQueueDescriber['describeTaskQueue']>>;
      },
    };
    const read = createQueueBacklogReader(service, 'default', '-test-1');
    expect(await read('fractals', new AbortController().signal)).toEqual({ count: 123, ageSeconds: 7.5 });
    expect(requests).toEqual([{ namespace: 'default', taskQueue: { name: 'fractals-test-1', kind: 1 }, taskQueueType: 2, reportStats: true }]);

    const old = createQueueBacklogReader({ describeTaskQueue: async () => ({ pollers: [] }) }, 'default');
    await expect(old('fractals', new AbortController().signal)).rejects.toThrow(/no task queue stats/);
  });

  it('leaves a cluster’s nodes out of a trigger’s reachability when all its counters are cluster-wide', () => {
    const counters: Counter[] = [backlog('waiting'), { name: 'cpu', kind: 'ssh', comparison: '>', threshold: 70, script: 'echo 1' }];
    expect(sampledNodes({ counters: ['waiting'] }, counters, ['a', 'b'])).toEqual([]);
    expect(sampledNodes({ counters: ['waiting', 'cpu'] }, counters, ['a', 'b'])).toEqual(['a', 'b']);
    // A counter that is gone is not known to be cluster-wide.
    expect(sampledNodes({ counters: ['missing'] }, counters, ['a'])).toEqual(['a']);
  });
});

describe('the fractal workers’ seed', () => {
  it('has a valid backlog counter and a disabled pair scaling by one node, out fast and in slowly', () => {
    expect(counterSchema.parse(fractalBacklogCounter)).toEqual(fractalBacklogCounter);
    const triggers = fractalTriggers({ notify: 'ops@fleet.local' });
    expect(Object.keys(triggers)).toEqual(['fractal-workers-scale-out', 'fractal-workers-scale-in']);
    expect(triggers['fractal-workers-scale-out']).toMatchObject({ enabled: false, comparison: '>', threshold: 4, heldForMs: 20_000, repeatAfterMs: 60_000, cooldownMs: 60_000, chain: [{ kind: 'deploy-node' }] });
    expect(triggers['fractal-workers-scale-in']).toMatchObject({ enabled: false, comparison: '<', threshold: 1, heldForMs: 60_000, cooldownMs: 60_000, chain: [{ kind: 'remove-node', target: 'lastnode' }] });
  });

  it('starts the worker with references to secrets only: the codec key file’s path, and S3 keys only when they are moto’s literal ones', () => {
    const config = loadConfig({ FLEET_DATA_DIR: '/tmp/fleet-data-x', TEMPORAL_ADDRESS: '127.0.0.1:7999', PAYLOAD_CODEC_KEYS: '', FRACTAL_S3_ENDPOINT: 'http://127.0.0.1:5999', FRACTAL_S3_ACCESS_KEY_ID: 'testing', FRACTAL_S3_SECRET_ACCESS_KEY: 'testing' });
    expect(fractalWorkerEnv(config, '-t1')).toMatchObject({
      TEMPORAL_ADDRESS: '127.0.0.1:7999',
      PAYLOAD_CODEC_KEY_FILE: '/tmp/fleet-data-x/codec.keys',
      FRACTAL_S3_ENDPOINT: 'http://127.0.0.1:5999',
      FRACTAL_S3_ACCESS_KEY_ID: 'testing',
      FRACTAL_WORKER_THREADS: '1',
      FRACTAL_S3_CREATE_BUCKET: 'false',
      FLEET_TASK_QUEUE_SUFFIX: '-t1',
    });
    const real = loadConfig({ FLEET_DATA_DIR: '/tmp/fleet-data-x', FRACTAL_S3_ENDPOINT: 'http://127.0.0.1:5999', FRACTAL_S3_ACCESS_KEY_ID: 'AKIAREAL', FRACTAL_S3_SECRET_ACCESS_KEY: 'secret-value' });
    const script = fractalWorkerDeployScript(real);
    expect(script).not.toContain('secret-value');
    expect(script).not.toContain('AKIAREAL');
    expect(script).toContain("FRACTAL_WORKER_THREADS='1'");
    expect(script).toMatch(/setsid nohup .* --import tsx '[^']*\/workers\/fractalWorker\.ts'/);
  });
});
