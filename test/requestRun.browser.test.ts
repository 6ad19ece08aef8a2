import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { App } from '../server/app.ts';
import { screenshot } from './support/browser.ts';
import { requestJson, useStack, type Stack } from './support/fixture.ts';

describe('Sender, Receiver Overview and run pages in headless Chromium', () => {
  const slowServer = createServer((_request, response) => {
    setTimeout(() => response.end('{}'), 200).unref();
  });
  let slowUrl: string;
  let page: Page;
  let baseUrl: string;
  let app: App;
  /** The run the Sender test started and saw finish. */
  let finishedRunId = '';

  // The slow receiver comes first: the stack's workers may call it, and it closes after them.
  beforeAll(async () => {
    await new Promise<void>((resolve) => slowServer.listen(0, '127.0.0.1', resolve));
    slowUrl = `http://127.0.0.1:${(slowServer.address() as AddressInfo).port}/slow`;
  });
  afterAll(() => {
    slowServer.closeAllConnections();
    slowServer.close();
  });
  /** The app's own receiver (served to the browser) and the slow one. */
  const allowedDestinations = ({ browser }: Stack) => [`${browser.baseUrl}/receiver`, slowUrl];
  const stack = useStack({
    browser: true,
    workers: (s) => ({ allowedDestinations: allowedDestinations(s) }),
    app: (s) => ({ allowedDestinations: allowedDestinations(s), requestRunScope: `b${s.suffix.slice(-8)}` }),
  });
  beforeAll(() => {
    app = stack.app;
    ({ baseUrl, page } = stack.browser);
  });

  it('starts a run from the Sender form and shows it finished, with its calls/s chart', async () => {
    await page.goto(`${baseUrl}/request-runs/new`);
    expect(await page.locator('nav a.active').textContent()).toBe('Sender');
    await page.waitForFunction(() => 'htmx' in window);
    await page.fill('#calls', '600');
    await page.fill('#concurrency', '8');
    await page.selectOption('#mode', 'atomic');
    await screenshot(page, 'sender');
    await page.getByRole('button', { name: 'Go for it!' }).click();
    const link = page.locator('#request-run-result a');
    await link.waitFor({ timeout: 10_000 });
    await link.click();
    await page.waitForURL(/\/request-runs\/[\w-]+$/);
    finishedRunId = new URL(page.url()).pathname.split('/').pop()!;
    await page.locator('#run-details[data-status="completed"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('[data-progress="counted"] span').textContent()).toBe('600 counted');
    expect(await page.locator('[data-progress="sent"] span').textContent()).toBe('600 / 600 sent');
    expect(await page.locator('polyline[data-series="calls/s answered"]').count()).toBe(1);
    expect(await page.locator('[data-lost-updates]').getAttribute('data-lost-updates')).toBe('0');
    expect(await page.locator('#run-details dl.facts dd').nth(3).textContent()).toMatch(/^[\d,]+ calls\/s over (\d+ ms|\d+(\.\d)? s)$/);
    await screenshot(page, 'run-completed');
  });

  it('shows runs with progress bars on the Receiver Overview', async () => {
    await page.goto(`${baseUrl}/request-runs`);
    expect(await page.locator('nav a.active').textContent()).toBe('Receiver Overview');
    // Other test files write runs to the same table: look for this file's run, not the newest.
    const row = page.locator(`table.runs tbody tr[data-run="${finishedRunId}"]`);
    await row.waitFor({ timeout: 10_000 });
    expect(await row.locator('time').textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(await row.locator('.badge').textContent()).toBe('completed');
    expect(await row.locator('[data-progress="counted"] .bar').getAttribute('width')).toBe('100');
    await screenshot(page, 'receiver-overview');
  });

  it('cancels a running run from its page', async () => {
    const response = await requestJson<{ runId: string }>(app, 'POST', '/api/request-runs', { calls: 400, concurrency: 4, destination: slowUrl });
    const { runId } = response.body;
    await page.goto(`${baseUrl}/request-runs/${runId}`);
    await page.locator('#run-details[data-status="running"]').waitFor();
    // Wait until the progress bar has moved, so the screenshot shows a run under way.
    await page.waitForFunction(() => !document.querySelector('[data-progress="sent"] span')?.textContent?.startsWith('0 /'), undefined, { timeout: 10_000 });
    await screenshot(page, 'run-running');
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await page.locator('#run-details[data-status="cancelled"]').waitFor({ timeout: 10_000 });
    expect(await page.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);
    await screenshot(page, 'run-cancelled');
  });

  it('met no Content-Security-Policy violation on any page it opened', () => {
    expect(stack.browser.cspViolations).toEqual([]);
  });
});
