// The Nodes pages in headless Chromium against moto, the local sshd and the SMTP sink: create a
// cluster, deploy a node and watch its runbook, run a script, remove a node, read the mail.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { App } from '../api/app.ts';
import { openAppInBrowser, screenshot, type BrowserSession } from './support/browser.ts';
import { createCluster, fastTimings, json, uniqueClusterName } from './support/nodes.ts';
import { createTestApp, openTestEnvironment, uniqueSuffix, type TestEnvironment } from './support/stack.ts';

describe('Nodes pages in headless Chromium', () => {
  let env: TestEnvironment;
  let app: App;
  let session: BrowserSession;
  let page: Page;
  let baseUrl: string;
  const suffix = uniqueSuffix();
  const cluster = uniqueClusterName();
  const first = `${cluster}01`;
  const second = `${cluster}02`;

  beforeAll(async () => {
    env = await openTestEnvironment();
    await env.startWorkers(suffix);
    // Deployments and removals started from the UI wait milliseconds, not the production minutes.
    app = createTestApp(env, { taskQueueSuffix: suffix, deployTimings: fastTimings });
    session = await openAppInBrowser(app.fetch, { width: 1200, height: 1000 });
    ({ baseUrl, page } = session);
  });
  afterAll(async () => {
    await session?.close();
    await env?.close();
  });

  async function open(path: string) {
    await page.goto(`${baseUrl}${path}`);
    await page.waitForFunction(() => 'htmx' in window);
  }

  const texts = (selector: string) => page.locator(selector).allTextContents();

  it('lists the profiles (SSH keys by reference only), creates a cluster from the form and refuses bad input', async () => {
    await open('/nodes');
    expect(await page.locator('nav a.active').textContent()).toBe('Nodes');
    expect(await page.locator('table.ec2-profiles tr[data-profile="local"] td').first().textContent()).toBe('local');
    const sshRow = page.locator('table.ssh-profiles tr[data-profile="local"] td');
    expect(await sshRow.nth(2).textContent()).toMatch(/^[\w.-]+$/);
    expect(await page.content()).not.toContain('PRIVATE KEY');

    await page.fill('#cluster-name', cluster);
    await page.fill('#minNodes', '0');
    await page.fill('#maxNodes', '2');
    await page.fill('#notifyEmail', `${cluster}@fleet.test`);
    // Two lines: a CRLF from the browser would leave a "\r" in the directory name and break the second.
    // The sleep keeps the deployment running long enough to watch it live.
    await page.fill('#deployScript', 'mkdir -p /tmp/fleet-nodes/$FLEET_NODE\necho "app for $FLEET_CLUSTER" > /tmp/fleet-nodes/$FLEET_NODE/ui-app.txt\nsleep 2');
    await screenshot(page, 'nodes-create-form');
    await page.getByRole('button', { name: 'Create cluster' }).click();
    await page.locator('#cluster-form .notice').waitFor();
    expect(await page.locator('#cluster-form .notice').textContent()).toBe(`Created cluster ${cluster}.`);
    const row = page.locator(`table.clusters tr[data-cluster="${cluster}"] td`);
    expect(await row.allTextContents()).toEqual([cluster, '0 / 2', '0 / 0', 'local', 'local', `${cluster}@fleet.test`]);

    // Bad input comes back as the API's message, in the form, with what was typed.
    const refusals: [string, Record<string, string>, string][] = [
      ['a name that is not a slug', { '#cluster-name': 'Web Cluster!' }, 'name: must be a lowercase slug of up to 30 characters (it prefixes node names)'],
      ['min above max', { '#cluster-name': `${cluster}x`, '#minNodes': '3', '#maxNodes': '1' }, 'minNodes: must not exceed maxNodes'],
      ['a taken name', { '#cluster-name': cluster, '#minNodes': '0', '#maxNodes': '2' }, `A cluster named "${cluster}" already exists.`],
    ];
    for (const [why, fields, message] of refusals) {
      for (const [selector, value] of Object.entries(fields)) await page.fill(selector, value);
      await page.getByRole('button', { name: 'Create cluster' }).click();
      await page.locator('#cluster-form .error-text').waitFor();
      expect(await page.locator('#cluster-form .error-text').textContent(), why).toBe(message);
      expect(await page.inputValue('#cluster-name'), why).toBe(fields['#cluster-name']);
      if (why === 'min above max') await screenshot(page, 'nodes-create-error');
    }
    expect(await page.locator('table.clusters tr[data-cluster]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-cluster')))).not.toContain(`${cluster}x`);
  });

  it('deploys a node from the cluster page and follows its runbook until every step is done', async () => {
    await open(`/nodes/clusters/${cluster}`);
    expect(await page.locator('#nodes').textContent()).toContain('No node yet');
    await page.getByRole('button', { name: 'Deploy a node' }).click();
    await page.waitForURL(/\/nodes\/runbooks\/node-deploy/);
    expect(await page.locator('#runbook').getAttribute('data-execution')).toBe('RUNNING');
    expect(await page.locator('#runbook').getAttribute('hx-trigger')).toBe('every 1s');
    await page.locator('[data-step="app-deploy"][data-status="running"]').waitFor({ timeout: 30_000 });
    await screenshot(page, 'nodes-runbook-running');
    // No reload: only the polling brings the end.
    await page.locator('#runbook[data-execution="COMPLETED"]').waitFor({ timeout: 60_000 });
    expect(await page.locator('#runbook').getAttribute('hx-trigger')).toBeNull();
    expect(await page.locator('#runbook h1').textContent()).toBe(`Deployment of ${first} to ${cluster} succeeded`);
    const steps = await page.locator('ol.steps li').evaluateAll((items) => items.map((li) => `${li.getAttribute('data-step')}:${li.querySelector('.badge')?.textContent}`));
    expect(steps).toEqual([
      'reserve:done', 'launch:done', 'wait-running:done', 'wait-status-ok:done', 'ssh-ready:done', 'os-configuration:skipped',
      'tomcat:skipped', 'app-deploy:done', 'lb-register:done', 'lb-healthy:done', 'cluster-update:done', 'notify:done',
    ]);
    expect(await page.locator('[data-progress="steps"] span').textContent()).toBe('12 / 12 steps');
    expect(await page.locator('[data-step="notify"] .step-detail').textContent()).toBe(`to ${cluster}@fleet.test`);
    expect(await page.locator('dl.facts a').getAttribute('href')).toMatch(/^http:\/\/127\.0\.0\.1:8233\/namespaces\/.+\/history$/);
    await screenshot(page, 'nodes-runbook');
    // The form's two-line script ran as two lines.
    expect(readFileSync(`/tmp/fleet-nodes/${first}/ui-app.txt`, 'utf8')).toBe(`app for ${cluster}\n`);

    await page.getByRole('link', { name: `Cluster ${cluster} →` }).click();
    const node = page.locator(`#nodes tr[data-node="${first}"]`);
    expect(await node.getAttribute('data-state')).toBe('active');
    const cells = await node.locator('td').allTextContents();
    expect(cells[2]).toMatch(/^i-[0-9a-f]+$/);
    expect(cells[3]).toMatch(/^127\.[\d.]+:\d+$/);
    expect(await page.locator('table.runbooks tbody tr').count()).toBe(1);
    await screenshot(page, 'nodes-cluster');
  }, 90_000);

  it('runs a script on every node, shows each node’s output and re-runs it on the failed one', async () => {
    const deployed = await json<{ workflowId: string }>(app, 'POST', `/api/clusters/${cluster}/deployments`, { timings: fastTimings });
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(202);
    await env.client.workflow.getHandle(deployed.body.workflowId).result();

    await open(`/nodes/clusters/${cluster}`);
    // The cluster is at its maximum now: Deploy says why and starts nothing.
    await page.getByRole('button', { name: 'Deploy a node' }).click();
    await page.locator('#cluster-result .error-text').waitFor();
    expect(await page.locator('#cluster-result').textContent()).toBe(`Cluster ${cluster} already has 2 node(s), its maximum is 2.`);
    expect(page.url()).toBe(`${baseUrl}/nodes/clusters/${cluster}`);

    await page.fill('#script', `sleep 1\necho "hello from $FLEET_NODE"\nif [ "$FLEET_NODE" = "${second}" ]; then echo broken >&2; exit 3; fi`);
    await page.selectOption('#failurePolicy', 'continue');
    await page.getByRole('button', { name: 'Run script' }).click();
    await page.waitForURL(/\/nodes\/script-runs\/script-run/);
    expect(await page.locator('#script-run h1 .badge').textContent()).toBe('running');
    expect(await page.getByRole('button', { name: 'Re-run on failed nodes' }).count()).toBe(0);
    await page.locator('#script-run[data-execution="FAILED"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('#script-run h1 .badge').textContent()).toBe('failed');
    expect(await page.locator('[data-progress="nodes"] span').textContent()).toBe('2 / 2 nodes (1 failed)');
    const ok = page.locator(`tr[data-node="${first}"]`);
    expect(await ok.locator('.badge').textContent()).toBe('succeeded');
    expect(await ok.locator('[data-exit-code]').textContent()).toBe('0');
    expect(await ok.locator('pre.stdout').textContent()).toBe(`hello from ${first}\n`);
    const bad = page.locator(`tr[data-node="${second}"]`);
    expect(await bad.locator('.badge').textContent()).toBe('failed');
    expect(await bad.locator('[data-exit-code]').textContent()).toBe('3');
    expect(await bad.locator('pre.stderr').textContent()).toBe('broken\n');
    await screenshot(page, 'nodes-script-run');

    const firstRun = page.url();
    await page.getByRole('button', { name: 'Re-run on failed nodes' }).click();
    await page.waitForURL((url) => url.href !== firstRun && url.pathname.startsWith('/nodes/script-runs/'));
    await page.locator('#script-run[data-execution="FAILED"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('table.node-results tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-node')))).toEqual([second]);

    await open(`/nodes/clusters/${cluster}`);
    expect(await texts('table.script-runs tbody tr .badge')).toEqual(['failed', 'failed']);
  }, 90_000);

  it('removes a node from the cluster page and follows the removal', async () => {
    await open(`/nodes/clusters/${cluster}`);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator(`#nodes tr[data-node="${second}"]`).getByRole('button', { name: 'Remove' }).click();
    await page.waitForURL(/\/nodes\/runbooks\/node-remove/);
    await page.locator('#runbook[data-execution="COMPLETED"]').waitFor({ timeout: 60_000 });
    expect(await page.locator('#runbook h1').textContent()).toBe(`Removal of ${second} from ${cluster} succeeded`);
    expect(await texts('ol.steps li .badge')).toEqual(Array(7).fill('done'));
    await screenshot(page, 'nodes-removal');

    await open(`/nodes/clusters/${cluster}`);
    expect(await page.locator('#nodes tr[data-node]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-node')))).toEqual([first]);
  }, 90_000);

  it('shows the runbooks’ mail in the mailbox, newest first', async () => {
    await open(`/nodes/mailbox?to=${encodeURIComponent(`${cluster}@fleet.test`)}`);
    expect(await texts('.mail .mail-subject')).toEqual([
      `[fleet] ${second} removed from cluster ${cluster}`,
      `[fleet] ${second} deployed to cluster ${cluster}`,
      `[fleet] ${first} deployed to cluster ${cluster}`,
    ]);
    expect(await page.locator('.mail pre').last().textContent()).toContain('Steps:');
    await screenshot(page, 'nodes-mailbox');

    // Without a local SMTP sink the page says so instead of failing.
    const withoutSink = await createTestApp(env, { taskQueueSuffix: suffix, mailboxUrl: undefined }).request('/nodes/mailbox');
    expect(withoutSink.status).toBe(200);
    expect(await withoutSink.text()).toContain('there is no local mailbox to show');
  });

  it('says why a script cannot run on a cluster without active nodes', async () => {
    const empty = await createCluster(app);
    await open(`/nodes/clusters/${empty}`);
    await page.fill('#script', 'uptime');
    await page.getByRole('button', { name: 'Run script' }).click();
    await page.locator('#script-result .error-text').waitFor();
    expect(await page.locator('#script-result').textContent()).toBe(`Cluster ${empty} has no active node to run the script on.`);
    await screenshot(page, 'nodes-script-error');
  });

  it('answers unknown clusters and workflows with a page, not a stack trace', async () => {
    for (const path of ['/nodes/clusters/no-such-cluster', '/nodes/runbooks/node-deploy%3Anope%3Anope', '/nodes/script-runs/not-a-script-run']) {
      const response = await page.goto(`${baseUrl}${path}`);
      expect(response?.status(), path).toBe(404);
      expect(await page.locator('main .error-text').textContent(), path).toMatch(/^No (cluster named "no-such-cluster"|workflow with ID node-deploy:nope:nope)\.$|is not a script run\.$/);
    }
  });
});
