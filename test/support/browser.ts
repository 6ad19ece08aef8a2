// Headless Chromium from Debian, driven by playwright-core; screenshots land in test-output/.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { serve, type ServerType } from '@hono/node-server';
import { projectRoot } from '../../config.ts';
import { findFreePort } from '../../scripts/processes.ts';

export const screenshotDir = join(projectRoot, 'test-output', 'screenshots');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    // This machine's network is closed: background services would only fail and slow the start.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export async function serveForBrowser(fetch: (request: Request) => Response | Promise<Response>): Promise<{ url: string; server: ServerType }> {
  const port = await findFreePort();
  const server = serve({ fetch, hostname: '127.0.0.1', port });
  return { url: `http://127.0.0.1:${port}`, server };
}

export interface BrowserSession {
  baseUrl: string;
  page: Page;
  /** Closes the browser and stops serving the app. */
  close(): Promise<void>;
}

/** Serves `fetch` on a free port and opens one headless Chromium page on it. */
export async function openAppInBrowser(fetch: (request: Request) => Response | Promise<Response>, viewport = { width: 1200, height: 900 }): Promise<BrowserSession> {
  const { url, server } = await serveForBrowser(fetch);
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport });
  return {
    baseUrl: url,
    page,
    async close() {
      await browser.close();
      server.close();
    },
  };
}
