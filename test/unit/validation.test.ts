// One validation system, checked without servers: the app built from stub clients
// (support/stubApp.ts: a Temporal client that records starts, a MySQL pool that records queries),
// driven with app.request(). A refused request must name its problem and start nothing; the README's
// examples must still pass.
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import type { ErrorBody } from '../../api/errors.ts';
import { clientFactory } from '../../activities/cf/foundations.ts';
import { convergeInputSchema } from '../../workflows/cfConverge.shared.ts';
import { cpuLoadInputSchema, cpuLoadSwitchSchema } from '../../workflows/cpuLoad.shared.ts';
import { healthCheckInputSchema } from '../../workflows/healthCheck.shared.ts';
import { deployNodeInputSchema } from '../../workflows/nodes.shared.ts';
import { requestRunInputSchema } from '../../workflows/requestRun.shared.ts';
import { triggerChainInputSchema } from '../../workflows/triggers.shared.ts';
import { workflowInput } from '../../workflows/validation.shared.ts';
import { fractalBatchInputSchema, fractalInputSchema } from '../../workflows/fractals.shared.ts';
import { profileTables } from './support/profileTables.ts';
import { RECEIVER, stubApp } from './support/stubApp.ts';

const send = (method: string, body: unknown, contentType: string | null = 'application/json'): RequestInit => ({
  method,
  body: typeof body === 'string' ? body : JSON.stringify(body),
  headers: contentType ? { 'content-type': contentType } : {},
});

/** Sends the request and expects a refusal of `status` naming `field`; nothing may have started. */
async function expectRefused(path: string, init: RequestInit | undefined, status: number, field?: string) {
  const stub = stubApp();
  const response = await stub.app.request(path, init);
  const { error } = (await response.json()) as ErrorBody;
  expect(response.status, JSON.stringify(error)).toBe(status);
  if (field !== undefined) {
    expect(error).toMatchObject({ code: 'validation_failed', field });
    expect(error.message.startsWith(`${field}: `)).toBe(true);
  }
  expect(stub.starts).toEqual([]);
  expect(stub.handles).toEqual([]);
  return error;
}

const kind = { kind: 'proxy', count: 1, instances: 1 };

describe('POST /api/cf-convergences', () => {
  it.each([
    ['a null kind', { kinds: [null] }, 'kinds.0'],
    ['a kind without instances and a null env', { kinds: [{ kind: 'a', count: 1, env: null }] }, 'kinds.0.instances'],
    ['a null env', { kinds: [{ ...kind, env: null }] }, 'kinds.0.env'],
    ['a null env value', { kinds: [{ ...kind, env: { A: null } }] }, 'kinds.0.env.A'],
    ['an unknown field', { kinds: [kind], colour: 'blue' }, 'colour'],
    ['unknown fields of a kind', { kinds: [{ ...kind, size: 1, shape: 2 }] }, 'kinds.0.size, kinds.0.shape'],
    ['a prototype name as foundation', { foundation: 'constructor', kinds: [kind] }, 'foundation'],
    ['an unconfigured foundation', { foundation: 'other', kinds: [kind] }, 'foundation'],
    ['a kind declared twice', { kinds: [kind, kind] }, 'kinds.1.kind'],
    ['app names too long for DNS', { prefix: 'p'.repeat(20), kinds: [{ ...kind, kind: 'k'.repeat(40), count: 1000 }] }, 'kinds.0.kind'],
    ['a fractional count', { kinds: [{ ...kind, count: 1.5 }] }, 'kinds.0.count'],
    ['a bad domain', { domain: 'not a domain', kinds: [kind] }, 'domain'],
    ['no kinds', {}, 'kinds'],
  ])('refuses %s with 400 naming the field', async (_what, body, field) => {
    await expectRefused('/api/cf-convergences', send('POST', body), 400, field);
  });

  it('names an unknown field in the message', async () => {
    expect((await expectRefused('/api/cf-convergences', send('POST', { kinds: [kind], colour: 'blue' }), 400, 'colour')).message).toBe('colour: unknown field');
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['a form (curl -d without a content type)', 'application/x-www-form-urlencoded'],
    ['no content type (a Request then says text/plain)', null],
  ])('refuses a JSON body sent as %s with 415', async (_what, contentType) => {
    const error = await expectRefused('/api/cf-convergences', send('POST', { kinds: [kind] }, contentType), 415);
    expect(error.code).toBe('unsupported_media_type');
    expect(error.message).toMatch(/send Content-Type: application\/json$/);
  });

  it('refuses malformed JSON with 400 invalid_json', async () => {
    expect((await expectRefused('/api/cf-convergences', send('POST', '{"kinds": ['), 400)).code).toBe('invalid_json');
  });

  it.each(['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset=UTF-8', 'application/vnd.fleet+json'])(
    'accepts the README desired state sent as %s, and starts it unchanged',
    async (contentType) => {
      const desired = { prefix: 'scale-', kinds: [{ kind: 'proxy', count: 100, instances: 2 }, { kind: 'tick', count: 100, instances: 2 }], concurrency: 20, dryRun: false };
      const stub = stubApp();
      const response = await stub.app.request('/api/cf-convergences', send('POST', desired, contentType));
      expect(response.status).toBe(201);
      expect(stub.starts).toMatchObject([{ workflowType: 'cfConverge', options: { workflowId: 'cf-converge-default-scale-org-scale-space', args: [desired] } }]);
    },
  );

  it('refuses a bad desired state from the UI form too, in a fragment, and starts nothing', async () => {
    const stub = stubApp();
    const response = await stub.app.request('/ui/cf-convergences', { method: 'POST', body: new URLSearchParams({ json: '{"kinds": [null]}' }) });
    expect(await response.text()).toContain('kinds.0: Invalid input: expected object, received null');
    expect(stub.starts).toEqual([]);
  });
});

describe('POST /api/request-runs', () => {
  it.each([
    ['a string count', { calls: '10' }, 'calls'],
    ['null calls', { calls: null }, 'calls'],
    ['an unknown mode', { calls: 5, mode: 'fast' }, 'mode'],
    ['a disallowed destination', { calls: 5, destination: 'http://169.254.169.254/latest/meta-data' }, 'destination'],
    ['a scope (not the API’s to choose)', { calls: 5, scope: 'other' }, 'scope'],
  ])('refuses %s with 400 naming the field', async (_what, body, field) => {
    await expectRefused('/api/request-runs', send('POST', body), 400, field);
  });

  it('refuses a text/plain body with 415', async () => {
    await expectRefused('/api/request-runs', send('POST', { calls: 5 }, 'text/plain'), 415);
  });

  it('starts the README run with the defaults filled in', async () => {
    const stub = stubApp();
    const response = await stub.app.request('/api/request-runs', send('POST', { calls: 20000, concurrency: 64, mode: 'exactly-once' }));
    expect(response.status).toBe(201);
    expect(stub.starts[0]!.options.args).toEqual([{ calls: 20000, concurrency: 64, mode: 'exactly-once', destination: RECEIVER, scope: 'default' }]);
  });

  it('refuses a bad form in the UI in a fragment, and starts nothing', async () => {
    const stub = stubApp();
    const response = await stub.app.request('/ui/request-runs', { method: 'POST', body: new URLSearchParams({ calls: 'many', mode: 'atomic' }) });
    expect(await response.text()).toContain('calls: must be a whole number from 1 to 100000');
    expect(stub.starts).toEqual([]);
  });
});

describe('/api/cpu-load/<target>', () => {
  it.each([
    ['an unknown state', 'web', { state: 'MAYBE' }, 'state'],
    ['a fractional TTL', 'web', { state: 'ON', ttlSeconds: 1.5 }, 'ttlSeconds'],
    ['a TTL over the maximum (1 h)', 'web', { state: 'ON', ttlSeconds: 3601 }, 'ttlSeconds'],
    ['an unknown field', 'web', { state: 'ON', desiredState: 'ON' }, 'desiredState'],
    ['an upper-case target', 'Web', { state: 'ON' }, 'target'],
    ['a target ending in a hyphen', 'web-', { state: 'ON' }, 'target'],
  ])('refuses %s with 400 naming the field', async (_what, target, body, field) => {
    await expectRefused(`/api/cpu-load/${target}`, send('PUT', body), 400, field);
  });

  it('refuses a text/plain switch with 415 and a bad target on GET with 400', async () => {
    await expectRefused('/api/cpu-load/web', send('POST', { state: 'ON' }, 'text/plain'), 415);
    await expectRefused('/api/cpu-load/Nope!', undefined, 400, 'target');
  });

  it('refuses a TTL over the maximum from the UI form in the panel, naming the maximum, and starts nothing', async () => {
    const stub = stubApp();
    const response = await stub.app.request('/ui/cpu-load/web', { method: 'POST', body: new URLSearchParams({ state: 'ON', ttlSeconds: '7200' }) });
    expect(await response.text()).toContain('ttlSeconds: must be a whole number from 1 to 3600');
    expect(stub.starts).toEqual([]);
  });
});

describe('clusters, profiles, deployments and scripts', () => {
  const cluster = { name: 'web', maxNodes: 2, ec2Profile: 'local', sshProfile: 'local' };
  it.each([
    ['POST', '/api/clusters', { ...cluster, name: 'Bad Name' }, 'name'],
    ['POST', '/api/clusters', { ...cluster, minNodes: 3 }, 'minNodes'],
    ['POST', '/api/clusters', { ...cluster, nodeCount: 3 }, 'nodeCount'],
    ['PUT', '/api/clusters/Bad_Name', { maxNodes: 1, ec2Profile: 'local', sshProfile: 'local' }, 'name'],
    ['PUT', '/api/clusters/web', { ...cluster }, 'name'],
    ['PUT', '/api/ec2-profiles/bad%20name', { region: 'us-east-1' }, 'name'],
    ['PUT', '/api/ec2-profiles/p', { region: 'mars', imageId: 'ami-12c6146b', instanceType: 't3.micro', targetGroup: 'tg' }, 'region'],
    ['PUT', '/api/ssh-profiles/evil', { user: 'root', keyRef: '../../etc/shadow' }, 'keyRef'],
    ['PUT', '/api/ssh-profiles/evil', { user: 'root', keyRef: 'id', key: '-----BEGIN' }, 'key'],
    ['POST', '/api/clusters/web/deployments', { timings: { pollMs: -1 } }, 'timings.pollMs'],
    ['POST', '/api/clusters/web/deployments', { timings: { pollMillis: 1 } }, 'timings.pollMillis'],
    ['POST', '/api/clusters/Web/deployments', {}, 'name'],
    ['DELETE', '/api/clusters/web/nodes/evil', {}, 'node'],
    ['DELETE', '/api/clusters/web/nodes/web01', { notify: 'not an address' }, 'notify'],
    ['POST', '/api/clusters/web/scripts', { script: '' }, 'script'],
    ['POST', '/api/clusters/web/scripts', { script: 'uptime', toleratedFailureFraction: 0.1 }, 'toleratedFailureFraction'],
    ['POST', '/api/clusters/web/scripts', { script: 'uptime', sudo: true }, 'sudo'],
  ])('%s %s refuses %j with 400 naming %s', async (method, path, body, field) => {
    await expectRefused(path, send(method, body), 400, field);
  });

  it('refuses a text/plain cluster with 415', async () => {
    await expectRefused('/api/clusters', send('POST', cluster, 'text/plain'), 415);
  });

  it('stores and answers both kinds of profile through one model, their JSON as before', async () => {
    const ec2Row = {
      name: 'local', region: 'us-east-1', image_id: 'ami-12c6146b', instance_type: 't3.micro', key_name: null, security_groups: '["sg-1"]',
      subnet_id: null, target_group: 'tg', target_port: 8080, user_data: '#!/bin/sh', created_at: new Date(),
    };
    const stub = stubApp({ rows: profileTables({ ec2_profiles: [ec2Row], ssh_profiles: [{ name: 'k', user: 'ubuntu', key_ref: 'id', port: null }] }).rows });
    // User data is write-only: a read says whether it is set, its SHA-256 and its length, never its value.
    const userData = { set: true, sha256: '3af71adb278ad4af33c144b78fa1ae708da03b773d98324ae991a7daedb53ca2', bytes: 9 };
    expect(await (await stub.app.request('/api/ec2-profiles')).json()).toEqual({
      profiles: [{ name: 'local', region: 'us-east-1', imageId: 'ami-12c6146b', instanceType: 't3.micro', keyName: null, securityGroups: ['sg-1'], subnetId: null, targetGroup: 'tg', targetPort: 8080, userData }],
    });
    expect(await (await stub.app.request('/api/ssh-profiles')).json()).toEqual({ profiles: [{ name: 'k', user: 'ubuntu', keyRef: 'id', port: null }] });

    const saved = await stub.app.request('/api/ec2-profiles/p1', send('PUT', { region: 'us-east-1', imageId: 'ami-12c6146b', instanceType: 't3.micro', targetGroup: 'tg', userData: '' }));
    expect(await saved.json()).toEqual({
      profile: { name: 'p1', region: 'us-east-1', imageId: 'ami-12c6146b', instanceType: 't3.micro', keyName: null, securityGroups: [], subnetId: null, targetGroup: 'tg', targetPort: null, userData: { set: false, sha256: null, bytes: 0 } },
    });
    const ssh = await stub.app.request('/api/ssh-profiles/p2', send('PUT', { user: 'ubuntu', keyRef: 'id_ed25519', port: 2222 }));
    expect(await ssh.json()).toEqual({ profile: { name: 'p2', user: 'ubuntu', keyRef: 'id_ed25519', port: 2222 } });
    const writes = stub.queries.filter((q) => q.sql.startsWith('INSERT'));
    expect(writes.map((q) => q.sql)).toEqual(['INSERT INTO ec2_profiles SET ? ON DUPLICATE KEY UPDATE ?', 'INSERT INTO ssh_profiles SET ? ON DUPLICATE KEY UPDATE ?']);
    expect(writes[0]!.values).toEqual([
      { name: 'p1', region: 'us-east-1', image_id: 'ami-12c6146b', instance_type: 't3.micro', key_name: null, security_groups: '[]', subnet_id: null, target_group: 'tg', target_port: null, user_data: null },
      { region: 'us-east-1', image_id: 'ami-12c6146b', instance_type: 't3.micro', key_name: null, security_groups: '[]', subnet_id: null, target_group: 'tg', target_port: null, user_data: null },
    ]);
    expect(writes[1]!.values).toEqual([{ name: 'p2', user: 'ubuntu', key_ref: 'id_ed25519', port: 2222 }, { user: 'ubuntu', key_ref: 'id_ed25519', port: 2222 }]);
  });
});

describe('config cache keys and values', () => {
  it.each([
    ['an empty key', '/config/'],
    ['a key with a character URLs do not carry', '/config/a|b'],
    ['a key over 1024 bytes', `/config/${'k'.repeat(1025)}`],
  ])('refuses %s with 400 naming the key', async (_what, path) => {
    await expectRefused(path, undefined, 400, 'key');
  });

  it('takes the README curl -d value (a form content type, as the seed did) and refuses one that is not JSON', async () => {
    const stub = stubApp();
    const written = await stub.app.request('/config/feature-flags/checkout', send('PUT', ' {"enabled": true}\n', 'application/x-www-form-urlencoded'));
    expect(written.status).toBe(200);
    expect(stub.stored).toEqual([{ key: 'feature-flags/checkout', value: '{"enabled": true}' }]);
    const bad = await stub.app.request('/config/x', send('PUT', '{"enabled": ', 'text/plain'));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ErrorBody).error).toMatchObject({ code: 'invalid_json', message: expect.stringMatching(/^The value is not valid JSON/) });
    expect(stub.stored).toHaveLength(1);
  });
});

describe('health checks', () => {
  it.each([
    ['an unknown dependency', { dependencies: ['redis'] }, 'dependencies.0'],
    ['an unknown field', { dependency: 'mysql' }, 'dependency'],
  ])('refuses %s with 400 naming the field', async (_what, body, field) => {
    await expectRefused('/api/health-checks', send('POST', body), 400, field);
  });

  it('refuses a text/plain body with 415, and takes an empty body as {}', async () => {
    await expectRefused('/api/health-checks', send('POST', { dependencies: ['mysql'] }, 'text/plain'), 415);
    const stub = stubApp();
    expect((await stub.app.request('/api/health-checks', { method: 'POST' })).status).toBe(201);
    expect(stub.starts[0]!.options.args).toEqual([{}]);
  });
});

describe('limit and other query parameters', () => {
  it.each([
    ['/api/workflows?limit=abc', 'limit'],
    ['/api/workflows?limit=0', 'limit'],
    ['/api/request-runs?limit=501', 'limit'],
    ['/api/cf-convergences?limit=1.5', 'limit'],
    ['/api/runbooks?limit=201', 'limit'],
    ['/api/runbooks?cluster=Bad', 'cluster'],
  ])('%s answers 400 naming %s', async (path, field) => {
    await expectRefused(path, undefined, 400, field);
  });

  it('takes a valid limit and a missing one', async () => {
    const stub = stubApp();
    expect((await stub.app.request('/api/workflows?limit=200')).status).toBe(200);
    expect(await (await stub.app.request('/api/cf-convergences')).json()).toEqual({ convergences: [] });
  });
});

describe('GET /receiver', () => {
  it.each([
    ['no run and no timestamp', '/receiver', 'timestamp'],
    ['a non-numeric timestamp', '/receiver?timestamp=abc', 'timestamp'],
    ['a negative seq', '/receiver?run=r&seq=-1', 'seq'],
    ['a bad mode', '/receiver?run=r&mode=fast', 'mode'],
    ['exactly-once without seq', '/receiver?run=r&mode=exactly-once', 'seq'],
    ['an empty run', '/receiver?run=&timestamp=1', 'run'],
    ['a run id over 64 characters', `/receiver?run=${'r'.repeat(65)}`, 'run'],
  ])('answers 400 for %s (%s)', async (_what, path, field) => {
    const stub = stubApp();
    const response = await stub.app.request(path);
    expect(response.status).toBe(400);
    expect(((await response.json()) as ErrorBody).error).toMatchObject({ code: 'validation_failed', field });
    expect(stub.queries).toEqual([]);
  });

  it("counts the seed's call and a run's call, ignoring parameters a destination carries", async () => {
    const stub = stubApp({ rows: () => ({ affectedRows: 1 }) });
    expect((await stub.app.request('/receiver?timestamp=1732240000')).headers.get('x-call')).toBe('counted');
    expect((await stub.app.request('/receiver?via=lb&timestamp=1&run=r1&seq=7&mode=atomic')).headers.get('x-call')).toBe('counted');
    expect(stub.queries.map((q) => q.values)).toEqual([[1732240000], ['r1']]);
  });
});

// The README and every document under docs/, where each domain's examples live.
const docsDir = new URL('../../docs/', import.meta.url);
const readme = [new URL('../../README.md', import.meta.url), ...readdirSync(docsDir).filter((name) => name.endsWith('.md')).map((name) => new URL(name, docsDir))]
  .map((file) => readFileSync(file, 'utf8'))
  .join('\n')
  .replace(/\\\n\s*/g, ' ');

describe('README examples', () => {
  // Every curl of the README to this app, with its method, headers and body as written.
  const curls = [...readme.replace(/[ \t]#[^\n]*/g, '').matchAll(/curl ((?:[^'\n]|'[^']*')*)/g)]
    .map(([, args]) => ({
      url: /(?:http:\/\/127\.0\.0\.1|localhost):3000(\/[^\s'"]*)/.exec(args!)?.[1],
      body: /-d '([^']*)'/.exec(args!)?.[1],
      method: /-X ?([A-Z]+)/.exec(args!)?.[1] ?? (/-d '/.test(args!) ? 'POST' : 'GET'),
      headers: Object.fromEntries([...args!.matchAll(/-H '([^:]+): ([^']*)'/g)].map((m) => [m[1]!, m[2]!])),
    }))
    .filter((curl) => curl.url);
  // Past validation the stubs answer little: the 500s that follow are logged, and beside the point here.
  beforeEach(() => void vi.spyOn(console, 'error').mockImplementation(() => {}));
  afterEach(() => vi.restoreAllMocks());

  it.each(curls.map((curl) => [`${curl.method} ${curl.url}`, curl]))('%s: its query, body and headers pass validation', async (_what, curl) => {
    const stub = stubApp({ rows: () => [] });
    // curl -d without -H sends a form content type.
    const headers = curl.body === undefined ? curl.headers : { 'content-type': 'application/x-www-form-urlencoded', ...curl.headers };
    const response = await stub.app.request(curl.url!, { method: curl.method, headers, body: curl.body });
    expect([400, 413, 415], await response.text()).not.toContain(response.status);
  });

  it('has the examples this checks', () => expect(curls.filter((curl) => curl.body !== undefined).length).toBeGreaterThanOrEqual(8));
});

describe('workflow inputs', () => {
  const schemas: Record<string, Parameters<typeof workflowInput>[0]> = {
    healthCheck: healthCheckInputSchema,
    requestRun: requestRunInputSchema,
    cpuLoad: cpuLoadInputSchema,
    cfConverge: convergeInputSchema,
    deployNode: deployNodeInputSchema,
    triggerChain: triggerChainInputSchema,
    fractal: fractalInputSchema,
    fractalBatch: fractalBatchInputSchema,
  };
  const starts = [...readme.matchAll(/temporal workflow (?:start|signal-with-start) ([^\n]*)/g)].map(([, line]) => ({
    type: /--type (\w+)/.exec(line!)![1]!,
    // --input-file names a file of the repository (docs/examples/…).
    input: /--input '([^']*)'/.exec(line!)?.[1] ?? readFileSync(new URL(`../../${/--input-file (\S+)/.exec(line!)![1]!}`, import.meta.url), 'utf8'),
  }));

  it('accepts the input of every `temporal workflow start` in the README', () => {
    expect(new Set(starts.map((s) => s.type))).toEqual(new Set(Object.keys(schemas)));
    for (const { type, input } of starts) expect(() => workflowInput(schemas[type]!, JSON.parse(input)), type).not.toThrow();
  });

  it("accepts the README's cpuLoad signal and update inputs with the switch schema", () => {
    const inputs = [...readme.matchAll(/--(?:name (?:setCpuLoad|switchCpuLoad)|signal-name setCpuLoad) --(?:signal-)?input '([^']*)'/g)].map((m) => m[1]!);
    expect(inputs.length).toBeGreaterThanOrEqual(3);
    for (const input of inputs) expect(() => workflowInput(cpuLoadSwitchSchema, JSON.parse(input))).not.toThrow();
  });

  it('refuses invalid input with a non-retryable InvalidInput failure naming the field', () => {
    const failure = (() => {
      try {
        workflowInput(convergeInputSchema, { kinds: [{ ...kind, env: null }], extra: 1 });
      } catch (error) {
        return error;
      }
    })();
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'InvalidInput', nonRetryable: true, message: expect.stringMatching(/^Invalid input: kinds\.0\.env: /) });
  });

  it('finds a foundation by own key only', () => {
    const clientFor = clientFactory({ default: { apiUrl: 'http://127.0.0.1:9', credentials: { kind: 'client', clientId: 'c', clientSecret: 's' } } });
    expect(() => clientFor('constructor', new AbortController().signal)).toThrow(/Unknown foundation constructor/);
  });
});
