// Mail: notify addresses held to NOTIFY_ALLOWED_DOMAINS by the API, the UI and the email activity
// (the CLI starts workflows without the API), and the relay reached over TLS unless it is loopback.
import { stubApp as stubAppWith } from './support/stubApp.ts';
import { describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import type { ErrorBody } from '../../api/errors.ts';
import { createEmailActivities, smtpTransportOptions, type Email } from '../../activities/nodes/email.ts';
import { ConfigError, isLoopbackHost, loadConfig } from '../../config.ts';
import { isAllowedMailDomain, notifyAddressProblem } from '../../workflows/nodes.shared.ts';

const ALLOWED = ['fleet.test', '*.corp.example'];
const ALLOWED_LIST = 'fleet.test, *.corp.example';

describe('NOTIFY_ALLOWED_DOMAINS', () => {
  it("defaults to localhost and the example cluster's and the tests' reserved domains, lower-cased when set", () => {
    expect(loadConfig({}).smtp.allowedDomains).toEqual(['localhost', 'fleet.local', 'fleet.test']);
    expect(loadConfig({ NOTIFY_ALLOWED_DOMAINS: ' Example.com, *.Corp.example ' }).smtp.allowedDomains).toEqual(['example.com', '*.corp.example']);
  });

  it.each(['*', 'example.com/x', 'ops@example.com', '*.', 'a..b', '-a.com', '*.*.example.com'])('refuses %j as a domain', (value) => {
    expect(() => loadConfig({ NOTIFY_ALLOWED_DOMAINS: `example.com,${value}` })).toThrow(ConfigError);
    expect(() => loadConfig({ NOTIFY_ALLOWED_DOMAINS: `example.com,${value}` })).toThrow(/NOTIFY_ALLOWED_DOMAINS has .* which is not a domain/);
  });

  it('matches exact domains, and subdomains (not the domain itself) for *. patterns, in any case', () => {
    expect(isAllowedMailDomain('fleet.test', ALLOWED)).toBe(true);
    expect(isAllowedMailDomain('FLEET.Test', ALLOWED)).toBe(true);
    expect(isAllowedMailDomain('a.fleet.test', ALLOWED)).toBe(false);
    expect(isAllowedMailDomain('ops.corp.example', ALLOWED)).toBe(true);
    expect(isAllowedMailDomain('a.b.corp.example', ALLOWED)).toBe(true);
    expect(isAllowedMailDomain('corp.example', ALLOWED)).toBe(false);
    expect(isAllowedMailDomain('evilcorp.example', ALLOWED)).toBe(false);
    expect(isAllowedMailDomain('fleet.test.evil.com', ALLOWED)).toBe(false);
  });

  it.each([
    ['oncall@fleet.test', undefined],
    ['oncall@evil.com', 'AddressNotAllowed'],
    ['oncall@fleet.test.evil.com', 'AddressNotAllowed'],
    // What a relay could read as a second recipient or a route elsewhere is not one plain address.
    ['a@evil.com,b@fleet.test', 'BadAddress'],
    ['evil,b@fleet.test', 'BadAddress'],
    ['user%evil.com@fleet.test', 'BadAddress'],
    ['evil.com!user@fleet.test', 'BadAddress'],
    ['"a@evil.com"@fleet.test', 'BadAddress'],
    ['Ops <ops@fleet.test>', 'BadAddress'],
    ['ops@fleet.test.', 'BadAddress'],
  ])('judges %j: %s', (address, type) => {
    expect(notifyAddressProblem(address, ALLOWED)?.type).toBe(type);
  });
});

/** The app over stub clients (support/stubApp.ts) with this file's allowlist; MySQL answers `rows(sql)`. */
const stubApp = (rows: (sql: string) => unknown = () => []) => stubAppWith({ rows, notifyAllowedDomains: ALLOWED });

const json = (method: string, body: unknown): RequestInit => ({ method, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
const cluster = { name: 'web', maxNodes: 2, ec2Profile: 'local', sshProfile: 'local' };

describe('the API and the UI refuse a notify address outside the allowlist', () => {
  it.each([
    ['POST', '/api/clusters', { ...cluster, notifyEmail: 'ops@evil.com' }, 'notifyEmail'],
    ['PUT', '/api/clusters/web', { maxNodes: 2, ec2Profile: 'local', sshProfile: 'local', notifyEmail: 'ops@corp.example' }, 'notifyEmail'],
    ['POST', '/api/clusters/web/deployments', { notify: 'ops@evil.com' }, 'notify'],
    ['DELETE', '/api/clusters/web/nodes/web01', { notify: 'ops@fleet.test.evil.com' }, 'notify'],
  ])('%s %s refuses %j with 400 naming %s and the allowlist; nothing stored or started', async (method, path, body, field) => {
    const stub = stubApp();
    const response = await stub.app.request(path, json(method, body));
    const { error } = (await response.json()) as ErrorBody;
    expect(response.status).toBe(400);
    expect(error).toMatchObject({ code: 'validation_failed', field });
    expect(error.message).toMatch(new RegExp(`^${field}: [a-z.]+ is not in NOTIFY_ALLOWED_DOMAINS \\(allowed: ${ALLOWED_LIST.replace(/[.*()]/g, '\\$&')}\\)$`));
    expect(stub.queries).toEqual([]);
    expect(stub.starts).toEqual([]);
  });

  it('starts a deployment whose notify address is on the allowlist, and passes the address on', async () => {
    const row: Record<string, unknown> = { name: 'web', min_nodes: 0, max_nodes: 2, ec2_profile: 'local', ssh_profile: 'local', notify_email: null };
    const stub = stubApp((sql) => (sql.startsWith('SELECT * FROM nodes') ? [] : [row]));
    const response = await stub.app.request('/api/clusters/web/deployments', json('POST', { deploymentId: 'd1', notify: 'oncall@eu.corp.example' }));
    expect(response.status, await response.clone().text()).toBe(202);
    expect(stub.starts.map((s) => s.options.args[0])).toEqual([expect.objectContaining({ cluster: 'web', deploymentId: 'd1', notify: 'oncall@eu.corp.example' })]);
  });

  it('stores a cluster whose notify address is on the allowlist', async () => {
    const stub = stubApp((sql) => (sql.startsWith('INSERT') ? { affectedRows: 1 } : [{ name: 'local', notify_email: 'ops@fleet.test' }]));
    const response = await stub.app.request('/api/clusters', json('POST', { ...cluster, notifyEmail: 'ops@fleet.test' }));
    expect(response.status, await response.clone().text()).toBe(201);
    expect(stub.queries.map((q) => q.sql)).toContain('INSERT INTO clusters SET ?');
  });

  it("the UI's cluster form shows the refusal and stores nothing", async () => {
    const stub = stubApp();
    const form = new URLSearchParams({ name: 'web', minNodes: '0', maxNodes: '2', ec2Profile: 'local', sshProfile: 'local', notifyEmail: 'ops@evil.com' });
    const response = await stub.app.request('/ui/nodes/clusters', { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(await response.text()).toContain('notifyEmail: evil.com is not in NOTIFY_ALLOWED_DOMAINS');
    expect(stub.queries.map((q) => q.sql).filter((sql) => !sql.startsWith('SELECT'))).toEqual([]);
  });
});

describe('the sendEmail activity', () => {
  const sent: Email[] = [];
  const { sendEmail } = createEmailActivities({
    allowedDomains: ALLOWED,
    mailer: async (email) => {
      sent.push(email);
      return { messageId: `<${sent.length}@fleet.test>` };
    },
  });

  it('refuses a foreign domain for good, without mailing (what `temporal workflow start` could ask)', async () => {
    sent.length = 0;
    const failure = await sendEmail({ to: 'ops@evil.com', subject: 's', text: 't' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'AddressNotAllowed', nonRetryable: true, message: `Will not mail "ops@evil.com": evil.com is not in NOTIFY_ALLOWED_DOMAINS (allowed: ${ALLOWED.join(', ')}).` });
    await expect(sendEmail({ to: 'a@evil.com,b@fleet.test', subject: 's', text: 't' })).rejects.toMatchObject({ type: 'BadAddress', nonRetryable: true });
    expect(sent).toEqual([]);
  });

  it('mails an allowed address', async () => {
    sent.length = 0;
    expect(await sendEmail({ to: 'ops@eu.corp.example', subject: 's', text: 't' })).toEqual({ messageId: '<1@fleet.test>' });
    expect(sent).toEqual([{ to: 'ops@eu.corp.example', subject: 's', text: 't' }]);
  });
});

describe('the SMTP transport', () => {
  const options = (env: Record<string, string>) => smtpTransportOptions(loadConfig(env).smtp);

  it('requires STARTTLS from a relay that is not loopback', () => {
    expect(options({ SMTP_HOST: 'smtp.example.com', SMTP_PORT: '587', SMTP_USER: 'fleet', SMTP_PASSWORD: 'pw' })).toMatchObject({
      host: 'smtp.example.com', port: 587, secure: false, requireTLS: true, ignoreTLS: false, auth: { user: 'fleet', pass: 'pw' },
    });
    expect(options({ SMTP_HOST: '10.0.0.25' })).toMatchObject({ requireTLS: true, ignoreTLS: false });
    // SMTP_SINK forced on for a remote host does not switch TLS off.
    expect(options({ SMTP_HOST: 'relay.internal', SMTP_SINK: 'true' })).toMatchObject({ requireTLS: true, ignoreTLS: false });
  });

  it('uses implicit TLS with SMTP_SECURE (no STARTTLS to require)', () => {
    expect(options({ SMTP_HOST: 'smtp.example.com', SMTP_PORT: '465', SMTP_SECURE: 'true' })).toMatchObject({ secure: true, requireTLS: false, ignoreTLS: false });
  });

  it('keeps plain SMTP to the local sink, and lets another loopback relay upgrade when it offers to', () => {
    expect(options({})).toMatchObject({ host: '127.0.0.1', port: 2525, secure: false, requireTLS: false, ignoreTLS: true, auth: undefined });
    expect(options({ SMTP_HOST: 'localhost', SMTP_USER: 'u' })).toMatchObject({ requireTLS: false, ignoreTLS: false });
  });

  it.each([
    ['127.0.0.1', true], ['127.8.9.10', true], ['localhost', true], ['LOCALHOST', true], ['::1', true], ['[::1]', true],
    ['128.0.0.1', false], ['127.0.0.1.example.com', false], ['localhost.example.com', false], ['smtp.example.com', false],
  ])('%s is loopback: %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});
