import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { ServerType } from '@hono/node-server';
import { createCfSimulator } from '../sim/cf/simulator.ts';
import { screenshot, serveForBrowser } from './support/browser.ts';
import { useStack } from './support/fixture.ts';

describe('Cloud Foundry page in headless Chromium', () => {
  let simServer: ServerType;
  let simUrl: string;
  let page: Page;
  let baseUrl: string;

  // The simulator comes first: the stack's workers converge against it, and it closes after them.
  beforeAll(async () => {
    const simulator = createCfSimulator({ stagingDelayMs: 30, copyDelayMs: 20, instanceStartDelayMs: 20, jobDelayMs: 10 });
    ({ url: simUrl, server: simServer } = await serveForBrowser(simulator.fetch));
  });
  afterAll(() => simServer?.close());
  const stack = useStack({
    workers: () => ({ cfFoundations: { default: { apiUrl: simUrl, credentials: { kind: 'password', username: 'admin', password: 'admin-secret' } } } }),
    browser: { width: 1200, height: 1000 },
  });
  beforeAll(() => {
    ({ baseUrl, page } = stack.browser);
  });

  /** The /cf-convergences form with 6 proxy apps × 2 and 4 tick apps × 1 under the prefix ui-. */
  async function openFilledForm() {
    await page.goto(`${baseUrl}/cf-convergences`);
    await page.waitForFunction(() => 'htmx' in window);
    await page.fill('#prefix', 'ui-');
    await page.fill('#proxyCount', '6');
    await page.fill('input[name="proxyInstances"]', '2');
    await page.fill('#tickCount', '4');
    await page.fill('input[name="tickInstances"]', '1');
  }

  it('starts a convergence from the form and shows its phases converge, then a no-op re-run', async () => {
    await openFilledForm();
    await page.fill('#concurrency', '4');
    await screenshot(page, 'cf-form');
    await page.getByRole('button', { name: 'Converge', exact: true }).click();
    const link = page.locator('#cf-result a');
    await link.waitFor({ timeout: 10_000 });
    expect(await link.textContent()).toBe('cf-converge-default-ui-org-ui-space');
    await link.click();
    await page.waitForURL(`${baseUrl}/cf-convergences/cf-converge-default-ui-org-ui-space`);
    await page.locator('#convergence[data-status="converged"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('[data-phase="create"] .progress span').textContent()).toBe('10 / 10');
    expect(await page.locator('[data-phase="push-prototype"] .progress span').textContent()).toBe('2 / 2');
    expect(await page.locator('[data-phase="copy-droplet"] .progress span').textContent()).toBe('8 / 8');
    expect(await page.locator('table.apps tbody tr').count()).toBe(10);
    expect(await page.locator('table.apps .badge.completed').count()).toBe(10);
    await screenshot(page, 'cf-converged');

    // Listed among the recent convergences, linked to its page, in its final state (once visibility has it).
    const recent = page.locator('table.executions tr[data-workflow-id="cf-converge-default-ui-org-ui-space"]').first();
    await expect
      .poll(async () => {
        await page.goto(`${baseUrl}/cf-convergences`);
        return (await recent.count()) > 0 ? recent.locator('.badge').textContent() : null;
      }, { timeout: 10_000 })
      .toBe('converged');
    expect(await recent.locator('a').getAttribute('href')).toBe('/cf-convergences/cf-converge-default-ui-org-ui-space');

    await openFilledForm();
    await page.getByRole('button', { name: 'Converge', exact: true }).click();
    await page.locator('#cf-result a').click();
    await page.locator('#convergence[data-status="converged"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('[data-mutating-calls]').getAttribute('data-mutating-calls')).toBe('0');
    expect(await page.locator('#convergence').textContent()).toContain('Nothing to do: the foundation already matches.');
    await screenshot(page, 'cf-reconverged');
  });

  it('explains an invalid desired state instead of starting anything', async () => {
    await page.goto(`${baseUrl}/cf-convergences`);
    await page.waitForFunction(() => 'htmx' in window);
    await page.locator('details summary', { hasText: 'desired state as JSON' }).click();
    await page.fill('textarea[name="json"]', JSON.stringify({ kinds: [{ kind: 'proxy', count: -3, instances: 1 }] }));
    await page.getByRole('button', { name: 'Converge from JSON' }).click();
    await page.locator('#cf-result .error-text').waitFor();
    expect(await page.locator('#cf-result').textContent()).toBe('kinds.0.count: must be a whole number from 0 to 10000');
  });

  it("starts the seed's parameter file uploaded as a file, and its plan shows the quota, the security group and the three kinds", async () => {
    await page.goto(`${baseUrl}/cf-convergences`);
    await page.waitForFunction(() => 'htmx' in window);
    await page.locator('details summary', { hasText: "the seed's parameter file" }).click();
    const seed = { proxy_instances: 2, proxy_applications: 100, test_app_instances: 2, test_applications: 100, test_app_registry_ttl_seconds: 180, policy_update_wait_seconds: 10, extra_listen_ports: 2, sample_percent: 20, prefix: 'uiseed-', concurrency: 20, asg_size: 5, dryRun: true };
    await page.setInputFiles('#seedFile', { name: 'seed.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(seed)) });
    await page.getByRole('button', { name: 'Converge from the parameter file' }).click();
    const link = page.locator('#cf-result a');
    await link.waitFor({ timeout: 10_000 });
    expect(await link.textContent()).toBe('cf-converge-default-uiseed-org-uiseed-space');
    await link.click();
    await page.locator('#convergence[data-status="planned"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('[data-kinds]').textContent()).toBe('registry 1 · tick 100 · proxy 100');
    expect(await page.locator('[data-setting="quota"]').textContent()).toBe('uiseed-quota (1024000 MB memory, 20000 routes): create, apply');
    expect(await page.locator('[data-setting="security-group"]').textContent()).toBe('uiseed-asg (5 rules, running): create, bind');
    await screenshot(page, 'cf-seed-plan');
  });

  it('met no Content-Security-Policy violation on any page it opened', () => {
    expect(stack.browser.cspViolations).toEqual([]);
  });
});
