// DistributedScript over a cluster's nodes (the local sshd): per-node results, failure policies,
// output limits, timeouts, and a re-run on the failed nodes only.
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../server/app.ts';
import type { ErrorBody } from '../api/errors.ts';
import type { ScriptRunView } from '../services/nodes.ts';
import { MAX_OUTPUT_BYTES, scriptRunVerdict, type NodeScriptResult } from '../workflows/nodes.shared.ts';
import { firstFreeNodeName } from '../db/nodes.ts';
import { requestJson, useStack } from './support/fixture.ts';
import { createCluster, deployNodes } from './support/nodes.ts';

describe('DistributedScript on a cluster of three nodes', () => {
  const stack = useStack();
  const { env } = stack;
  let app: App;
  let cluster: string;

  beforeAll(async () => {
    app = stack.app;
    cluster = await createCluster(app, { maxNodes: 3 });
    await deployNodes(app, env.client, cluster, 3);
  });

  async function run(body: Record<string, unknown>): Promise<ScriptRunView> {
    const started = await requestJson<{ workflowId: string }>(app, 'POST', `/api/clusters/${cluster}/scripts`, body);
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    await env.client.workflow.getHandle(started.body.workflowId).result().catch(() => undefined);
    const view = await requestJson<ScriptRunView>(app, 'GET', `/api/script-runs/${encodeURIComponent(started.body.workflowId)}`);
    expect(view.status).toBe(200);
    return view.body;
  }

  const failsOnSecond = () => `echo "hello from $FLEET_NODE"; if [ "$FLEET_NODE" = "${cluster}02" ]; then echo broken >&2; exit 4; fi`;
  const outcomes = (view: ScriptRunView) => view.nodes.map((n) => `${n.node.slice(cluster.length)}:${n.outcome}`);

  it('continue-then-fail: every node runs, each with its exit code, output and duration; the run fails', async () => {
    const view = await run({ script: failsOnSecond(), parallelism: 3, failurePolicy: 'continue' });
    expect(view.execution).toBe('FAILED');
    expect(view.state).toBe('failed');
    expect(outcomes(view)).toEqual(['01:succeeded', '02:failed', '03:succeeded']);
    expect(view.nodes[0]).toMatchObject({ exitCode: 0, stdout: `hello from ${cluster}01\n`, stderr: '', truncated: false });
    expect(view.nodes[1]).toMatchObject({ exitCode: 4, stderr: 'broken\n' });
    for (const node of view.nodes) expect(node.durationMs).toBeGreaterThan(0);

    // Re-run on the failed node only.
    const rerun = await requestJson<{ workflowId: string; nodes: string[] }>(app, 'POST', `/api/script-runs/${encodeURIComponent(view.workflowId)}/rerun-failed`);
    expect(rerun.status).toBe(202);
    expect(rerun.body.nodes).toEqual([`${cluster}02`]);
    await env.client.workflow.getHandle(rerun.body.workflowId).result().catch(() => undefined);
    const again = await requestJson<ScriptRunView>(app, 'GET', `/api/script-runs/${encodeURIComponent(rerun.body.workflowId)}`);
    expect(outcomes(again.body)).toEqual(['02:failed']);
  });

  it('tolerate: failures within the fraction make a partial success', async () => {
    const view = await run({ script: failsOnSecond(), parallelism: 2, failurePolicy: 'tolerate', toleratedFailureFraction: 0.34 });
    expect(view.execution).toBe('COMPLETED');
    expect(view.state).toBe('partial');
    const strict = await run({ script: failsOnSecond(), parallelism: 2, failurePolicy: 'tolerate', toleratedFailureFraction: 0.2 });
    expect(strict.state).toBe('failed');
  });

  it('fail-fast: no node starts after the first failure', async () => {
    const view = await run({ script: failsOnSecond(), parallelism: 1, failurePolicy: 'fail-fast' });
    expect(outcomes(view)).toEqual(['01:succeeded', '02:failed', '03:skipped']);
    expect(view.state).toBe('failed');
  });

  it('cuts long output and stops a node that runs past its timeout', async () => {
    const long = await run({ script: `head -c ${MAX_OUTPUT_BYTES * 2} /dev/zero | tr '\\0' x`, nodes: [`${cluster}01`] });
    expect(long.nodes[0]).toMatchObject({ outcome: 'succeeded', truncated: true });
    expect(long.nodes[0]!.stdout).toHaveLength(MAX_OUTPUT_BYTES);
    const slow = await run({ script: 'sleep 5', nodes: [`${cluster}03`], nodeTimeoutMs: 300 });
    expect(slow.nodes[0]).toMatchObject({ node: `${cluster}03`, outcome: 'timed-out', exitCode: null });
    expect(slow.nodes[0]!.durationMs).toBeLessThan(4000);
  });

  it('keeps the cluster at its minimum: removing a node below it is refused and changes nothing', async () => {
    const raised = await requestJson(app, 'PUT', `/api/clusters/${cluster}`, { minNodes: 3, maxNodes: 3, ec2Profile: 'local', sshProfile: 'local' });
    expect(raised.status, JSON.stringify(raised.body)).toBe(200);
    try {
      const refused = await requestJson<ErrorBody>(app, 'DELETE', `/api/clusters/${cluster}/nodes/${cluster}01`, {});
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatchObject({ code: 'cluster_at_min', message: `Cluster ${cluster} has 3 active node(s), its minimum is 3.` });
      const busy = await requestJson<ErrorBody>(app, 'DELETE', `/api/clusters/${cluster}`);
      expect(busy.status).toBe(409);
      expect(busy.body.error.code).toBe('in_use');
      const detail = await requestJson<{ nodes: { state: string }[] }>(app, 'GET', `/api/clusters/${cluster}`);
      expect(detail.body.nodes.map((n) => n.state)).toEqual(['active', 'active', 'active']);
    } finally {
      await requestJson(app, 'PUT', `/api/clusters/${cluster}`, { minNodes: 0, maxNodes: 3, ec2Profile: 'local', sshProfile: 'local' });
    }
  });

  it('refuses a node whose SSH host key changed since its first login', async () => {
    const [[row]] = (await env.clients.mysql.query('SELECT host_key_sha256 AS hostKey FROM nodes WHERE cluster = ? AND name = ?', [cluster, `${cluster}02`])) as unknown as [[{ hostKey: string }]];
    expect(row.hostKey).toMatch(/^[0-9a-f]{64}$/);
    await env.clients.mysql.query('UPDATE nodes SET host_key_sha256 = ? WHERE cluster = ? AND name = ?', ['0'.repeat(64), cluster, `${cluster}02`]);
    try {
      const view = await run({ script: 'echo ok', parallelism: 3, failurePolicy: 'continue' });
      expect(outcomes(view)).toEqual(['01:succeeded', '02:unreachable', '03:succeeded']);
      expect(view.nodes[1]!.error).toMatch(/presented host key SHA256 [0-9a-f]{64}, not the 0{64} it had at its first login/);
    } finally {
      await env.clients.mysql.query('UPDATE nodes SET host_key_sha256 = ? WHERE cluster = ? AND name = ?', [row.hostKey, cluster, `${cluster}02`]);
    }
  });

  it('refuses a bad script request', async () => {
    const cases: [unknown, number, string][] = [
      [{ script: '' }, 400, 'validation_failed'],
      [{ script: 'true', parallelism: 0 }, 400, 'validation_failed'],
      [{ script: 'true', failurePolicy: 'sometimes' }, 400, 'validation_failed'],
      [{ script: 'true', toleratedFailureFraction: 0.5 }, 400, 'validation_failed'],
      [{ script: 'true', nodes: [`${cluster}42`] }, 404, 'unknown_node'],
    ];
    for (const [body, status, code] of cases) {
      const response = await requestJson<ErrorBody>(app, 'POST', `/api/clusters/${cluster}/scripts`, body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(response.body.error.code).toBe(code);
    }
  });
});

describe('script-run verdicts and node names', () => {
  const result = (outcome: NodeScriptResult['outcome']): NodeScriptResult => ({ node: 'n', outcome, exitCode: null, stdout: '', stderr: '', truncated: false, durationMs: 1 });
  it('judges a run by its policy', () => {
    const oneOfFourFailed = [result('succeeded'), result('succeeded'), result('unreachable'), result('succeeded')];
    expect(scriptRunVerdict(oneOfFourFailed, 'continue', 0)).toBe('failed');
    expect(scriptRunVerdict(oneOfFourFailed, 'tolerate', 0.25)).toBe('partial');
    expect(scriptRunVerdict(oneOfFourFailed, 'tolerate', 0.2)).toBe('failed');
    expect(scriptRunVerdict([result('succeeded')], 'fail-fast', 0)).toBe('succeeded');
  });
  it('names nodes <cluster>01…99, first free first, as the original did', () => {
    expect(firstFreeNodeName('web', [])).toBe('web01');
    expect(firstFreeNodeName('web', ['web01', 'web03'])).toBe('web02');
    expect(firstFreeNodeName('web', Array.from({ length: 99 }, (_, i) => `web${String(i + 1).padStart(2, '0')}`))).toBeUndefined();
  });
});
