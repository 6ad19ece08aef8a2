// The fractals pages in headless Chromium on the real stack, with a fractal worker in this process:
// a fractal made through the form lands on its page, rendering, then with its image and checksum; a
// refused form names its field; a batch's progress bar on the gallery reaches done; Delete removes one.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { FractalRecord } from '../workflows/fractals.shared.ts';
import { screenshot } from './support/browser.ts';
import { requestJson, useStack } from './support/fixture.ts';
import { useFractalWorker } from './support/fractalWorker.ts';

describe('fractals pages in headless Chromium', () => {
  const stack = useStack({ app: { fractalTimings: { renderHeartbeatTimeoutMs: 3000, retryMaxIntervalMs: 200 } }, browser: true });
  let page: Page;
  let baseUrl: string;
  useFractalWorker(stack, `fractal-browser${stack.suffix}`);

  beforeAll(() => {
    ({ baseUrl, page } = stack.browser);
  });

  const fill = async (fields: Record<string, string | number>) => {
    for (const [id, value] of Object.entries(fields)) await page.fill(`#${id.replace('.', '\\.')}`, String(value));
  };
  let uuid: string;

  it('makes one fractal through the form: its page, polling until rendered, shows its image, parameters, checksum and worker', async () => {
    await page.goto(`${baseUrl}/fractals/new`);
    expect(await page.locator('nav a.active').textContent()).toBe('Fractals');
    // The form opens on the defaults.
    expect(await page.inputValue('#fractal-width')).toBe('512');
    expect(await page.inputValue('#fractal-xa')).toBe('-1.5');
    await fill({ 'fractal-width': 96, 'fractal-height': 64, 'fractal-iterations': 128, 'fractal-cx': -0.8, 'fractal-cy': 0.156 });
    await Promise.all([page.waitForURL(/\/fractals\/[0-9a-f-]{36}$/), page.click('#fractal-form button[type=submit]')]);
    uuid = page.url().split('/').at(-1)!;

    // The panel polls until the worker has rendered it.
    await page.locator('#fractal[data-status="done"]').waitFor({ timeout: 30_000 });
    await page.waitForFunction(() => (document.querySelector<HTMLImageElement>('.fractal-image img')?.naturalWidth ?? 0) > 0, null, { timeout: 10_000 });
    expect(await page.locator('.fractal-image img').evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([96, 64]);
    const { body: record } = await requestJson<FractalRecord>(stack.app, 'GET', `/v1/fractal/${uuid}`);
    expect(record.status).toBe('done');
    expect(await page.locator('code.checksum').textContent()).toBe(record.checksum);
    expect(record.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(await page.locator('dl.facts').textContent()).toContain(`fractal-browser${stack.suffix}`);
    const parameters = Object.fromEntries(await page.locator('.fractal-parameters td').evaluateAll((cells) => cells.map((td) => [td.getAttribute('data-parameter'), td.textContent])));
    expect(parameters).toEqual({ width: '96', height: '64', iterations: '128', xa: '-1.5', xb: '1.5', ya: '-1', yb: '1', cx: '-0.8', cy: '0.156' });
    expect(await page.locator('dl.facts a[href*="workflows?query="]').textContent()).toBe(`fractal-${uuid} ↗`);
    await screenshot(page, 'fractal-page');
  }, 60_000);

  it('refuses a view with no width (xa ≥ xb) with 400, the field marked and the form as typed', async () => {
    await page.goto(`${baseUrl}/fractals/new`);
    await fill({ 'fractal-width': 64, 'fractal-xa': 2 });
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/ui/fractals') && r.request().method() === 'POST'), page.click('#fractal-form button[type=submit]')]);
    expect(response.status()).toBe(400);
    await page.waitForLoadState();
    expect(await page.locator('#fractal-form [role=alert]').textContent()).toBe('xb: must be greater than xa (2)');
    expect(await page.getAttribute('#fractal-xb', 'aria-invalid')).toBe('true');
    expect(await page.inputValue('#fractal-xa')).toBe('2');
    expect(await page.inputValue('#fractal-width')).toBe('64');
    await screenshot(page, 'fractal-form-refused');
  });

  it('starts a batch from the form; the gallery’s progress bar reaches done and the gallery shows the new fractals', async () => {
    await page.goto(`${baseUrl}/fractals/new`);
    expect(await page.inputValue('#batch-width\\.min')).toBe('256');
    await fill({ 'batch-tasks': 6, 'batch-width.min': 160, 'batch-width.max': 200, 'batch-height.min': 120, 'batch-height.max': 160, 'batch-iterations.min': 300, 'batch-iterations.max': 400 });
    await Promise.all([page.waitForURL(/\/fractals\?batch=/), page.click('#fractal-batch-form button[type=submit]')]);
    const batchId = new URL(page.url()).searchParams.get('batch')!;
    const bar = page.locator(`.fractal-batch[data-batch="${batchId}"] [data-progress="fractal-batch"] span`);
    const first = await bar.textContent();
    expect(first).toMatch(/^(\d\/6 rendered, \d accepted|done: 6\/6)$/);
    const shownThumbs = () => page.locator('#fractal-gallery .fractal-thumb').evaluateAll((links) => links.map((a) => a.getAttribute('data-uuid')));
    const galleryBefore = await shownThumbs();
    await page.locator(`.fractal-batch[data-batch="${batchId}"] [data-progress="fractal-batch"] span`, { hasText: 'done: 6/6' }).waitFor({ timeout: 60_000 });
    // Done, the bars stop polling (no batch of this page left unfinished, unless another test's is).
    const { body: progress } = await requestJson<{ done: number; tasks: number }>(stack.app, 'GET', `/v1/fractal-batches/${batchId}`);
    expect(progress).toMatchObject({ done: 6, tasks: 6 });
    // The gallery reloaded itself as fractals landed: five, newest first, as the server now lists them.
    const current = async () => {
      const html = await (await stack.app.request('/fractals', { headers: { accept: 'text/html' } })).text();
      return [...html.matchAll(/class="fractal-thumb" href="[^"]+" data-uuid="([^"]+)"/g)].map(([, id]) => id);
    };
    await expect.poll(async () => (await shownThumbs()).join() === (await current()).join(), { timeout: 10_000 }).toBe(true);
    const galleryAfter = await shownThumbs();
    expect(galleryAfter).toHaveLength(5);
    if (first !== 'done: 6/6') expect(galleryAfter).not.toEqual(galleryBefore);
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('#fractal-gallery img')].every((img) => img.complete && img.naturalWidth > 0), null, { timeout: 10_000 });
    await screenshot(page, 'fractals-gallery');
  }, 90_000);

  it('deletes a fractal from its page: back on the gallery with a notice, the record gone', async () => {
    await page.goto(`${baseUrl}/fractals/${uuid}`);
    page.once('dialog', (dialog) => void dialog.accept());
    await Promise.all([page.waitForURL((url) => url.pathname === '/fractals' && url.searchParams.get('deleted') === uuid), page.click('button.danger')]);
    expect(await page.locator('.notice[role=status]').textContent()).toBe(`Deleted fractal ${uuid}.`);
    expect((await requestJson(stack.app, 'GET', `/v1/fractal/${uuid}`)).status).toBe(404);
    const missing = await page.goto(`${baseUrl}/fractals/${uuid}`);
    expect(missing?.status()).toBe(404);
  });

  it('met no Content-Security-Policy violation on any page it opened', () => {
    expect(stack.browser.cspViolations).toEqual([]);
  });
});
