import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { screenshot } from './support/browser.ts';
import { useStack } from './support/fixture.ts';

describe('Home page in headless Chromium', () => {
  const stack = useStack({ browser: { width: 1200, height: 800 } });
  let page: Page;
  let baseUrl: string;

  beforeAll(() => {
    ({ baseUrl, page } = stack.browser);
  });

  it('shows every dependency healthy, with htmx loaded from our own server', async () => {
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(`${baseUrl}/`);
    await page.locator('.card.health').nth(4).waitFor();
    const cards = await page.locator('.card.health').evaluateAll((els) =>
      els.map((el) => [el.getAttribute('data-dependency'), el.classList.contains('ok')]),
    );
    expect(cards).toEqual([['temporal', true], ['worker', true], ['mysql', true], ['memcached', true], ['etcd', true]]);
    await expect(page.locator('.summary').textContent()).resolves.toBe('All dependencies are ready.');
    expect(requests.every((url) => url.startsWith(baseUrl))).toBe(true);
    expect(await page.locator('nav a', { hasText: 'Temporal Web UI' }).getAttribute('href')).toBe('http://127.0.0.1:8233');
    // Each dependency's latency, written as every page writes a duration.
    expect(await page.locator('.card.health .latency').allTextContents()).toEqual(Array(5).fill(expect.stringMatching(/^\d+ ms$|^\d+\.\d s$/)));
    await screenshot(page, 'home');
  });

  it('runs the health-check workflow from the button and lists it, linked into the Temporal Web UI', { timeout: 60_000 }, async () => {
    await page.goto(`${baseUrl}/`);
    await page.locator('.card.health').first().waitFor(); // htmx is up once it has swapped the cards in
    await page.getByRole('button', { name: 'Run health-check workflow' }).click();
    await page.locator('#health-check-result', { hasText: 'Started health-check' }).waitFor({ timeout: 10_000 });
    // Other test files share this Temporal server: pick the row of exactly this workflow ID.
    const row = page
      .locator('table.executions tr')
      .filter({ has: page.getByRole('link', { name: 'health-check', exact: true }) })
      .filter({ has: page.locator('.badge.completed') });
    await row.first().waitFor({ timeout: 45_000 });
    const link = await row.first().locator('a').first().getAttribute('href');
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:8233\/namespaces\/default\/workflows\/health-check\/[\w-]+\/history$/);
    const [, type, status, detail, started, duration] = await row.first().locator('td').allTextContents();
    expect([type, status, detail]).toEqual(['healthCheck', 'completed', 'healthy']);
    expect(started).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(duration).toMatch(/^\d+ ms$|^\d+(\.\d)? s$/);
    await screenshot(page, 'home-after-health-check');
  });

  it('met no Content-Security-Policy violation on any page it opened', () => {
    expect(stack.browser.cspViolations).toEqual([]);
  });
});
