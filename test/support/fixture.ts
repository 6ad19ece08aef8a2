// The one fixture of the integration tests: a describe block calls useStack() and gets the shared
// stack's clients, task queues of its own with the product's workers on them, an app wired to those
// workers and, for browser tests, a Chromium page on that app. requestJson is the JSON request helper.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import type { Worker } from '@temporalio/worker';
import type { App, AppDependencies } from '../../server/app.ts';
import { roles, type Role } from '../../services/access.shared.ts';
import { asToken } from './asToken.ts';
import { openAppInBrowser, signInInBrowser, type BrowserSession } from './browser.ts';
import { createTestApp, TestEnvironment, uniqueSuffix, type StartWorkersOptions } from './stack.ts';

/** A value, or a function that makes it from the stack when the stack's beforeAll runs. */
type FromStack<T> = T | ((stack: Stack) => T);

export interface StackOptions {
  /** The product's workers on this block's task queues: started (true, the default), started with these options, or not started (false). */
  workers?: boolean | FromStack<StartWorkersOptions>;
  /** Overrides for createTestApp; the app's task queues are this block's unless they say otherwise. */
  app?: FromStack<Partial<AppDependencies>>;
  /** Headless Chromium on the app: true for the default viewport, or a viewport. */
  browser?: boolean | { width: number; height: number };
}

export interface Stack {
  /** Ends this block's task queues (and names what it creates), so parallel test files never meet. */
  readonly suffix: string;
  /** Config at once; Temporal client, service clients, startWorkers (other task queues) in hooks and tests. */
  readonly env: TestEnvironment;
  /** The workers started on this block's task queues. */
  readonly workers: Worker[];
  /** The app as this block's admin token holder: every app.request() carries its bearer token. */
  readonly app: App;
  /** The same app, with no credentials. */
  readonly anonymousApp: App;
  /** A bearer token per role, made for this block. */
  readonly tokens: Record<Role, string>;
  /** This block's admin account (the browser signs in with it). */
  readonly admin: { username: string; password: string };
  /** The page and its base URL, with `browser` set. */
  readonly browser: BrowserSession;
}

/**
 * Registers the beforeAll that opens the stack and the afterAll that closes it (browser, workers,
 * clients). `suffix` and `env` can be taken at once (`const { env, suffix } = useStack()`); the
 * rest exists once that beforeAll has run: read it in a hook or a test.
 *
 * In the beforeAll, in this order: the environment, the browser, the workers, the app. Options given
 * as functions are read there, so they may use what a beforeAll declared above useStack() made
 * (hooks run in the order they are declared; that block's afterAll then runs after the stack's).
 */
export function useStack(options: StackOptions = {}): Stack {
  const suffix = uniqueSuffix();
  const env = new TestEnvironment();
  let workers: Worker[] = [];
  let app: App | undefined;
  let anonymousApp: App | undefined;
  let tokens: Record<Role, string> | undefined;
  // Usernames are lower case and start with a letter; the suffix is `-test-<hex>`.
  const admin = { username: `admin${suffix}`, password: `pw-${randomUUID()}` };
  let browser: BrowserSession | undefined;
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`useStack(): no ${what} yet; read it in a hook or a test, after the stack's beforeAll`);
    return value;
  };
  const stack: Stack = {
    suffix,
    env,
    get workers() {
      return workers;
    },
    get app() {
      return ready(app, 'app');
    },
    get anonymousApp() {
      return ready(anonymousApp, 'app');
    },
    get tokens() {
      return ready(tokens, 'tokens');
    },
    admin,
    get browser() {
      return ready(browser, options.browser ? 'browser' : 'browser (ask for one with `browser: true`)');
    },
  };
  const fromStack = <T>(value: FromStack<T>): T => (typeof value === 'function' ? (value as (stack: Stack) => T)(stack) : value);

  beforeAll(async () => {
    await env.open();
    const { access } = env;
    await access.users.create({ username: admin.username, role: 'admin', password: admin.password }, { mustChangePassword: false });
    const maker = { kind: 'token', name: 'test-fixture', role: 'admin', actor: `user:${admin.username}` } as const;
    const made = await Promise.all(roles.map(async (role) => [role, (await access.tokens.create({ name: `${role}${suffix}`, role }, maker)).token] as const));
    tokens = Object.fromEntries(made) as Record<Role, string>;
    if (options.browser) {
      // The app is built below: the page asks it for nothing before the tests run. The node server's
      // bindings go along, as they would to app.fetch itself (config keys are read from the raw target).
      const fetch = (...args: Parameters<App['fetch']>) => stack.app.fetch(...args);
      browser = await openAppInBrowser(fetch, options.browser === true ? undefined : options.browser);
    }
    const workerOptions = options.workers ?? true;
    if (workerOptions !== false) workers = await env.startWorkers(suffix, workerOptions === true ? {} : fromStack(workerOptions));
    anonymousApp = createTestApp(env, { taskQueueSuffix: suffix, ...fromStack(options.app ?? {}) });
    app = asToken(anonymousApp, tokens.admin);
    if (browser) await signInInBrowser(browser, admin);
  });
  afterAll(async () => {
    await browser?.close();
    await env.close();
  });
  return stack;
}

/**
 * One JSON request to `app`: `body` goes as JSON (a string as it is, so a test can send malformed
 * JSON), and the answer's JSON comes back parsed (`{}` for an empty answer).
 */
export async function requestJson<T = Record<string, unknown>>(app: App, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await app.request(path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined || typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
}
