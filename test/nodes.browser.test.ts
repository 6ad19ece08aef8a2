// The Nodes pages in headless Chromium against moto, the local sshd and the SMTP sink: create a
// cluster and profiles, edit and delete clusters, deploy a node and watch its runbook, run a script,
// remove a node, read the mail.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { App } from '../server/app.ts';
import type { Cluster, ProfileView, SshProfile } from '../workflows/nodes.shared.ts';
import { screenshot } from './support/browser.ts';
import { requestJson, useStack } from './support/fixture.ts';
import { createCluster, fastTimings, uniqueClusterName } from './support/nodes.ts';
import { createTestApp } from './support/stack.ts';
import { asToken } from './support/asToken.ts';

describe('Nodes pages in headless Chromium', () => {
  // Deployments and removals started from the UI wait milliseconds, not the production minutes.
  const stack = useStack({ app: { deployTimings: fastTimings }, browser: { width: 1200, height: 1000 } });
  const { env, suffix } = stack;
  let app: App;
  let page: Page;
  let baseUrl: string;
  const cluster = uniqueClusterName();
  const first = `${cluster}01`;
  const second = `${cluster}02`;

  beforeAll(() => {
    app = stack.app;
    ({ baseUrl, page } = stack.browser);
  });

  async function open(path: string) {
    await page.goto(`${baseUrl}${path}`);
    await page.waitForFunction(() => 'htmx' in window);
  }

  const texts = (selector: string) => page.locator(selector).allTextContents();

  async function fill(fields: Record<string, string>) {
    for (const [selector, value] of Object.entries(fields)) await page.fill(selector, value);
  }

  const ec2ProfileNames = async () => (await requestJson<{ profiles: ProfileView<'ec2'>[] }>(app, 'GET', '/api/ec2-profiles')).body.profiles.map((p) => p.name);
  const sshProfileNames = async () => (await requestJson<{ profiles: SshProfile[] }>(app, 'GET', '/api/ssh-profiles')).body.profiles.map((p) => p.name);
  const storedCluster = async (name: string) => (await requestJson<{ cluster: Cluster }>(app, 'GET', `/api/clusters/${name}`)).body.cluster;

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
      // The form is swapped for its answer: the previous refusal's text is there until then.
      await page.locator('#cluster-form .error-text', { hasText: message }).waitFor({ timeout: 5000 }).catch(() => undefined);
      expect(await page.locator('#cluster-form .error-text').textContent(), why).toBe(message);
      expect(await page.inputValue('#cluster-name'), why).toBe(fields['#cluster-name']);
      if (why === 'min above max') await screenshot(page, 'nodes-create-error');
    }
    expect(await page.locator('table.clusters tr[data-cluster]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-cluster')))).not.toContain(`${cluster}x`);
  });

  it('creates and updates EC2 and SSH profiles from their forms; bad input is refused and saves nothing', async () => {
    const ec2 = `ui${suffix}`;
    const ssh = `ui${suffix}`;
    const userData = `#!/bin/sh\necho ui-user-data-${suffix}\n`;
    const userDataOf = async () => (await requestJson<{ profiles: ProfileView<'ec2'>[] }>(app, 'GET', '/api/ec2-profiles')).body.profiles.find((p) => p.name === ec2)?.userData;
    await open('/nodes');

    await fill({
      '#ec2-name': ec2,
      '#ec2-region': 'eu-west-1',
      '#ec2-imageId': 'ami-0abcdef1234567890',
      '#ec2-instanceType': 't3.small',
      '#ec2-securityGroups': 'sg-0a1b2c3d, sg-4e5f6a7b',
      '#ec2-targetGroup': 'ui-tg',
      '#ec2-targetPort': '8080',
      '#ec2-userData': userData,
    });
    await page.getByRole('button', { name: 'Save EC2 profile' }).click();
    await page.locator('#ec2-profile-form .notice').waitFor();
    expect(await page.locator('#ec2-profile-form .notice').textContent()).toBe(`Created EC2 profile ${ec2}.`);
    const ec2Row = page.locator(`table.ec2-profiles tr[data-profile="${ec2}"] td`);
    expect(await ec2Row.allTextContents()).toEqual([ec2, 'eu-west-1', 'ami-0abcdef1234567890', 't3.small', 'sg-0a1b2c3d, sg-4e5f6a7b', 'ui-tg:8080', 'set', 'Edit']);
    const summary = await userDataOf();
    expect(summary).toMatchObject({ set: true, bytes: userData.length });
    expect(await page.inputValue('#ec2-name')).toBe('');
    // The create-cluster form offers the new profile without a reload.
    await page.locator(`#ec2Profile option[value="${ec2}"]`).waitFor({ state: 'attached' });

    // An AMI ID that is not one: the API's message, what was typed, and no profile.
    await fill({ '#ec2-name': `${ec2}-bad`, '#ec2-region': 'eu-west-1', '#ec2-imageId': 'not-an-ami', '#ec2-instanceType': 't3.small', '#ec2-targetGroup': 'ui-tg' });
    await page.getByRole('button', { name: 'Save EC2 profile' }).click();
    await page.locator('#ec2-profile-form .error-text').waitFor();
    expect(await page.locator('#ec2-profile-form .error-text').textContent()).toBe('imageId: must be an AMI ID such as ami-12c6146b');
    expect(await page.inputValue('#ec2-name')).toBe(`${ec2}-bad`);
    expect(await page.inputValue('#ec2-imageId')).toBe('not-an-ami');
    await screenshot(page, 'nodes-profile-error');
    expect(await page.locator(`table.ec2-profiles tr[data-profile="${ec2}-bad"]`).count()).toBe(0);
    expect(await ec2ProfileNames()).not.toContain(`${ec2}-bad`);

    // Edit fills the form in; a bad change leaves the profile as it was, a good one replaces it.
    await page.locator(`table.ec2-profiles tr[data-profile="${ec2}"]`).getByRole('button', { name: 'Edit' }).click();
    await page.waitForFunction((name) => (document.querySelector('#ec2-name') as HTMLInputElement).value === name, ec2);
    expect(await page.inputValue('#ec2-securityGroups')).toBe('sg-0a1b2c3d, sg-4e5f6a7b');
    expect(await page.inputValue('#ec2-targetPort')).toBe('8080');
    // User data is write-only: the form says it is set and its SHA-256, never its value.
    expect(await page.inputValue('#ec2-userData')).toBe('');
    expect(await page.locator('#ec2-profile-form [data-secret="userData"]').textContent()).toContain(`sha256 ${summary!.sha256}, ${summary!.bytes} bytes`);
    expect(await page.content()).not.toContain(`ui-user-data-${suffix}`);
    await page.fill('#ec2-instanceType', 'large');
    await page.getByRole('button', { name: 'Save EC2 profile' }).click();
    await page.locator('#ec2-profile-form .error-text').waitFor();
    expect(await page.locator('#ec2-profile-form .error-text').textContent()).toBe('instanceType: must be an instance type such as t3.micro');
    expect(await ec2Row.nth(3).textContent()).toBe('t3.small');
    await page.fill('#ec2-instanceType', 't3.large');
    // The save makes the cluster form's selects reload their options: a choice made before that
    // reload lands would be undone by it, as it would be for a user clicking that fast.
    const optionsReloaded = page.waitForResponse((response) => response.url().includes('/ui/partials/nodes/profile-options/ec2'));
    await page.getByRole('button', { name: 'Save EC2 profile' }).click();
    await page.locator('#ec2-profile-form .notice').waitFor();
    await optionsReloaded;
    await page.waitForFunction(() => !document.querySelector('#ec2Profile.htmx-request, #ec2Profile.htmx-settling, #ec2Profile.htmx-swapping'));
    expect(await page.locator('#ec2-profile-form .notice').textContent()).toBe(`Updated EC2 profile ${ec2}.`);
    expect(await ec2Row.nth(3).textContent()).toBe('t3.large');
    // Saved with an empty textarea: the stored user data is kept.
    expect(await userDataOf()).toEqual(summary);

    // The SSH profile: its key by file name only; the choice made in the create-cluster form survives the reload of its options.
    await page.selectOption('#ec2Profile', ec2);
    expect(await page.locator('#ssh-profile-form .hint').textContent()).toBe('The file name of a private key in the worker’s SSH_KEYS_DIR. The key itself is never entered here.');
    await fill({ '#ssh-name': ssh, '#ssh-user': 'deploy', '#ssh-keyRef': 'id_ed25519', '#ssh-port': '2222' });
    await page.getByRole('button', { name: 'Save SSH profile' }).click();
    await page.locator('#ssh-profile-form .notice').waitFor();
    expect(await page.locator('#ssh-profile-form .notice').textContent()).toBe(`Created SSH profile ${ssh}.`);
    expect(await page.locator(`table.ssh-profiles tr[data-profile="${ssh}"] td`).allTextContents()).toEqual([ssh, 'deploy', 'id_ed25519', '2222', 'Edit']);
    await page.locator(`#sshProfile option[value="${ssh}"]`).waitFor({ state: 'attached' });
    expect(await page.inputValue('#ec2Profile')).toBe(ec2);
    await screenshot(page, 'nodes-profiles');

    // A key pasted where its file name belongs is refused and not echoed back.
    await fill({ '#ssh-name': `${ssh}-key`, '#ssh-user': 'deploy', '#ssh-keyRef': '-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjEAAAAA' });
    await page.getByRole('button', { name: 'Save SSH profile' }).click();
    await page.locator('#ssh-profile-form .error-text').waitFor();
    expect(await page.locator('#ssh-profile-form .error-text').textContent()).toBe('keyRef: must be the file name of a key in SSH_KEYS_DIR (the key itself is never sent)');
    expect(await page.inputValue('#ssh-name')).toBe(`${ssh}-key`);
    expect(await page.inputValue('#ssh-keyRef')).toBe('');
    expect(await page.content()).not.toContain('PRIVATE KEY');
    expect(await sshProfileNames()).not.toContain(`${ssh}-key`);
  });

  it('edits a cluster’s settings from its page (full replace) and refuses min above max', async () => {
    const edited = await createCluster(app);
    await open(`/nodes/clusters/${edited}`);
    expect(await page.inputValue('#minNodes')).toBe('0');
    expect(await page.inputValue('#maxNodes')).toBe('5');
    expect(await page.inputValue('#ec2Profile')).toBe('local');
    expect(await page.inputValue('#notifyEmail')).toBe(`${edited}@fleet.test`);

    await fill({ '#minNodes': '1', '#maxNodes': '4', '#notifyEmail': '', '#tomcatScript': 'echo "tomcat on $FLEET_NODE"' });
    await page.getByRole('button', { name: 'Save cluster' }).click();
    await page.locator('#cluster-edit-form .notice').waitFor();
    expect(await page.locator('#cluster-edit-form .notice').textContent()).toBe(`Saved cluster ${edited}.`);
    expect(await texts('#cluster-facts dd')).toEqual(['0 active of 0 (min 1, max 4)', 'EC2 local · SSH local', 'nobody', expect.stringContaining('Tomcat script yes')]);
    expect(await page.inputValue('#maxNodes')).toBe('4');
    expect(await storedCluster(edited)).toMatchObject({ minNodes: 1, maxNodes: 4, notifyEmail: null, tomcatScript: 'echo "tomcat on $FLEET_NODE"' });
    await screenshot(page, 'nodes-cluster-edit');

    await fill({ '#minNodes': '6', '#maxNodes': '2' });
    await page.getByRole('button', { name: 'Save cluster' }).click();
    await page.locator('#cluster-edit-form .error-text').waitFor();
    expect(await page.locator('#cluster-edit-form .error-text').textContent()).toBe('minNodes: must not exceed maxNodes');
    expect([await page.inputValue('#minNodes'), await page.inputValue('#maxNodes')]).toEqual(['6', '2']);
    expect(await page.locator('#cluster-facts dd').first().textContent()).toBe('0 active of 0 (min 1, max 4)');
    expect(await storedCluster(edited)).toMatchObject({ minNodes: 1, maxNodes: 4 });
    await screenshot(page, 'nodes-cluster-edit-error');

    await open('/nodes');
    expect(await page.locator(`table.clusters tr[data-cluster="${edited}"] td`).nth(1).textContent()).toBe('1 / 4');
  });

  it('deletes an empty cluster from its page, after a confirm, and goes back to /nodes', async () => {
    const doomed = await createCluster(app);
    await open(`/nodes/clusters/${doomed}`);
    let question = '';
    page.once('dialog', (dialog) => {
      question = dialog.message();
      void dialog.accept();
    });
    await page.getByRole('button', { name: 'Delete cluster' }).click();
    await page.waitForURL(`${baseUrl}/nodes?deleted=${doomed}`);
    expect(question).toContain(`Delete cluster ${doomed}?`);
    expect(await page.locator('main .notice').first().textContent()).toBe(`Deleted cluster ${doomed}.`);
    expect(await page.locator(`table.clusters tr[data-cluster="${doomed}"]`).count()).toBe(0);
    await screenshot(page, 'nodes-cluster-deleted');
    expect((await requestJson(app, 'GET', `/api/clusters/${doomed}`)).status).toBe(404);
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
    const deployed = await requestJson<{ workflowId: string }>(app, 'POST', `/api/clusters/${cluster}/deployments`, { timings: fastTimings });
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
    // The script sleeps a second: its duration reads in seconds.
    expect(await ok.locator('td').nth(3).textContent()).toMatch(/^\d\.\d s$/);
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

  it('refuses to delete a cluster that still has a node, with the reason', async () => {
    await open(`/nodes/clusters/${cluster}`);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete cluster' }).click();
    await page.locator('#cluster-delete-result .error-text').waitFor();
    expect(await page.locator('#cluster-delete-result').textContent()).toBe(`Cluster ${cluster} still has 1 node(s): remove them first.`);
    expect(page.url()).toBe(`${baseUrl}/nodes/clusters/${cluster}`);
    expect(await storedCluster(cluster)).toMatchObject({ name: cluster, maxNodes: 2 });
    await screenshot(page, 'nodes-cluster-delete-refused');
  });

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
    const withoutSink = await asToken(createTestApp(env, { taskQueueSuffix: suffix, mailboxUrl: undefined }), stack.tokens.admin).request('/nodes/mailbox');
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

  it('cannot be framed by another page, so its Deploy and Delete buttons cannot be clickjacked', async () => {
    const framer = await page.context().browser()!.newPage();
    try {
      await framer.setContent(`<iframe src="${baseUrl}/nodes"></iframe>`, { waitUntil: 'load' });
      // Chromium shows its error page in place of a frame the page's policy refuses.
      expect(framer.frames()[1]!.url()).toBe('chrome-error://chromewebdata/');
    } finally {
      await framer.close();
    }
    const response = await page.goto(`${baseUrl}/nodes`);
    expect(response!.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(response!.headers()['x-frame-options']).toBe('DENY');
  });

  it('met no Content-Security-Policy violation on any page it opened', () => {
    expect(stack.browser.cspViolations).toEqual([]);
  });
});
