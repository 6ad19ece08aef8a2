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

/** What the page's Content-Security-Policy refused, as its securitypolicyviolation event told it. */
export interface CspViolation {
  /** The page it happened on (path and query). */
  page: string;
  directive: string;
  /** `inline`, `eval` or the URL refused. */
  blocked: string;
  /** Where, and the first characters of what was refused. */
  source: string;
  sample: string;
  /** The element it concerns, as its opening tag. */
  element: string;
}

/**
 * Records every CSP violation of `page`, on every page it opens from now on: a listener installed
 * before any of the page's own scripts runs reports each securitypolicyviolation event to this process.
 */
export async function recordCspViolations(page: Page): Promise<CspViolation[]> {
  const violations: CspViolation[] = [];
  await page.exposeBinding('__reportCspViolation', (_source, violation: CspViolation) => void violations.push(violation));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = (window as unknown as { __reportCspViolation(v: CspViolation): Promise<void> }).__reportCspViolation;
      void report({
        page: location.pathname + location.search,
        directive: event.effectiveDirective,
        blocked: event.blockedURI,
        source: `${event.sourceFile}:${event.lineNumber}`,
        sample: event.sample,
        element: event.target instanceof Element ? event.target.outerHTML.slice(0, event.target.outerHTML.indexOf('>') + 1) : String(event.target),
      });
    });
  });
  return violations;
}

export interface BrowserSession {
  baseUrl: string;
  page: Page;
  /** Every Content-Security-Policy violation on `page` so far (a test expects none). */
  cspViolations: readonly CspViolation[];
  /** Closes the browser and stops serving the app. */
  close(): Promise<void>;
}

/** Serves `fetch` on a free port and opens one headless Chromium page on it. */
export async function openAppInBrowser(fetch: (request: Request) => Response | Promise<Response>, viewport = { width: 1200, height: 900 }): Promise<BrowserSession> {
  const { url, server } = await serveForBrowser(fetch);
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport });
  const cspViolations = await recordCspViolations(page);
  return {
    baseUrl: url,
    page,
    cspViolations,
    async close() {
      await browser.close();
      server.close();
    },
  };
}

/** Signs `page` in on the login page, as an operator would; resolves once the page it asked for has loaded. */
export async function signInInBrowser(session: Pick<BrowserSession, 'page' | 'baseUrl'>, credentials: { username: string; password: string }, next = '/'): Promise<void> {
  const { page, baseUrl } = session;
  await page.goto(`${baseUrl}/login?next=${encodeURIComponent(next)}`);
  await page.fill('#login-username', credentials.username);
  await page.fill('#login-password', credentials.password);
  await Promise.all([page.waitForURL((url) => url.pathname === next.split('?')[0]), page.click('button[type=submit]')]);
}
