// A script run's workflow payloads stay bounded whatever the nodes print: the output goes to MySQL
// (script_outputs) and the workflow keeps exit codes, byte counts and short tails.
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../server/app.ts';
import type { ScriptRunView } from '../services/nodes.ts';
import { MAX_OUTPUT_BYTES, OUTPUT_TAIL_BYTES } from '../workflows/nodes.shared.ts';
import { requestJson, useStack } from './support/fixture.ts';
import { historyBytes, rawHistory } from './support/history.ts';
import { createCluster, deployNodes } from './support/nodes.ts';

const NODES = 11;

describe('script output of eleven nodes', () => {
  const stack = useStack();
  const { env } = stack;
  let app: App;
  let cluster: string;

  beforeAll(async () => {
    app = stack.app;
    cluster = await createCluster(app, { maxNodes: NODES });
    await deployNodes(app, env.client, cluster, NODES);
  }, 120_000);

  it('completes when every node prints 16 KiB of NUL bytes on both streams, and the views read the output from MySQL', async () => {
    // The first node prints more than the cap: it is cut, and its byte count says how much there was.
    const script = `n=${MAX_OUTPUT_BYTES}; [ "$FLEET_NODE" = "${cluster}01" ] && n=20000; head -c $n /dev/zero; head -c ${MAX_OUTPUT_BYTES} /dev/zero >&2`;
    const started = await requestJson<{ workflowId: string }>(app, 'POST', `/api/clusters/${cluster}/scripts`, { script, parallelism: NODES });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const handle = env.client.workflow.getHandle(started.body.workflowId);
    const result = await Promise.race([handle.result(), new Promise((_, reject) => setTimeout(() => reject(new Error('the script run did not complete within 60 s')), 60_000))]);
    expect(result).toMatchObject({ state: 'succeeded' });

    // The whole history (inputs, eleven activity results, the run's result) stays small.
    expect(historyBytes(await rawHistory(env.client, started.body.workflowId)).length).toBeLessThan(NODES * 2 * OUTPUT_TAIL_BYTES * 6 * 2 + 64 * 1024);

    const view = await requestJson<ScriptRunView>(app, 'GET', `/api/script-runs/${encodeURIComponent(started.body.workflowId)}`);
    expect(view.status).toBe(200);
    expect(view.body.execution).toBe('COMPLETED');
    expect(view.body.nodes).toHaveLength(NODES);
    for (const node of view.body.nodes) {
      const first = node.node === `${cluster}01`;
      expect(node).toMatchObject({ outcome: 'succeeded', exitCode: 0, stdoutBytes: first ? 20000 : MAX_OUTPUT_BYTES, stderrBytes: MAX_OUTPUT_BYTES, truncated: first });
      // Lengths and the set of characters, so a failure says what arrived rather than printing 16 KiB.
      const shape = (text: string) => ({ length: text.length, characters: [...new Set(text)].map((character) => character.charCodeAt(0)) });
      expect({ node: node.node, stdout: shape(node.stdout), stderr: shape(node.stderr) }).toEqual({ node: node.node, stdout: shape('\0'.repeat(MAX_OUTPUT_BYTES)), stderr: shape('\0'.repeat(MAX_OUTPUT_BYTES)) });
    }

    const page = await app.request(`/nodes/script-runs/${encodeURIComponent(started.body.workflowId)}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('stdout: 20000 bytes printed');
  });
});
