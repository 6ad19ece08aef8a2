// The trigger and counter pages in headless Chromium, against a cluster whose one node is the local
// sshd (registered by hostname): the list with its sparkline and sampling Pause/Resume, a trigger's
// page (chart with its threshold, Run chain now and its firing, the 409 while a chain runs, Dry run,
// Disable/Enable), the chain editor (add, reorder, remove, a refused save), and the counter editor's Test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { App } from '../server/app.ts';
import type { StoredCounter, StoredTrigger } from '../db/triggers.ts';
import type { TriggerScheduleView } from '../services/triggerSchedules.ts';
import type { NodeRecord } from '../workflows/nodes.shared.ts';
import { screenshot } from './support/browser.ts';
import { requestJson, useStack } from './support/fixture.ts';
import { createCluster, mailTo } from './support/nodes.ts';

describe('Trigger and counter pages in headless Chromium', () => {
  const stack = useStack({ browser: { width: 1200, height: 1000 } });
  const { env } = stack;
  let app: App;
  let page: Page;
  let baseUrl: string;
  let cluster: string;
  let node: string;
  const names = { counter: '', trigger: '' };

  const storedTrigger = async (name: string) => (await requestJson<{ trigger: StoredTrigger }>(app, 'GET', `/api/triggers/${name}`)).body.trigger;

  beforeAll(async () => {
    app = stack.app;
    ({ baseUrl, page } = stack.browser);
    cluster = await createCluster(app, { maxNodes: 2 });
    const registered = await requestJson<{ node: NodeRecord }>(app, 'POST', `/api/clusters/${cluster}/nodes/register`, { hostname: env.config.ssh.sshd.addresses[0], port: env.config.ssh.sshd.port });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    node = registered.body.node.name;
    names.counter = `${cluster}-load`;
    names.trigger = `${cluster}-out`;
    const counter = await requestJson(app, 'PUT', `/api/counters/${names.counter}`, { kind: 'ssh', comparison: '>', threshold: 50, script: 'echo 42' });
    expect(counter.status, JSON.stringify(counter.body)).toBe(201);
    // The chain holds the trigger's lock for a few seconds (a second Run is refused meanwhile), then mails.
    const trigger = await requestJson(app, 'PUT', `/api/triggers/${names.trigger}`, {
      cluster,
      counters: [names.counter],
      combine: 'avg',
      intervalMs: 2000,
      heldForMs: 2000,
      cooldownMs: 1000,
      chain: [
        { kind: 'local-script', target: 'lastnode', script: 'sleep 3' },
        { kind: 'email', address: `${cluster}@fleet.test`, title: '{trigger} ran on {cluster}', content: 'by hand' },
      ],
    });
    expect(trigger.status, JSON.stringify(trigger.body)).toBe(201);
  });
  afterAll(async () => {
    // Stops the cluster's sampling schedule with its last trigger.
    for (const name of [names.trigger, `${cluster}-new`]) await requestJson(app, 'DELETE', `/api/triggers/${name}`);
  });

  async function open(path: string) {
    await page.goto(`${baseUrl}${path}`);
    await page.waitForFunction(() => 'htmx' in window);
  }

  it('lists the trigger with its state, last value and sparkline, and pauses and resumes its cluster’s sampling', async () => {
    await open('/triggers');
    expect(await page.locator('nav a.active').textContent()).toBe('Triggers');
    const row = page.locator(`table.triggers tr[data-trigger="${names.trigger}"]`);
    expect(await row.locator('td').nth(1).textContent()).toBe(cluster);
    expect(await row.locator('td').nth(3).textContent()).toBe('yes');
    expect(await row.locator('.badge').textContent()).toMatch(/^(inactive|pending|firing|cooldown)$/);
    // The schedule samples every 2 s: the polled table shows the value and a line in the sparkline.
    await row.locator(`td.values [data-counter="${names.counter}"] strong`, { hasText: '42' }).waitFor({ timeout: 30_000 });
    // A flat line has no height: attached, not visible, is what counts.
    await row.locator('svg.sparkline polyline.series').waitFor({ state: 'attached', timeout: 15_000 });
    expect(await row.locator('svg.sparkline line.threshold').count()).toBe(1);

    const sampling = page.locator(`ul.sampling li[data-cluster="${cluster}"]`);
    expect(await sampling.getAttribute('data-paused')).toBe('false');
    await screenshot(page, 'triggers-list');
    await sampling.getByRole('button', { name: 'Pause' }).click();
    await page.locator(`ul.sampling li[data-cluster="${cluster}"][data-paused="true"]`).waitFor();
    const paused = await requestJson<{ schedule: TriggerScheduleView }>(app, 'GET', `/api/clusters/${cluster}/sampling`);
    expect(paused.body.schedule).toMatchObject({ paused: true, note: `paused by user:${stack.admin.username}` });
    await sampling.getByRole('button', { name: 'Resume' }).click();
    await page.locator(`ul.sampling li[data-cluster="${cluster}"][data-paused="false"]`).waitFor();
    expect((await requestJson<{ schedule: TriggerScheduleView }>(app, 'GET', `/api/clusters/${cluster}/sampling`)).body.schedule.paused).toBe(false);
  });

  it('charts the counter with its threshold, runs the chain by hand (a second run refused while it runs) and shows the firing', async () => {
    await open(`/triggers/${names.trigger}`);
    const chart = page.locator(`.counter-chart[data-counter="${names.counter}"]`);
    expect(await chart.locator('svg g.threshold').getAttribute('data-threshold')).toBe('50');
    expect(await chart.locator('svg g.threshold text').textContent()).toBe('> 50');
    await chart.locator(`svg polyline.series[data-series="${node}"]`).waitFor({ state: 'attached', timeout: 15_000 });

    await page.getByRole('button', { name: 'Run chain now' }).click();
    await page.locator('#trigger-result [data-started]').waitFor({ timeout: 15_000 });
    expect(await page.locator('#trigger-result').textContent()).toContain(`trigger-chain:${cluster}:${names.trigger}`);
    await page.getByRole('button', { name: 'Run chain now' }).click();
    await page.locator('#trigger-result [data-code="chain_running"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('#trigger-result').textContent()).toContain('is already running: one chain per trigger at a time');

    // The live part follows the firing to its end, and the chart marks it.
    const firing = page.locator('table.firings tbody tr').first();
    await page.locator('table.firings tbody tr[data-outcome="succeeded"]').waitFor({ timeout: 30_000 });
    expect(await firing.locator('td').nth(1).textContent()).toBe('manual');
    expect(await firing.locator('a').getAttribute('href')).toContain(encodeURIComponent(`trigger-chain:${cluster}:${names.trigger}`));
    expect(await chart.locator('svg line.marker').count()).toBeGreaterThanOrEqual(1);
    expect((await mailTo(env.config, `${cluster}@fleet.test`)).map((m) => m.subject)).toContain(`${names.trigger} ran on ${cluster}`);
    await screenshot(page, 'trigger-page');

    // The day's view has the same chart, per minute.
    await page.getByRole('link', { name: 'Last day' }).click();
    await page.waitForURL((url) => url.search === '?range=day');
    expect(await page.locator(`.counter-chart[data-counter="${names.counter}"] svg g.threshold`).count()).toBe(1);
    expect(await page.locator(`.counter-chart[data-counter="${names.counter}"] svg polyline.series[data-series="${node}"]`).count()).toBe(1);
  });

  it('shows a dry run’s evaluation, and disables and enables the trigger', async () => {
    await open(`/triggers/${names.trigger}`);
    await page.getByRole('button', { name: 'Dry run' }).click();
    const dryRun = page.locator('#trigger-result .dry-run');
    await dryRun.waitFor({ timeout: 30_000 });
    // 42 is not > 50: clear, nothing would fire.
    expect(await dryRun.getAttribute('data-fire')).toBe('false');
    expect(await dryRun.locator('[data-condition]').textContent()).toBe('clear');
    expect(await dryRun.locator(`tr[data-counter="${names.counter}"] td`).allTextContents()).toEqual([names.counter, 'clear', '42', '–', '1']);

    await page.getByRole('button', { name: 'Disable' }).click();
    await page.locator('#trigger-enable[data-enabled="false"]').waitFor();
    expect((await storedTrigger(names.trigger)).enabled).toBe(false);
    await page.locator('#trigger-state .badge', { hasText: 'disabled' }).waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.locator('#trigger-enable[data-enabled="true"]').waitFor();
    expect((await storedTrigger(names.trigger)).enabled).toBe(true);
  });

  it('edits the chain: adds, reorders and removes actions, refuses a bad save naming the field, and saves the new order', async () => {
    await open(`/triggers/${names.trigger}/edit`);
    const kinds = () => page.locator('#trigger-form fieldset.action').evaluateAll((sets) => sets.map((s) => s.getAttribute('data-kind')));
    expect(await kinds()).toEqual(['local-script', 'email']);

    await page.selectOption('#newKind', 'deploy-node');
    await page.getByRole('button', { name: 'Add action' }).click();
    await page.locator('fieldset.action[data-index="2"]').waitFor();
    expect(await kinds()).toEqual(['local-script', 'email', 'deploy-node']);
    await page.fill('#chain\\.2\\.label', 'scale out');
    // What was typed survives the round trips.
    await page.getByRole('button', { name: 'Up action 3' }).click();
    await page.waitForFunction(() => document.querySelector('fieldset.action[data-index="1"]')?.getAttribute('data-kind') === 'deploy-node');
    await page.getByRole('button', { name: 'Up action 2' }).click();
    await page.waitForFunction(() => document.querySelector('fieldset.action[data-index="0"]')?.getAttribute('data-kind') === 'deploy-node');
    expect(await kinds()).toEqual(['deploy-node', 'local-script', 'email']);
    expect(await page.inputValue('#chain\\.0\\.label')).toBe('scale out');
    await page.getByRole('button', { name: 'Remove action 2' }).click();
    await page.waitForFunction(() => document.querySelectorAll('fieldset.action').length === 2);
    expect(await kinds()).toEqual(['deploy-node', 'email']);
    // Nothing is stored before Save.
    expect((await storedTrigger(names.trigger)).chain.map((a) => a.kind)).toEqual(['local-script', 'email']);

    // A bad field: the schema's message beside the form, the field marked, nothing changed.
    await page.fill('#trigger-heldForMs', '500');
    await page.getByRole('button', { name: 'Save trigger' }).click();
    await page.locator('#trigger-form .error-text').waitFor();
    expect(await page.locator('#trigger-form .error-text').textContent()).toBe('heldForMs: must be 0 or at least intervalMs (a condition is seen once per interval)');
    expect(await page.getAttribute('#trigger-heldForMs', 'aria-invalid')).toBe('true');
    await screenshot(page, 'trigger-editor-error');
    expect(await storedTrigger(names.trigger)).toMatchObject({ heldForMs: 2000, chain: [{ kind: 'local-script' }, { kind: 'email' }] });

    await page.fill('#trigger-heldForMs', '4000');
    await page.getByRole('button', { name: 'Save trigger' }).click();
    await page.locator('#trigger-form .notice').waitFor();
    expect(await page.locator('#trigger-form .notice').textContent()).toBe(`Saved trigger ${names.trigger}.`);
    const saved = await storedTrigger(names.trigger);
    expect(saved.heldForMs).toBe(4000);
    expect(saved.chain).toEqual([
      { kind: 'deploy-node', label: 'scale out', target: 'none', onFailure: 'stop' },
      { kind: 'email', target: 'none', onFailure: 'stop', address: `${cluster}@fleet.test`, title: '{trigger} ran on {cluster}', content: 'by hand' },
    ]);
  });

  it('creates a trigger from the New trigger form, whose chart shades where its own threshold is breached', async () => {
    await open('/triggers');
    await page.fill('#trigger-name', `${cluster}-new`);
    await page.selectOption('#trigger-cluster', cluster);
    await page.check(`input[name="counter.${names.counter}"]`);
    await page.selectOption('#trigger-comparison', '>=');
    await page.fill('#trigger-threshold', '20');
    await page.fill('#trigger-intervalMs', '60000');
    await page.getByRole('button', { name: 'Create trigger' }).click();
    await page.waitForURL((url) => url.pathname === `/triggers/${cluster}-new`);
    expect(await storedTrigger(`${cluster}-new`)).toMatchObject({ cluster, counters: [names.counter], comparison: '>=', threshold: 20, chain: [] });
    expect(await page.locator('svg g.threshold').getAttribute('data-threshold')).toBe('20');
    // The counter's samples so far (42 on every tick of the other trigger) are all past 20: shaded, where the other trigger's chart (> 50) has none.
    expect(await page.locator('svg rect.band').count()).toBeGreaterThanOrEqual(1);
    await open(`/triggers/${names.trigger}`);
    expect(await page.locator('svg rect.band').count()).toBe(0);
  });

  // Two dry-run workflows (SSH on the node) and a save: generous on a busy 2-core machine.
  it('tests an unsaved counter on the local node before saving it', { timeout: 90_000 }, async () => {
    const name = `${cluster}-probe`;
    await open('/counters/new');
    await page.fill('#counter-name', name);
    await page.fill('#script', 'echo 42.5');
    await page.fill('#threshold', '10');
    await page.selectOption('#testNode', `${cluster}/${node}`);
    await page.getByRole('button', { name: 'Test' }).click();
    await page.locator('#counter-test-result .test-value').waitFor({ timeout: 30_000 });
    expect(await page.locator('#counter-test-result').textContent()).toBe(`${node}: 42.5`);
    expect((await requestJson(app, 'GET', `/api/counters/${name}`)).status).toBe(404);

    // A script that fails: the error, still nothing saved.
    await page.fill('#script', 'echo nope; exit 3');
    await page.getByRole('button', { name: 'Test' }).click();
    await page.locator(`#counter-test-result .error-text[data-node="${node}"]`).waitFor({ timeout: 30_000 });
    expect(await page.locator('#counter-test-result').textContent()).toMatch(new RegExp(`^${node}: failed: .+`));
    await screenshot(page, 'counter-test');

    // Another kind brings its fields; back to ssh, fixed, and saved.
    await page.selectOption('#counter-kind', 'http');
    await page.locator('#url').waitFor();
    expect(await page.inputValue('#counter-name')).toBe(name);
    await page.selectOption('#counter-kind', 'ssh');
    await page.locator('#script').waitFor();
    await page.fill('#script', 'echo 42.5');
    await page.getByRole('button', { name: 'Create counter' }).click();
    await page.waitForURL((url) => url.pathname === `/counters/${name}`);
    expect((await requestJson<{ counter: StoredCounter }>(app, 'GET', `/api/counters/${name}`)).body.counter).toMatchObject({ kind: 'ssh', comparison: '>', threshold: 10, script: 'echo 42.5' });
    await open('/counters');
    expect(await page.locator(`table.counters tr[data-counter="${names.counter}"] td`).allTextContents()).toEqual([names.counter, 'ssh', '> 50', '–', `${cluster}-new ${names.trigger} `]);
    expect(stack.browser.cspViolations).toEqual([]);
  });
});
