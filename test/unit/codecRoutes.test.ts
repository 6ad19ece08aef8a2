// The codec server (api/codec.ts) through the whole app (createApp) with app.request(): Temporal's
// remote codec protocol, and CORS for exactly the Temporal Web UI's origin, whose cross-origin POSTs
// server/sameOrigin.ts lets through on /codec/ and nowhere else.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Pool } from 'mysql2/promise';
import type { ErrorBody } from '../../api/errors.ts';
import { createApp } from '../../server/app.ts';
import { AesGcmPayloadCodec } from '../../temporal/codec.ts';
import { SESSION_COOKIE } from '../../services/access.shared.ts';
import { asToken } from '../support/asToken.ts';
import { stubAccess, unitSessions, unitTokens } from './support/stubAccess.ts';

const WEB_UI = 'http://127.0.0.1:8233';
const codec = new AesGcmPayloadCodec([{ id: 'k1', key: randomBytes(32) }]);

const anonymous = createApp({
  temporal: {} as Client,
  namespace: 'default',
  probes: {} as never,
  temporalWebUiUrl: `${WEB_UI}/`,
  mysql: {} as Pool,
  allowedDestinations: [],
  notifyAllowedDomains: [], counterAllowedHosts: [],
  payloadCodec: codec,
  access: stubAccess().service,
  dataPlaneOpen: true,
});
// Encoding needs an operator, decoding a viewer.
const app = asToken(anonymous, unitTokens.operator);

interface WirePayloads {
  payloads: { metadata: Record<string, string>; data: string }[];
}

/** A payload as the Web UI and the CLI send it: protojson, bytes in base64. */
function wire(value: unknown) {
  const payload = defaultPayloadConverter.toPayload(value);
  const b64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('base64');
  return { metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, b64(v)])), data: b64(payload.data) };
}

const fromWire = (payload: WirePayloads['payloads'][number]) =>
  defaultPayloadConverter.fromPayload({
    metadata: Object.fromEntries(Object.entries(payload.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(payload.data, 'base64'),
  });

/** A POST as the Web UI's fetch sends it from its own origin (another port: same site, other origin). */
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  app.request(path, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', 'x-namespace': 'default', origin: WEB_UI, 'sec-fetch-site': 'same-site', host: '127.0.0.1:3000', ...headers },
  });

describe('POST /codec/encode and /codec/decode', () => {
  it('encode answers encrypted payloads that decode back, in the same shape', async () => {
    const encoded = await post('/codec/encode', { payloads: [wire({ script: 'echo marker-9d1e' }), wire(42)] });
    expect(encoded.status).toBe(200);
    const { payloads } = (await encoded.json()) as WirePayloads;
    expect(payloads).toHaveLength(2);
    expect(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
    expect(Buffer.from(payloads[0]!.data, 'base64').includes('marker-9d1e')).toBe(false);

    const decoded = await post('/codec/decode', { payloads });
    expect(decoded.status).toBe(200);
    expect(decoded.headers.get('cache-control')).toBe('no-store');
    expect(((await decoded.json()) as WirePayloads).payloads.map(fromWire)).toEqual([{ script: 'echo marker-9d1e' }, 42]);
  });

  it('decode answers a payload it did not write as it came', async () => {
    const plain = wire({ dependencies: ['mysql'] });
    const response = await post('/codec/decode', { payloads: [plain] });
    expect(((await response.json()) as WirePayloads).payloads).toEqual([plain]);
  });

  it('answers a payload it cannot decode with 400 naming the key', async () => {
    const other = new AesGcmPayloadCodec([{ id: 'gone', key: randomBytes(32) }]);
    const [payload] = await other.encode([defaultPayloadConverter.toPayload('x')]);
    const b64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('base64');
    const body = { payloads: [{ metadata: Object.fromEntries(Object.entries(payload!.metadata!).map(([k, v]) => [k, b64(v)])), data: b64(payload!.data) }] };
    const response = await post('/codec/decode', body);
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as ErrorBody;
    expect(error.code).toBe('decode_failed');
    expect(error.message).toContain('"gone"');
    // The Web UI can read why: the error carries CORS too.
    expect(response.headers.get('access-control-allow-origin')).toBe(WEB_UI);
  });

  it('refuses a body whose payloads are not a list with 400 naming the field', async () => {
    const response = await post('/codec/decode', { payloads: 'all of them' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as ErrorBody).error.field).toBe('payloads');
  });
});

describe('CORS for the Temporal Web UI', () => {
  const preflight = (origin: string) =>
    app.request('/codec/decode', {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace', host: '127.0.0.1:3000' },
    });

  it('answers a preflight from the Web UI origin, with credentials and the codec headers', async () => {
    const response = await preflight(WEB_UI);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(WEB_UI);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('access-control-allow-methods')).toBe('POST');
    expect(response.headers.get('access-control-allow-headers')?.split(/,\s*/).sort()).toEqual(['authorization', 'content-type', 'x-namespace']);
  });

  it.each(['http://evil.example', 'http://127.0.0.1:9999', 'null'])('refuses a preflight from %s, allowing nothing', async (origin) => {
    const response = await preflight(origin);
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('names the Web UI origin on its POSTs', async () => {
    const response = await post('/codec/decode', { payloads: [] });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(WEB_UI);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
  });

  it('refuses a POST from another origin with 403 before decoding anything', async () => {
    const response = await post('/codec/decode', { payloads: [wire('x')] }, { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(response.status).toBe(403);
    expect(((await response.json()) as ErrorBody).error.code).toBe('cross_site_request');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('lets the Web UI origin POST only to /codec/: the rest of the API still refuses it', async () => {
    const response = await post('/api/health-checks', { dependencies: ['mysql'] });
    expect(response.status).toBe(403);
    expect(((await response.json()) as ErrorBody).error.code).toBe('cross_site_request');
  });

  it('takes the CLI’s body for no payloads, `{}` (protojson leaves an empty list out)', async () => {
    const response = await app.request('/codec/decode', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ payloads: [] });
  });

  it('answers curl and the temporal CLI (no Origin) without CORS headers', async () => {
    const response = await app.request('/codec/decode', { method: 'POST', body: JSON.stringify({ payloads: [] }), headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('who may call the codec server', () => {
  const body = { method: 'POST', body: JSON.stringify({ payloads: [wire('secret')] }) };
  const call = (path: string, headers: Record<string, string>) => anonymous.request(path, { ...body, headers: { 'content-type': 'application/json', ...headers } });

  it('decodes for a viewer, and encodes only for an operator', async () => {
    expect((await call('/codec/decode', {})).status).toBe(401);
    expect((await call('/codec/decode', { authorization: `Bearer ${unitTokens.viewer}` })).status).toBe(200);
    expect((await call('/codec/encode', { authorization: `Bearer ${unitTokens.viewer}` })).status).toBe(403);
    expect((await call('/codec/encode', { authorization: `Bearer ${unitTokens.operator}` })).status).toBe(200);
  });

  it('takes the Web UI’s call with the signed-in operator’s cookie, without a CSRF token (it changes nothing)', async () => {
    const response = await call('/codec/decode', { origin: WEB_UI, 'sec-fetch-site': 'same-site', cookie: `${SESSION_COOKIE}=${unitSessions.viewer}` });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(WEB_UI);
  });
});

describe('without a payload codec', () => {
  it('serves no codec routes', async () => {
    const plainApp = asToken(
      createApp({ temporal: {} as Client, namespace: 'default', probes: {} as never, temporalWebUiUrl: WEB_UI, mysql: {} as Pool, allowedDestinations: [], notifyAllowedDomains: [], counterAllowedHosts: [], access: stubAccess().service, dataPlaneOpen: true }),
      unitTokens.admin,
    );
    const response = await plainApp.request('/codec/decode', { method: 'POST', body: '{"payloads":[]}', headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(404);
  });
});

describe("the dev server's Web UI points at the codec server", () => {
  it('passes --ui-codec-endpoint with the API base URL and /codec, to which the UI appends /decode', async () => {
    const { codecEndpointUrl, devServerArgs } = await import('../../scripts/temporalDevServer.ts');
    const { loadConfig } = await import('../../config.ts');
    const endpoint = codecEndpointUrl(loadConfig({ API_PORT: '3100' }));
    expect(endpoint).toBe('http://127.0.0.1:3100/codec');
    const args = devServerArgs({ host: '127.0.0.1', port: 7233, namespace: 'default', uiPort: 8233, uiCodecEndpoint: endpoint });
    expect(args.slice(args.indexOf('--ui-codec-endpoint'), args.indexOf('--ui-codec-endpoint') + 2)).toEqual(['--ui-codec-endpoint', endpoint]);
    expect(devServerArgs({ host: '127.0.0.1', port: 7233, namespace: 'default', uiCodecEndpoint: endpoint })).not.toContain('--ui-codec-endpoint');
  });
});
