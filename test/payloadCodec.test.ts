// What Temporal stores is ciphertext: a node deployment, a script run and a CF convergence carry a
// marker in their Puppet manifest, scripts, script output and app env values; neither the dev
// server's SQLite file (and its WAL) nor the histories it serves over gRPC hold it, while the same
// histories decoded with the codec do (the control that lets this test fail). A workflow started
// with a plain JSON input, as `temporal workflow start --input` writes it, still runs.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerType } from '@hono/node-server';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { App } from '../server/app.ts';
import type { ScriptRunView } from '../services/nodes.ts';
import { createCfSimulator } from '../sim/cf/simulator.ts';
import { serveForBrowser } from './support/browser.ts';
import { requestJson, useStack } from './support/fixture.ts';
import { createCluster, fastTimings } from './support/nodes.ts';
import { decodePayloads, historyBytes, rawHistory, visibleText } from './support/history.ts';
import { createPayloadCodec } from '../temporal/codec.ts';
import { cfConverge } from '../workflows/cfConverge.ts';
import { CF_CONVERGE_TASK_QUEUE } from '../workflows/cfConverge.shared.ts';
import { HEALTH_TASK_QUEUE, type HealthReport } from '../workflows/healthCheck.shared.ts';

/** Unique to this run, and in nothing but payloads: not in IDs, names or search attributes. */
const MARKER = `mk${randomUUID().replace(/-/g, '')}`;
/** Only the script's output says this: the script prints it in two pieces. */
const OUTPUT_MARKER = `${MARKER}-script-out`;

const manifest = `# ${MARKER}-puppet
file { ["/tmp/fleet-nodes", "/tmp/fleet-nodes/\${facts['fleet_node']}"]: ensure => directory }
`;

describe('payload encryption: what Temporal stores', () => {
  let sim: { url: string; server: ServerType };
  beforeAll(async () => {
    const knobs = { latencyMs: 0, stagingDelayMs: 30, copyDelayMs: 20, instanceStartDelayMs: 20, jobDelayMs: 10 };
    sim = await serveForBrowser(createCfSimulator({ ...knobs, appsDomain: 'apps.internal' }).fetch);
  });
  afterAll(() => sim?.server.close());
  const stack = useStack({ workers: () => ({ cfFoundations: { default: { apiUrl: sim.url, credentials: { kind: 'password', username: 'admin', password: 'admin-secret' } } } }) });
  const { env, suffix } = stack;
  let app: App;
  const workflowIds: string[] = [];

  beforeAll(async () => {
    app = stack.app;
    // A node deployment: the manifest and scripts travel in its activities' inputs.
    const cluster = await createCluster(app, {
      maxNodes: 1,
      puppetManifest: manifest,
      tomcatScript: `echo "${MARKER}-tomcat" > /dev/null`,
      deployScript: `echo "${MARKER}-deploy" > /dev/null`,
    });
    const deployment = await requestJson<{ workflowId: string }>(app, 'POST', `/api/clusters/${cluster}/deployments`, { timings: fastTimings });
    expect(deployment.status, JSON.stringify(deployment.body)).toBe(202);
    await env.client.workflow.getHandle(deployment.body.workflowId).result();
    workflowIds.push(deployment.body.workflowId);

    // A script run: the marker in its script, and (printed in pieces) in its output only.
    const run = await requestJson<{ workflowId: string }>(app, 'POST', `/api/clusters/${cluster}/scripts`, { script: `printf '%s%s\\n' '${MARKER}-scr' 'ipt-out'` });
    expect(run.status, JSON.stringify(run.body)).toBe(202);
    await env.client.workflow.getHandle(run.body.workflowId).result();
    workflowIds.push(run.body.workflowId);
    // The API reads it back through the codec.
    const view = await requestJson<ScriptRunView>(app, 'GET', `/api/script-runs/${encodeURIComponent(run.body.workflowId)}`);
    expect(view.body.nodes.map((n) => n.stdout)).toEqual([`${OUTPUT_MARKER}\n`]);

    // A CF convergence with the marker in an app's env values.
    const convergeId = `converge-codec${suffix}`;
    await env.client.workflow.execute(cfConverge, {
      workflowId: convergeId,
      taskQueue: CF_CONVERGE_TASK_QUEUE + suffix,
      args: [{ prefix: `codec${suffix.slice(-8)}-`, kinds: [{ kind: 'tick', count: 1, instances: 1, env: { API_TOKEN: `${MARKER}-cfenv` } }], concurrency: 2, pollIntervalMs: 10 }],
    });
    workflowIds.push(convergeId);
  }, 180_000);

  it('serves histories over gRPC whose bytes hold no marker, though decoded they do', async () => {
    const codec = createPayloadCodec(env.config);
    const scanned = { events: 0, bytes: 0 };
    for (const workflowId of workflowIds) {
      const history = await rawHistory(env.client, workflowId);
      expect(history.events!.length, workflowId).toBeGreaterThan(3);
      expect(historyBytes(history).includes(MARKER), workflowId).toBe(false);
      scanned.events += history.events!.length;
      scanned.bytes += historyBytes(history).length;
      // Control: the marker is there, in payloads the codec can read.
      expect(visibleText(await decodePayloads(history, codec)), workflowId).toContain(MARKER);
    }
    const [deployment, scriptRun, convergence] = await Promise.all(workflowIds.map(async (id) => visibleText(await decodePayloads(await rawHistory(env.client, id), codec))));
    expect(deployment).toContain(`${MARKER}-puppet`);
    expect(scriptRun).toContain(OUTPUT_MARKER);
    expect(convergence).toContain(`${MARKER}-cfenv`);
    console.log(`marker scan over gRPC: ${workflowIds.length} workflows, ${scanned.events} events, ${scanned.bytes} bytes, 0 occurrences`);
  });

  it("leaves no marker in the dev server's SQLite file or its WAL, which do hold the workflows", async () => {
    const files = ['temporal.sqlite', 'temporal.sqlite-wal'].map((name) => join(env.config.dataDir, name)).filter((path) => existsSync(path));
    expect(files[0]).toBe(join(env.config.dataDir, 'temporal.sqlite'));
    const bytes = Buffer.concat(files.map((path) => readFileSync(path)));
    // Control: these are the files the workflows were written to.
    for (const workflowId of workflowIds) expect(bytes.includes(workflowId), workflowId).toBe(true);
    expect(bytes.includes(MARKER)).toBe(false);
    console.log(`marker scan of ${files.map((path) => basename(path)).join(' + ')}: ${bytes.length} bytes, 0 occurrences`);
  });

  it('runs a workflow started with a plain JSON input, as the temporal CLI writes it', async () => {
    // A client without the codec writes what `temporal workflow start --input '{…}'` writes.
    const plain = new Client({ connection: env.client.connection, namespace: env.config.temporal.namespace });
    const workflowId = `plain-input${suffix}`;
    await plain.workflow.start('healthCheck', { workflowId, taskQueue: HEALTH_TASK_QUEUE + suffix, args: [{ dependencies: ['mysql'] }] });
    const report = await env.client.workflow.getHandle<() => Promise<HealthReport>>(workflowId).result();
    expect(report.results.map((r) => r.name)).toEqual(['mysql']);

    const events = (await rawHistory(env.client, workflowId)).events!;
    const input = events[0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    expect(defaultPayloadConverter.fromPayload(input)).toEqual({ dependencies: ['mysql'] });
    // What the worker wrote back is encrypted all the same.
    const result = events.find((e) => e.workflowExecutionCompletedEventAttributes)!.workflowExecutionCompletedEventAttributes!.result!.payloads![0]!;
    expect(Buffer.from(result.metadata!.encoding!).toString()).toBe('binary/encrypted');
  });
});
