// Fuzzing the whole app against the real stack: generated requests (random methods, paths from the
// route table with odd parameters, random and mistyped JSON, huge numbers, odd Unicode, missing and
// extra fields, wrong content types) as an admin, an operator, a viewer and no one. Nothing may
// answer 5xx, and the app keeps answering. No workers poll this block's task queues, so whatever a
// request starts waits there and runs nothing on the host.
import fc from 'fast-check';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { Client, type Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import type { App } from '../server/app.ts';
import { ensureSearchAttributes } from '../scripts/temporalReady.ts';
import { codecDataConverter } from '../temporal/connection.ts';
import { createTestApp, type TestEnvironment } from './support/stack.ts';
import { declaredLevel } from '../server/access.ts';
import { useStack } from './support/fixture.ts';

const REQUESTS = 10_000;

/** Every byte of the string's UTF-8 percent-encoded (a lone surrogate becomes U+FFFD, as a browser sends it). */
const percentEncoded = (text: string) => [...Buffer.from(text, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');

/** Strings that break naive code: empty, long, control and odd Unicode characters, path tricks, numbers as text. */
const nastyString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '..', '../..', '%', '%00', '\u0000', '\uFEFF', '\uD800', '😀'.repeat(30), 'a'.repeat(5000), '-1', '1e309', 'NaN', 'null', '[]', '{}', '__proto__', 'constructor', 'web', 'default'),
);

const hugeNumber = fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, 1e308, -1e308, -0, 2 ** 53, 0.1 + 0.2, -1, 1e-320);

/** JSON values with the right shapes sometimes: known field names with wrong or extreme values. */
const fieldNames = ['calls', 'concurrency', 'mode', 'destination', 'dependencies', 'state', 'ttlMs', 'name', 'minNodes', 'maxNodes', 'script', 'kinds', 'prefix', 'count', 'username', 'role', 'password', 'timings', 'userData', 'region', 'payloads', '__proto__'];
const jsonValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    hugeNumber,
    nastyString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...fieldNames), nastyString), tie('value'), { maxKeys: 5 }),
  ),
})).value;

const formBody = fc
  .dictionary(fc.constantFrom(...fieldNames, 'key', 'value', 'state', 'tomcatScript', 'puppetManifest', 'notifyEmail', 'currentPassword', 'newPassword', '_csrf'), nastyString, { maxKeys: 6 })
  .map((fields) => Object.entries(fields).map(([name, value]) => `${name}=${percentEncoded(value)}`).join('&'));

const body = fc.oneof(
  fc.constant(undefined),
  formBody,
  jsonValue.map((value) => JSON.stringify(value)),
  nastyString,
  fc.constantFrom('{', '{"calls":', '[1,2', 'null', '"', '{"a":1}{"b":2}'),
);

const contentType = fc.oneof({ weight: 3, arbitrary: fc.constant('application/json') }, { weight: 2, arbitrary: fc.constant('application/x-www-form-urlencoded') }, { weight: 2, arbitrary: fc.constantFrom( 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', undefined) });
const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS');

/**
 * A Temporal namespace of the fuzz's own: workflow IDs are business keys (`health-check`,
 * `cpu-load-default`), so a start here that waits forever (no worker) must not hold an ID another
 * test file starts in `default`.
 */
async function fuzzNamespaceClient(env: TestEnvironment): Promise<Client> {
  const connection = env.client.connection as Connection;
  try {
    await connection.workflowService.registerNamespace({ namespace: FUZZ_NAMESPACE, workflowExecutionRetentionPeriod: msToTs('1 day') });
  } catch (error) {
    if (!/already exists|AlreadyExists/i.test((error as Error).message)) throw error;
  }
  await vi.waitFor(() => connection.workflowService.describeNamespace({ namespace: FUZZ_NAMESPACE }), { timeout: 15_000, interval: 200 });
  await ensureSearchAttributes(connection, FUZZ_NAMESPACE);
  return new Client({ connection, namespace: FUZZ_NAMESPACE, dataConverter: codecDataConverter(env.config) });
}

const FUZZ_NAMESPACE = 'fuzz';

describe('fuzzing the app (real Temporal, MariaDB, memcached, etcd)', () => {
  // No workers: anything a request starts waits, in a namespace and a request-run lock scope of its own.
  const stack = useStack({ workers: false });
  let app: App;
  beforeAll(async () => {
    const temporal = await fuzzNamespaceClient(stack.env);
    app = createTestApp(stack.env, { temporal, namespace: FUZZ_NAMESPACE, taskQueueSuffix: stack.suffix, requestRunScope: `fuzz${stack.suffix}` });
  });

  it(`answers ${REQUESTS} generated requests without a 5xx, and still answers after`, { timeout: 600_000 }, async () => {
    // Not the routes that revoke a token or delete a user by ID or name: a guessed `1` would sign
    // out another test file's fixture running beside this one.
    const routes = app.routes
      .filter((route) => declaredLevel(route.handler) && route.method !== 'ALL' && !/:tokenId|:username/.test(route.path))
      .map((route) => ({ method: route.method, path: route.path }));
    // Mostly the route's own method, a plausible parameter and a caller who may use it, so most
    // requests get past routing and access to the validation and the services behind them.
    const routeAndMethod = fc.constantFrom(...routes).chain((route) => fc.record({ template: fc.constant(route.path), method: fc.oneof({ weight: 4, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: method }) }));
    const param = fc.oneof(nastyString, fc.constantFrom('web', 'default', 'ec2', 'ssh', 'small', 'health-check', 'cf-converge-default-scale-org-scale-space', 'node-deploy:web:1', 'script-run:web:1', '1'), fc.uuid());
    const request = fc.record({
      route: routeAndMethod,
      params: fc.array(param, { minLength: 4, maxLength: 4 }),
      query: fc.option(fc.dictionary(fc.constantFrom('limit', 'before', 'actor', 'filter', 'key', 'to', 'next', 'use_cache', 'target', 'name'), nastyString, { maxKeys: 3 })),
      suffix: fc.oneof({ weight: 6, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('/', '/x', '/../api/users', '?') }),
      body,
      contentType,
      who: fc.oneof({ weight: 6, arbitrary: fc.constant('admin' as const) }, { weight: 2, arbitrary: fc.constantFrom('operator' as const, 'viewer' as const) }, { weight: 1, arbitrary: fc.constantFrom('anonymous' as const, 'bad-token' as const) }),
    });
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        let index = 0;
        const { template, method: verb } = r.route;
        const path = template
          .replace(/:(\w+)(\{[^}]*\})?/g, () => percentEncoded(r.params[index++ % 4]!))
          .replace(/\*$/, percentEncoded(r.params[3]!));
        const query = r.query ? `?${Object.entries(r.query).map(([k, v]) => `${k}=${percentEncoded(v)}`).join('&')}` : '';
        const headers: Record<string, string> = {};
        if (r.contentType) headers['content-type'] = r.contentType;
        if (r.who === 'bad-token') headers.authorization = 'Bearer fleet_not-a-real-token';
        else if (r.who !== 'anonymous') headers.authorization = `Bearer ${stack.tokens[r.who]}`;
        const withBody = r.body !== undefined && verb !== 'GET' && verb !== 'HEAD';
        const response = await app.request(path + r.suffix + query, { method: verb, headers, body: withBody ? r.body : undefined });
        await response.arrayBuffer();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        // /readyz says 503 "unready" by design here: no worker polls this block's task queues.
        const serverError = response.status >= 500 && !(path === '/readyz' && response.status === 503);
        if (serverError) failures.push(`${response.status} ${verb} ${path + r.suffix + query} as ${r.who}: ${String(r.body).slice(0, 200)}`);
        return !serverError;
      }),
      { numRuns: REQUESTS, endOnFailure: false, seed: Date.now() & 0x7fffffff },
    ).catch((error: unknown) => {
      throw new Error(`${failures.length} answers were 5xx, for example:\n${failures.slice(0, 10).join('\n')}\n${(error as Error).message.slice(0, 2000)}`);
    });
    console.log(`fuzz: ${REQUESTS} requests; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`);
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(REQUESTS);
    expect((await app.request('/healthz')).status).toBe(200);
    expect((await app.request('/api/me', { headers: { authorization: `Bearer ${stack.tokens.viewer}` } })).status).toBe(200);
  });
});
