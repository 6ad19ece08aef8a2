// The security headers, through the whole app on stub clients (support/stubApp.ts): every UI page and
// fragment answers HTML under a Content-Security-Policy that allows nothing inline and no framing, and
// carries nothing the policy would refuse (inline scripts, style attributes, event handlers); every
// other answer (JSON, the config cache's values, static files, errors) is at least nosniff.
import { describe, expect, it } from 'vitest';
import { movedPages } from '../../ui/routes.tsx';
import { htmxConfig } from '../../ui/layout.tsx';
import type { ConvergeProgress } from '../../workflows/cfConverge.shared.ts';
import { appActions } from '../../workflows/cfConverge.shared.ts';
import { cpuLoadWorkflowId, DEFAULT_CPU_LOAD_TARGET, type CpuLoadStatus, type CpuSample } from '../../workflows/cpuLoad.shared.ts';
import { deployNodeWorkflowId, scriptRunWorkflowId, type RunbookStatus, type ScriptRunStatus } from '../../workflows/nodes.shared.ts';
import { cluster, ec2Profile, nodeRecord, scriptResult, sshProfile } from './support/nodes.ts';
import { stubApp } from './support/stubApp.ts';
import { memoryTriggerModel } from './support/triggerModel.ts';
import type { Firing, TriggerStateStore } from '../../db/triggerStates.ts';
import { initialTriggerState } from '../../workflows/triggerEvaluation.shared.ts';
import { triggerChainWorkflowId } from '../../workflows/triggers.shared.ts';

// ---------------------------------------------------------------------------------------------
// What the stubs hold: one of everything a page shows, so the pages draw their progress bars,
// charts and legends.

const RUN_ID = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const CONVERGENCE = 'cf-converge-default-scale-org-scale-space';
const RUNBOOK = deployNodeWorkflowId('web', 'dep-1');
const SCRIPT_RUN = scriptRunWorkflowId('web', 'run-1');
const STARTED = '2026-01-01T00:00:00.000Z';
const FRACTAL = '0f8fad5b-d9cb-469f-a165-70867728950e';
const BATCH = '3f2b8c1e-0000-4000-8000-000000000001';
const fractalRow = {
  uuid: FRACTAL, checksum: 'ab'.repeat(32), url: `/fractal/${FRACTAL}`, duration: 0.5, size: 1234, width: 64, height: 48, iterations: 64,
  xa: -1.5, xb: 1.5, ya: -1, yb: 1, cx: -0.8, cy: 0.156, generated_by: '1@host', status: 'done', batch_id: BATCH, created_at: new Date(STARTED), revision: 1,
};

/** A record as its MySQL row: snake_case columns, lists as JSON. */
const columns = (record: object) =>
  Object.fromEntries(Object.entries(record).map(([field, value]) => [field.replace(/[A-Z]/g, (l) => `_${l.toLowerCase()}`), Array.isArray(value) ? JSON.stringify(value) : value]));

const requestRunRow = {
  run_id: RUN_ID, scope: 'default', timestamp: 1767225600, status: 'completed', mode: 'atomic', max_possible_count: 10, concurrency: 2,
  destination_url: 'http://127.0.0.1:3000/receiver', current_request_count: 9, sent_calls: 10, failed_calls: 1, started_at: STARTED,
  ended_at: '2026-01-01T00:00:02.000Z', latency_p50_ms: 2, latency_p90_ms: 3, latency_p99_ms: 4, latency_max_ms: 5,
  timeline: JSON.stringify([{ second: 1767225600, ok: 5, failed: 0 }, { second: 1767225601, ok: 4, failed: 1 }]),
};

function rows(sql: string): unknown {
  if (sql.includes('FROM request_recorder')) return [requestRunRow];
  if (sql.includes('FROM fractal_batches')) return [{ id: BATCH, tasks: 6, accepted: 6, done: 2, created_at: new Date(STARTED) }];
  if (sql.includes('COUNT(*) AS total FROM fractals')) return [{ total: 1 }];
  if (sql.includes('FROM fractals GROUP BY status')) return [{ status: 'done', n: 1 }];
  if (sql.includes('FROM fractals')) return [fractalRow];
  if (sql.includes('FROM clusters')) return [{ ...columns(cluster), node_count: 1, active_count: 1 }];
  if (sql.includes('FROM nodes')) return [{ ...columns(nodeRecord({ state: 'active' })), created_at: STARTED }];
  if (sql.includes('FROM ec2_profiles')) return [columns(ec2Profile)];
  if (sql.includes('FROM ssh_profiles')) return [columns(sshProfile)];
  if (sql.includes('FROM counter_samples')) return [0, 1, 2].map((i) => ({ counter: 'cpu-busy', node: 'web01', at: new Date(Date.now() - (3 - i) * 10_000), value: 60 + i * 10, error: null }));
  if (sql.includes('FROM counter_rollups')) return [{ counter: 'cpu-busy', node: 'web01', minute: new Date(Date.now() - 60_000), count: 6, min: 60, max: 80, sum: 420, failed: 0 }];
  return [];
}

const phase = (total: number, done: number, failed = 0) => ({ total, done, failed });
const convergence: ConvergeProgress = {
  status: 'applying', round: 1, plan: null, outcomes: [], failures: [], mutatingCalls: 3, settingsDone: { quota: false, securityGroup: false },
  phases: Object.fromEntries(appActions.map((action, i) => [action, phase(4, i % 4, i % 2)])) as ConvergeProgress['phases'],
};
const runbook: RunbookStatus = {
  kind: 'deploy', cluster: 'web', node: 'web01', instanceId: 'i-0abc', state: 'running',
  steps: [
    { name: 'reserve', label: 'Reserve a node', status: 'done', startedAt: STARTED, endedAt: STARTED },
    { name: 'launch', label: 'Launch the instance', status: 'running', startedAt: STARTED },
  ],
};
const scriptRun: ScriptRunStatus = {
  cluster: 'web', runId: 'run-1', parallelism: 2, failurePolicy: 'continue', toleratedFailureFraction: 0, state: 'running', startedAt: STARTED,
  nodes: [scriptResult('web01'), scriptResult('web02', { outcome: 'failed', exitCode: 1 }), scriptResult('web03', { outcome: 'running', exitCode: null, durationMs: null })],
};
const at = (second: number) => new Date(Date.parse(STARTED) + second * 1000).toISOString();
const sample = (workerId: string, second: number, cpuPercent: number): CpuSample => ({
  workerId, pid: 1, startedAt: at(second), endedAt: at(second + 1), wallMs: 1000, cpuMs: cpuPercent * 10, cpuPercent,
});
const cpuLoad: CpuLoadStatus = {
  target: DEFAULT_CPU_LOAD_TARGET, state: 'ON', since: STARTED, expiresAt: '2026-01-01T01:00:00.000Z', lastChange: { by: 'update', at: STARTED },
  ttlMs: 3_600_000, maxTtlMs: 3_600_000, sliceMs: 1000, parallelism: 2, loadTaskQueue: 'cpu-load', runningSlices: 2, slicesCompleted: 4, lastSliceError: null, continuedAsNew: 0,
  memcached: null, samples: [sample('1@a', 0, 90), sample('2@b', 0, 80), sample('1@a', 1, 95), sample('2@b', 1, 85)],
};

// A trigger that is pending, has fired once, and reads one counter.
const triggers = memoryTriggerModel(['web']);
triggers.counters.set('cpu-busy', { name: 'cpu-busy', kind: 'ssh', comparison: '>', threshold: 70, script: 'echo 1', createdAt: STARTED, updatedAt: STARTED });
triggers.triggers.set('web-out', {
  name: 'web-out', cluster: 'web', counters: ['cpu-busy'], combine: 'avg', intervalMs: 10_000, heldForMs: 30_000, keepFiringForMs: 0, cooldownMs: 60_000, enabled: true,
  circuitBreaker: { maxFirings: 5, windowMs: 3_600_000 }, chain: [{ kind: 'email', target: 'none', onFailure: 'stop', address: 'ops@fleet.test', title: '{trigger}', content: '' }],
  createdAt: STARTED, updatedAt: STARTED,
});
const firing: Firing = {
  id: 1, trigger: 'web-out', cluster: 'web', cause: 'manual', firedAt: STARTED, context: { trigger: 'web-out', cluster: 'web', cause: 'manual', firedAt: STARTED, values: {}, node: null },
  chain: [], chainWorkflowId: triggerChainWorkflowId('web', 'web-out'), chainRunId: 'run-1', outcome: 'succeeded', detail: '1 succeeded', endedAt: STARTED,
};
const triggerStates = {
  resetState: async () => undefined,
  states: async (names: readonly string[]) => new Map(names.map((name) => [name, { ...initialTriggerState(), state: 'pending' as const, since: STARTED, values: { 'cpu-busy': 80 } }])),
  firings: async () => [firing],
} as Partial<TriggerStateStore> as TriggerStateStore;

const stub = () =>
  stubApp({
    rows,
    triggerModel: triggers.model,
    triggerStates,
    workflows: {
      [CONVERGENCE]: { queries: { progress: convergence } },
      [RUNBOOK]: { queries: { runbookStatus: runbook } },
      [SCRIPT_RUN]: { queries: { scriptRunStatus: scriptRun } },
      [cpuLoadWorkflowId(DEFAULT_CPU_LOAD_TARGET)]: { queries: { cpuLoadStatus: cpuLoad } },
    },
    configEntries: [{ key: 'feature-flags/checkout', json: '{"enabled": true}', revision: 1 }],
  });

// ---------------------------------------------------------------------------------------------
// Every page and fragment the UI serves on GET, by its route, with the path this test asks for.

const uiGets: Record<string, string> = {
  '/': '/',
  '/ui/partials/health': '/ui/partials/health',
  '/ui/partials/executions': '/ui/partials/executions',
  '/request-runs/new': '/request-runs/new',
  '/request-runs': '/request-runs',
  '/ui/partials/request-runs': '/ui/partials/request-runs',
  '/request-runs/:runId': `/request-runs/${RUN_ID}`,
  '/ui/partials/request-runs/:runId': `/ui/partials/request-runs/${RUN_ID}`,
  '/cpu-load': '/cpu-load',
  '/ui/partials/cpu-load/:target': `/ui/partials/cpu-load/${DEFAULT_CPU_LOAD_TARGET}`,
  '/cf-convergences': '/cf-convergences',
  '/cf-convergences/:workflowId': `/cf-convergences/${CONVERGENCE}`,
  '/ui/partials/cf-convergences/:workflowId': `/ui/partials/cf-convergences/${CONVERGENCE}`,
  '/config-cache': '/config-cache',
  '/ui/partials/config-keys': '/ui/partials/config-keys',
  '/ui/config-cache/editor': '/ui/config-cache/editor?key=feature-flags/checkout',
  '/nodes': '/nodes',
  '/nodes/clusters/:name': '/nodes/clusters/web',
  '/ui/partials/nodes/clusters/:name/nodes': '/ui/partials/nodes/clusters/web/nodes',
  '/nodes/mailbox': '/nodes/mailbox',
  '/nodes/runbooks/:workflowId': `/nodes/runbooks/${encodeURIComponent(RUNBOOK)}`,
  '/ui/partials/nodes/runbooks/:workflowId': `/ui/partials/nodes/runbooks/${encodeURIComponent(RUNBOOK)}`,
  '/nodes/script-runs/:workflowId': `/nodes/script-runs/${encodeURIComponent(SCRIPT_RUN)}`,
  '/ui/partials/nodes/script-runs/:workflowId': `/ui/partials/nodes/script-runs/${encodeURIComponent(SCRIPT_RUN)}`,
  '/ui/nodes/profiles/:kind{ec2|ssh}/form': '/ui/nodes/profiles/ec2/form?name=small',
  '/ui/partials/nodes/profile-options/:kind{ec2|ssh}': '/ui/partials/nodes/profile-options/ssh',
  '/triggers': '/triggers',
  '/ui/partials/triggers': '/ui/partials/triggers',
  '/triggers/:name/edit': '/triggers/web-out/edit',
  '/triggers/:name': '/triggers/web-out',
  '/ui/partials/triggers/:name': '/ui/partials/triggers/web-out?range=day',
  '/counters': '/counters',
  '/counters/new': '/counters/new',
  '/counters/:name': '/counters/cpu-busy',
  '/fractals': '/fractals',
  '/ui/partials/fractal-batches': `/ui/partials/fractal-batches?batch=${BATCH}&done=1`,
  '/fractals/new': '/fractals/new',
  '/fractals/:uuid': `/fractals/${FRACTAL}`,
  '/ui/partials/fractals/:uuid': `/ui/partials/fractals/${FRACTAL}`,
  '/login': '/login',
  '/account/password': '/account/password',
  '/admin/users': '/admin/users',
  '/admin/tokens': '/admin/tokens',
  '/audit': '/audit',
};

/** GET routes that are not the UI's: the JSON API, the config cache, static files, probes, moved pages. */
const notUi = (path: string) =>
  /^\/(api|config|static|v1)\//.test(path) || ['/healthz', '/readyz', '/metrics', '/receiver', '/fractal/:uuid'].includes(path) || movedPages.some(([from]) => from === path);

/** The policy's directives: name → sources. */
function directives(policy: string | null): Map<string, string[]> {
  return new Map((policy ?? '').split(';').map((part) => part.trim().split(/\s+/)).filter(([name]) => name).map(([name, ...sources]) => [name!, sources]));
}

function expectDocumentHeaders(response: Response, what: string) {
  const { headers } = response;
  expect(headers.get('content-type'), what).toMatch(/^text\/html/);
  expect(headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(headers.get('x-frame-options'), what).toBe('DENY');
  expect(headers.get('referrer-policy'), what).toBe('same-origin');
  expect(headers.get('cross-origin-opener-policy'), what).toBe('same-origin');
  const policy = directives(headers.get('content-security-policy'));
  expect(policy.get('frame-ancestors'), what).toEqual(["'none'"]);
  expect(policy.get('default-src'), what).toEqual(["'self'"]);
  expect(policy.get('script-src'), what).toEqual(["'self'"]);
  expect(policy.get('object-src'), what).toEqual(["'none'"]);
  expect(policy.get('base-uri'), what).toEqual(["'none'"]);
  for (const [name, sources] of policy) expect(sources.filter((s) => /unsafe|\*|^https?:$/.test(s)), `${what}: ${name}`).toEqual([]);
}

/** What the policy would refuse in a page: inline scripts and styles, style attributes, event handlers. */
function inlineCode(html: string): string[] {
  const found = [
    ...html.matchAll(/<script(?![^>]*\ssrc=)[^>]*>/gi),
    ...html.matchAll(/<style\b[^>]*>/gi),
    ...html.matchAll(/<[^>]*\s(?:style|on[a-z]+|hx-on[^=\s]*)=[^>]*>/gi),
    ...html.matchAll(/<[^>]*\s(?:href|action|hx-[a-z]+)="javascript:[^>]*>/gi),
  ];
  return found.map(([tag]) => tag);
}

describe('security headers of the UI', () => {
  it('knows every page and fragment the UI serves on GET', () => {
    const routes = stub().app.routes.filter((r) => r.method === 'GET' && !notUi(r.path)).map((r) => r.path);
    expect(new Set(routes)).toEqual(new Set(Object.keys(uiGets)));
  });

  it.each(Object.entries(uiGets))('%s answers HTML under the policy, with nothing inline', async (_route, path) => {
    const response = await stub().app.request(path);
    const html = await response.text();
    expect(response.status, html).toBe(200);
    expectDocumentHeaders(response, path);
    expect(inlineCode(html)).toEqual([]);
  });

  it('checked the trigger pages with what they draw: a sparkline, the threshold and breach shading', async () => {
    const app = stub().app;
    expect(await (await app.request('/triggers')).text()).toMatch(/<svg class="sparkline"[^>]*>.*<polyline class="series"/s);
    const page = await (await app.request('/triggers/web-out')).text();
    expect(page).toContain('data-threshold="70"');
    expect(page).toContain('class="band"');
  });

  it('checked pages that draw progress bars and chart legends (what used to need style attributes)', async () => {
    const app = stub().app;
    const pages = await Promise.all([`/request-runs/${RUN_ID}`, `/cf-convergences/${CONVERGENCE}`, `/nodes/runbooks/${encodeURIComponent(RUNBOOK)}`, '/cpu-load'].map(async (path) => (await app.request(path)).text()));
    for (const html of pages) expect(html).toMatch(/class="progress"|class="swatch"/);
    expect(pages.join('').match(/<svg class="swatch"/g)?.length).toBeGreaterThanOrEqual(3);
  });

  it('configures htmx on every page to run without eval, script tags, an injected <style> or copied style attributes', async () => {
    const html = await (await stub().app.request('/')).text();
    const meta = /<meta name="htmx-config" content="([^"]*)"/.exec(html)?.[1];
    const config = JSON.parse(meta!.replaceAll('&quot;', '"')) as typeof htmxConfig;
    expect(config).toEqual(htmxConfig);
    expect(config).toMatchObject({ includeIndicatorStyles: false, allowEval: false, allowScriptTags: false });
    // htmx copies these from an element to its swapped-in version: a style attribute would be refused.
    expect(config.attributesToSettle).not.toContain('style');
    expect(await (await stub().app.request('/static/app.css')).text()).toContain('.htmx-request .htmx-indicator');
  });

  it('sends the headers with pages that say something is missing, and with fragments answering a form', async () => {
    const app = stub().app;
    const missing = await app.request('/nodes/runbooks/node-deploy:web:nothing');
    expect(missing.status).toBe(404);
    expectDocumentHeaders(missing, 'a missing runbook');
    const refused = await app.request('/ui/request-runs', { method: 'POST', body: new URLSearchParams({ calls: 'many' }) });
    expect(await refused.text()).toContain('error-text');
    expectDocumentHeaders(refused, 'a refused form');
  });
});

describe('security headers of everything else', () => {
  it.each([
    ['the JSON API', '/api/workflows', 'application/json'],
    ['a JSON error', '/api/nothing-here', 'application/json'],
    ['a config value, from the cache', '/config/feature-flags/checkout', 'application/json'],
    ['htmx', '/static/htmx.min.js', 'text/javascript'],
    ['the stylesheet', '/static/app.css', 'text/css'],
    ['a moved page', '/autoscaler', null],
  ])('marks %s nosniff', async (_what, path, contentType) => {
    const response = await stub().app.request(path);
    expect(response.headers.get('content-type')?.split(';')[0] ?? null).toBe(contentType);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
