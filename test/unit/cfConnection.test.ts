// How the CF client reaches a foundation: the simulator served over HTTPS with a self-signed
// certificate (made here with the openssl CLI) is refused with a clear error unless its CA is trusted
// (CF_CA_BUNDLE) or validation is skipped (CF_SKIP_SSL_VALIDATION), multipart uploads included; an
// HTTP proxy on 127.0.0.1 carries every request, except for NO_PROXY hosts. And the domain apps are
// routed under: the organization's default domain, never a TCP one.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type ServerType } from '@hono/node-server';
import { createCfClient, type CfCredentials } from '../../activities/cf/client.ts';
import { createCfDispatcher, createFastFetch, CfTlsError } from '../../activities/cf/transport.ts';
import { loadConfig, type CfConnection } from '../../config.ts';
import { defaultDomainOf } from '../../sim/cf/routes/domains.ts';
import { createCfSimulator } from '../../sim/cf/simulator.ts';
import type { Domain } from '../../sim/cf/state.ts';

const credentials: CfCredentials = { kind: 'password', username: 'admin', password: 'admin-secret' };
const zip = new Uint8Array([0x50, 0x4b, 0x05, 0x06, ...new Array<number>(18).fill(0)]);

async function closeServer(server: Server | ServerType): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  if ('closeAllConnections' in server) server.closeAllConnections();
  await closed;
}

/** A self-signed certificate for 127.0.0.1 and localhost, from the openssl CLI. */
function selfSignedCertificate(dir: string): { key: string; cert: string; certPath: string } {
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=cf-sim.test',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyPath, '-out', certPath,
  ], { stdio: 'ignore' });
  return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), certPath };
}

/** A forward proxy that tunnels CONNECT and relays absolute-form requests, counting what it carried. */
async function countingProxy() {
  const carried = { tunnels: 0, requests: 0, targets: [] as string[] };
  const server = createHttpServer((request, response) => {
    carried.requests++;
    const target = new URL(request.url!);
    carried.targets.push(target.host);
    const upstream = httpRequest(target, { method: request.method, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(response);
    });
    request.pipe(upstream);
  });
  server.on('connect', (request, client, head) => {
    carried.tunnels++;
    carried.targets.push(request.url!);
    const [host, port] = request.url!.split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    tunnels.add(client).add(upstream);
  });
  // Tunnels are no longer the server's connections: closing it ends them too.
  const tunnels = new Set<{ destroy(): void }>();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const close = () => {
    tunnels.forEach((socket) => socket.destroy());
    return closeServer(server);
  };
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, carried, close };
}

describe('CF connection options', () => {
  let dir: string;
  let certificate: ReturnType<typeof selfSignedCertificate>;
  let https: ServerType;
  let http: ServerType;
  let httpsUrl: string;
  let httpUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cf-tls-'));
    certificate = selfSignedCertificate(dir);
    const sim = createCfSimulator({ latencyMs: 0 });
    https = serve({ fetch: sim.fetch, hostname: '127.0.0.1', port: 0, createServer: createHttpsServer, serverOptions: { key: certificate.key, cert: certificate.cert } });
    http = serve({ fetch: sim.fetch, hostname: '127.0.0.1', port: 0 });
    await Promise.all([once(https, 'listening'), once(http, 'listening')]);
    httpsUrl = `https://127.0.0.1:${(https.address() as AddressInfo).port}`;
    httpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await Promise.all([https, http].filter(Boolean).map(closeServer));
    rmSync(dir, { recursive: true, force: true });
  });

  const clientOver = (apiUrl: string, connection: Partial<CfConnection>) =>
    createCfClient({ apiUrl, credentials, fetch: createFastFetch(createCfDispatcher(connection)) });

  /** Logs in, creates an org, space and app, and uploads bits (multipart) to a package. */
  async function pushSomething(cf: ReturnType<typeof clientOver>, name: string) {
    const org = await cf.createOrganization(`${name}-org`);
    const space = await cf.createSpace(org.guid, `${name}-space`);
    const app = await cf.createApp(space.guid, `${name}-app`);
    const pkg = await cf.createPackage(app.guid);
    return cf.uploadBits(pkg.guid, zip);
  }

  it('refuses a self-signed certificate with neither option, naming both fixes', async () => {
    const failure = await clientOver(httpsUrl, {}).findOrganization('any').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CfTlsError);
    expect((failure as CfTlsError).message).toMatch(new RegExp(`^The TLS certificate of ${httpsUrl.replace(/[.]/g, '\\.')} was refused \\((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN): .*CF_CA_BUNDLE.*CF_SKIP_SSL_VALIDATION=true$`));
  });

  it('trusts the certificate of a CA bundle (CF_CA_BUNDLE), uploads included', async () => {
    const config = loadConfig({ CF_API_URL: httpsUrl, CF_CA_BUNDLE: certificate.certPath });
    expect(config.cf.connection).toMatchObject({ skipSslValidation: false, caBundle: certificate.cert });
    const uploaded = await pushSomething(clientOver(httpsUrl, config.cf.connection), 'ca');
    expect(uploaded.state).toMatch(/^(PROCESSING_UPLOAD|READY)$/);
  });

  it('accepts any certificate with CF_SKIP_SSL_VALIDATION, uploads included', async () => {
    const config = loadConfig({ CF_API_URL: httpsUrl, CF_SKIP_SSL_VALIDATION: 'true' });
    expect(config.cf.connection.skipSslValidation).toBe(true);
    const uploaded = await pushSomething(clientOver(httpsUrl, config.cf.connection), 'skip');
    expect(uploaded.state).toMatch(/^(PROCESSING_UPLOAD|READY)$/);
  });

  it('refuses a CA bundle that cannot be read or holds no certificate, at start', () => {
    expect(() => loadConfig({ CF_CA_BUNDLE: join(dir, 'missing.pem') })).toThrow(/CF_CA_BUNDLE=.*missing\.pem.* cannot be read \(ENOENT\)/);
    expect(() => loadConfig({ CF_CA_BUNDLE: join(dir, 'key.pem') })).toThrow(/holds no PEM certificate/);
    expect(() => loadConfig({ HTTPS_PROXY: 'socks://proxy:1080' })).toThrow(/HTTPS_PROXY is not an http\(s\) URL/);
  });

  it('sends every request through HTTPS_PROXY (a CONNECT tunnel to the HTTPS API), uploads included', async () => {
    const proxy = await countingProxy();
    try {
      const config = loadConfig({ CF_API_URL: httpsUrl, CF_CA_BUNDLE: certificate.certPath, https_proxy: proxy.url });
      expect(config.cf.connection.httpsProxy).toBe(proxy.url);
      await pushSomething(clientOver(httpsUrl, config.cf.connection), 'proxied');
      expect(proxy.carried.tunnels).toBeGreaterThan(0);
      expect(new Set(proxy.carried.targets)).toEqual(new Set([new URL(httpsUrl).host]));
    } finally {
      await proxy.close();
    }
  });

  it('sends plain-HTTP requests through HTTP_PROXY, and none for a NO_PROXY host', async () => {
    const proxy = await countingProxy();
    try {
      await pushSomething(clientOver(httpUrl, loadConfig({ CF_API_URL: httpUrl, HTTP_PROXY: proxy.url }).cf.connection), 'plain');
      const carried = proxy.carried.tunnels + proxy.carried.requests;
      expect(carried).toBeGreaterThan(0);
      await pushSomething(clientOver(httpUrl, loadConfig({ CF_API_URL: httpUrl, HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' }).cf.connection), 'direct');
      expect(proxy.carried.tunnels + proxy.carried.requests).toBe(carried);
    } finally {
      await proxy.close();
    }
  });
});

describe("the organization's default domain", () => {
  const domain = (seq: number, name: string, extra: Partial<Domain> = {}): Domain =>
    ({ guid: `g-${name}`, seq, createdAt: seq, updatedAt: seq, metadata: { labels: {}, annotations: {} }, name, internal: false, ...extra });

  it('is the oldest shared HTTP domain (CC: Organization#default_domain), never a TCP or internal one, else the org’s first private domain', () => {
    const tcp = domain(1, 'tcp.example.com', { routerGroupGuid: 'default-tcp' });
    const internal = domain(2, 'apps.internal', { internal: true });
    const otherOrgs = domain(3, 'other.example.com', { organizationGuid: 'org-2' });
    const own = domain(4, 'own.example.com', { organizationGuid: 'org-1' });
    const shared = domain(5, 'apps.example.com');
    expect(defaultDomainOf([shared, own, otherOrgs, internal, tcp], 'org-1')?.name).toBe('apps.example.com');
    expect(defaultDomainOf([own, otherOrgs, internal, tcp], 'org-1')?.name).toBe('own.example.com');
    expect(defaultDomainOf([otherOrgs, internal, tcp], 'org-1')).toBeUndefined();
  });

  it('is served at GET /v3/organizations/:guid/domains/default, and the client takes it', async () => {
    const sim = createCfSimulator({ latencyMs: 0, appsDomain: 'apps.example.com' });
    const fetchSim = ((input: string | URL | Request, init?: RequestInit) => sim.fetch(new Request(input, init))) as typeof fetch;
    const cf = createCfClient({ apiUrl: 'http://cf.test', credentials, fetch: fetchSim });
    const org = await cf.createOrganization('domains-org');
    const login = ((await (await fetchSim('http://cf.test/')).json()) as { links: { login: { href: string } } }).links.login.href;
    const token = ((await (await fetchSim(`${login}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('cf:').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=password&username=admin&password=admin-secret',
    })).json()) as { access_token: string }).access_token;
    const created = await fetchSim('http://cf.test/v3/domains', {
      method: 'POST',
      headers: { authorization: `bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'tcp.example.com', router_group: { guid: 'default-tcp' } }),
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ name: 'tcp.example.com', router_group: { guid: 'default-tcp' }, supported_protocols: ['tcp'] });
    expect(await cf.defaultDomain(org.guid)).toMatchObject({ name: 'apps.example.com', router_group: null });
    expect(await cf.defaultDomain('00000000-0000-0000-0000-000000000000').catch((error: unknown) => error)).toMatchObject({ status: 404, detail: 'Organization not found' });
  });
});
