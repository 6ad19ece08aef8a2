import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { defaultLoadWorkerId } from '../activities/cpuLoad.ts';
import { CPU_LOAD_CONTROL_TASK_QUEUE, CPU_LOAD_TASK_QUEUE, cpuLoadMemcachedKey, cpuLoadWorkflowId } from '../workflows/cpuLoad.shared.ts';
import { screenshot } from './support/browser.ts';
import { useStack } from './support/fixture.ts';

describe('CPU load page (Autoscaler) in headless Chromium', () => {
  const stack = useStack({
    // The product's workers with two load slots, as the main worker has by default.
    workers: { loadSlots: 2 },
    app: ({ suffix }) => ({
      cpuLoad: {
        controlTaskQueue: CPU_LOAD_CONTROL_TASK_QUEUE + suffix,
        loadTaskQueue: CPU_LOAD_TASK_QUEUE + suffix,
        loadWorkers: 2,
        workflowSettings: { sliceMs: 500 },
      },
    }),
    browser: true,
  });
  const { env, suffix } = stack;
  let page: Page;
  let baseUrl: string;
  const target = `browser${suffix}`;
  const workerIds = [`${defaultLoadWorkerId()}/1`, `${defaultLoadWorkerId()}/2`];

  beforeAll(() => {
    ({ baseUrl, page } = stack.browser);
  });
  afterAll(() => env.client.workflow.getHandle(cpuLoadWorkflowId(target)).terminate('test cleanup').catch(() => undefined));

  it('switches the load ON, charts the CPU of each load worker, and switches it OFF', async () => {
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(`${baseUrl}/cpu-load?target=${target}`);
    const state = page.locator('.load-state');
    await expect(state.textContent()).resolves.toBe('The current state of the load is OFF');
    expect(await page.locator('nav a.active').textContent()).toBe('Autoscaler');
    expect(await page.locator('svg .empty').textContent()).toMatch(/No CPU samples yet/);
    await screenshot(page, 'cpu-load-off');

    const toggle = page.getByRole('switch');
    expect(await toggle.getAttribute('aria-checked')).toBe('false');
    await toggle.click();
    await page.locator('.load-state', { hasText: 'The current state of the load is ON' }).waitFor({ timeout: 15_000 });
    expect(await page.getByRole('switch').getAttribute('aria-checked')).toBe('true');
    // The default choice: it switches itself off in an hour.
    await expect(page.locator('[data-expires]').textContent()).resolves.toMatch(/^automatically at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(in (59 min|1 h)\)$/);

    // The polled chart grows a line per load worker, each with a legend entry.
    for (const workerId of workerIds) {
      await page.locator(`path.cpu-line[data-worker="${workerId}"]`).waitFor({ state: 'attached', timeout: 20_000 });
      await page.locator(`.cpu-legend [data-worker="${workerId}"]`).waitFor({ timeout: 5_000 });
    }
    const line = await page.locator('path.cpu-line').first().getAttribute('d');
    expect(line).toMatch(/^M[\d.]+,[\d.]+ H[\d.]+/);
    // Let a few slices land so the screenshot shows lines, not dots.
    await page.waitForFunction(() => (document.querySelector('path.cpu-line')?.getAttribute('d') ?? '').split('H').length > 3, null, { timeout: 20_000 });
    expect((await env.clients.memcached.get(cpuLoadMemcachedKey(target))).value?.toString()).toBe('ON');
    // The legend gives each worker's last measured CPU.
    for (const workerId of workerIds) {
      expect(await page.locator(`.cpu-legend [data-worker="${workerId}"] .muted`).textContent()).toMatch(/^\d+\.\d %$/);
    }
    await screenshot(page, 'cpu-load-on');

    await page.getByRole('switch').click();
    await page.locator('.load-state', { hasText: 'The current state of the load is OFF' }).waitFor({ timeout: 15_000 });
    await expect(page.locator('[data-expires]').textContent()).resolves.toBe('–');
    expect((await env.clients.memcached.get(cpuLoadMemcachedKey(target))).value?.toString()).toBe('OFF');
    // The samples stay on the chart after OFF.
    expect(await page.locator('path.cpu-line').count()).toBe(2);
    await screenshot(page, 'cpu-load-after-off');
    // htmx and the stylesheet come from our server: no CDN.
    expect(requests.every((url) => url.startsWith(baseUrl))).toBe(true);
  }, 90_000);

  it('met no Content-Security-Policy violation on any page it opened', () => {
    expect(stack.browser.cspViolations).toEqual([]);
  });
});
