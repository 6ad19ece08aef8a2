import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { ConfigCache } from '../services/configCache.ts';
import { screenshot } from './support/browser.ts';
import { cacheFactory, uniqueKeyPrefix } from './support/configCache.ts';
import { useStack } from './support/fixture.ts';
import { testConfig } from './support/stack.ts';

describe('Config Cache page in headless Chromium', () => {
  const prefix = uniqueKeyPrefix();
  const caches = cacheFactory(testConfig());
  let cache: ConfigCache;
  let page: Page;
  let baseUrl: string;

  // The cache comes first: the stack's app serves it, and it closes after the stack.
  beforeAll(async () => {
    cache = caches.open(prefix, 'browser-1');
    await cache.whenSynced();
    await cache.put('payments/retries', '{"max": 3}');
  });
  afterAll(() => caches.closeAll());
  const stack = useStack({ workers: false, app: () => ({ configCache: cache }), browser: true });
  const { env } = stack;
  const etcdValue = (key: string) => env.clients.etcd.get(prefix + key).string();
  beforeAll(() => {
    ({ baseUrl, page } = stack.browser);
  });

  it('lists keys and says which instance served the page at which cache revision', async () => {
    await page.goto(`${baseUrl}/config-cache`);
    await page.waitForFunction(() => 'htmx' in window);
    const servedBy = page.locator('.served-by');
    expect(await servedBy.getAttribute('data-instance')).toBe('browser-1');
    expect(Number(await servedBy.getAttribute('data-cache-revision'))).toBeGreaterThan(0);
    expect(await servedBy.textContent()).toContain(prefix);
    expect(await servedBy.locator('.badge.synced').textContent()).toBe('synced');
    expect(await page.locator('tr[data-key="payments/retries"] .value-preview').textContent()).toBe('{"max": 3}');
    expect(await page.locator('nav a.active').textContent()).toBe('Config Cache');
  });

  it('creates a key, refuses invalid JSON, edits the value and deletes the key', async () => {
    await page.goto(`${baseUrl}/config-cache`);
    await page.waitForFunction(() => 'htmx' in window);

    await page.fill('#config-key', 'ui/feature-flags');
    await page.fill('#config-value', '{"beta": true, "rollout": 10}');
    await page.getByRole('button', { name: 'Save' }).click();
    const row = page.locator('tr[data-key="ui/feature-flags"]');
    await row.waitFor();
    expect(await page.locator('[role="status"]').textContent()).toMatch(/^Saved ui\/feature-flags at revision \d+\.$/);
    expect(await etcdValue('ui/feature-flags')).toBe('{"beta": true, "rollout": 10}');
    await screenshot(page, 'config-cache-created');

    await page.fill('#config-key', 'ui/broken');
    await page.fill('#config-value', '{"beta": tru');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('[data-error]').waitFor();
    expect(await page.locator('[data-error]').textContent()).toMatch(/not valid JSON/);
    // The form keeps what was typed, so it can be fixed.
    expect(await page.inputValue('#config-value')).toBe('{"beta": tru');
    expect(await etcdValue('ui/broken')).toBeNull();
    await screenshot(page, 'config-cache-invalid-json');

    await row.getByRole('button', { name: 'Edit' }).click();
    await page.waitForFunction(() => (document.querySelector('#config-key') as HTMLInputElement | null)?.value === 'ui/feature-flags');
    expect(JSON.parse(await page.inputValue('#config-value'))).toEqual({ beta: true, rollout: 10 });
    await page.fill('#config-value', '{"beta": false, "rollout": 50}');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForFunction(() => document.querySelector('tr[data-key="ui/feature-flags"] .value-preview')?.textContent === '{"beta": false, "rollout": 50}');
    expect(await etcdValue('ui/feature-flags')).toBe('{"beta": false, "rollout": 50}');
    expect((await cache.get('ui/feature-flags', { useCache: true })).json).toBe('{"beta": false, "rollout": 50}');
    await screenshot(page, 'config-cache-edited');

    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator('tr[data-key="ui/feature-flags"]').getByRole('button', { name: 'Delete' }).click();
    await page.locator('tr[data-key="ui/feature-flags"]').waitFor({ state: 'detached' });
    expect(await page.locator('[role="status"]').textContent()).toMatch(/^Deleted ui\/feature-flags at revision \d+\.$/);
    expect(await etcdValue('ui/feature-flags')).toBeNull();
    expect(await page.locator('tr[data-key="payments/retries"]').count()).toBe(1);
    await screenshot(page, 'config-cache-deleted');
  });

  it('filters the keys as you type', async () => {
    await cache.put('zz/other', '1');
    await page.goto(`${baseUrl}/config-cache`);
    await page.waitForFunction(() => 'htmx' in window);
    expect(await page.locator('table.config-keys tbody tr').count()).toBe(2);
    await page.fill('.key-filter input', 'payments');
    await page.waitForFunction(() => document.querySelectorAll('table.config-keys tbody tr').length === 1);
    expect(await page.locator('table.config-keys tbody tr').getAttribute('data-key')).toBe('payments/retries');
  });

  it('met no Content-Security-Policy violation on any page it opened', () => {
    expect(stack.browser.cspViolations).toEqual([]);
  });
});
