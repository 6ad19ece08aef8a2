// Signing in and out, users, tokens and the audit log in headless Chromium, as an admin and as a
// viewer, under the pages' Content-Security-Policy.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { screenshot, signInInBrowser } from './support/browser.ts';
import { useStack } from './support/fixture.ts';

describe('Access pages in headless Chromium', () => {
  const stack = useStack({ workers: false, browser: { width: 1200, height: 900 } });
  let page: Page;
  let baseUrl: string;

  beforeAll(() => {
    ({ baseUrl, page } = stack.browser);
  });

  it('shows who is signed in, with the admin pages in the top bar', async () => {
    await page.goto(`${baseUrl}/`);
    const account = page.locator('header .account');
    await expect(account.locator('.role').textContent()).resolves.toBe('admin');
    await screenshot(page, 'signed-in-top-bar');
    expect(await account.locator('a').allTextContents()).toEqual(['Users', 'Tokens', 'Audit', `${stack.admin.username} admin`]);
  });

  it('adds a user, who must choose a new password at the first sign-in', async () => {
    const username = `viewer${stack.suffix}`;
    await page.goto(`${baseUrl}/admin/users`);
    await page.fill('#user-username', username);
    await page.selectOption('#user-role', 'viewer');
    await page.fill('#user-password', 'chosen for them by the admin');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByText(`Added ${username} (viewer).`).waitFor();
    await expect(page.locator(`tr[data-user="${username}"] td`).nth(2).textContent()).resolves.toBe('to be changed at first sign-in');
    await screenshot(page, 'admin-users');

    // In a browser of their own: the first sign-in leads to the password page, then on to what they asked for.
    const context = await page.context().browser()!.newContext();
    const theirs = await context.newPage();
    await theirs.goto(`${baseUrl}/login?next=${encodeURIComponent('/cpu-load')}`);
    await theirs.fill('#login-username', username);
    await theirs.fill('#login-password', 'chosen for them by the admin');
    await theirs.click('button[type=submit]');
    await theirs.waitForURL(`${baseUrl}/account/password`);
    await theirs.fill('#current-password', 'chosen for them by the admin');
    await theirs.fill('#new-password', 'a passphrase of my own');
    await theirs.getByRole('button', { name: 'Change password' }).click();
    await theirs.waitForURL(`${baseUrl}/`);
    // A viewer sees no admin pages, and a page it may not use answers 403.
    expect(await theirs.locator('header .account a').allTextContents()).toEqual(['Audit', `${username} viewer`]);
    expect((await theirs.goto(`${baseUrl}/admin/tokens`))!.status()).toBe(403);
    await context.close();
  });

  it('creates a token, shows it once, and revokes it', async () => {
    await page.goto(`${baseUrl}/admin/tokens`);
    await page.fill('#token-name', 'browser-made');
    await page.selectOption('#token-role', 'operator');
    await page.getByRole('button', { name: 'Create token' }).click();
    const token = (await page.locator('#created-token').textContent())!;
    expect(token).toMatch(/^fleet_[\w-]{43}$/);
    await screenshot(page, 'admin-tokens-created');
    const me = await stack.anonymousApp.request('/api/me', { headers: { authorization: `Bearer ${token}` } });
    expect(await me.json()).toMatchObject({ kind: 'token', name: 'browser-made', role: 'operator' });

    await page.goto(`${baseUrl}/admin/tokens`);
    expect(await page.content()).not.toContain(token);
    const row = page.locator('tr', { hasText: 'browser-made' }).first();
    await row.getByRole('button', { name: 'Revoke' }).click();
    await page.locator('tr', { hasText: 'browser-made' }).first().getByText('revoked').waitFor();
    expect((await stack.anonymousApp.request('/api/me', { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
  });

  it('lists what was changed, by whom, in the audit log', async () => {
    // Filtered to this block's admin: other test files write to the same log meanwhile.
    await page.goto(`${baseUrl}/audit?actor=${encodeURIComponent(`user:${stack.admin.username}`)}`);
    await page.locator('table.audit tbody tr').first().waitFor();
    // Each actor links to their own entries.
    expect(await page.locator('table.audit tbody tr td:nth-child(2) a').first().getAttribute('href')).toBe(`/audit?actor=${encodeURIComponent(`user:${stack.admin.username}`)}`);
    const mine = page.locator('table.audit tbody tr', { hasText: `user:${stack.admin.username}` });
    const actions = await mine.locator('td:nth-child(4)').allTextContents();
    expect(actions).toEqual(expect.arrayContaining(['POST /admin/tokens/:tokenId/revoke', 'POST /admin/tokens', 'POST /admin/users', 'sign-in']));
    await screenshot(page, 'audit');
  });

  it('signs out, and a wrong password on the login page says so', async () => {
    await page.goto(`${baseUrl}/`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${baseUrl}/login`);
    await page.goto(`${baseUrl}/request-runs`);
    await page.waitForURL(`${baseUrl}/login?next=%2Frequest-runs`);
    await page.fill('#login-username', stack.admin.username);
    await page.fill('#login-password', 'not the password');
    await page.click('button[type=submit]');
    await page.getByRole('alert').getByText('Wrong username or password.').waitFor();
    await screenshot(page, 'login-refused');
    await signInInBrowser(stack.browser, stack.admin, '/request-runs');
  });

  it('met no Content-Security-Policy violation on any page it opened', () => {
    expect(stack.browser.cspViolations).toEqual([]);
  });
});
