// The codec server: Temporal's remote codec protocol, so the Temporal Web UI (and the CLI's
// --codec-endpoint) can show the payloads the project encrypts (temporal/codec.ts). POST
// /codec/decode and /codec/encode take and answer `{"payloads": [{"metadata": {k: base64}, "data":
// base64}]}`; the Web UI appends /decode or /encode to its endpoint, so that endpoint is …/codec.
// The Web UI calls from its own origin (another port), so these routes answer CORS for exactly that
// origin, with credentials; server/sameOrigin.ts lets its POSTs through on /codec/ only.
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import * as z from 'zod/mini';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { access } from '../server/access.ts';
import { ServiceError } from '../services/errors.ts';
import { readJson } from './validation.ts';

export const CODEC_PATH_PREFIX = '/codec/';
const ALLOWED_HEADERS = 'content-type, x-namespace, authorization';

/** A payload as protojson writes it: metadata values and data in base64. */
const wirePayload = z.object({
  metadata: z.optional(z.record(z.string(), z.string())),
  data: z.optional(z.string()),
});
// protojson leaves out an empty list: the CLI sends {} for a query without arguments.
const codecBody = z.object({ payloads: z._default(z.array(wirePayload), []) });
type WirePayload = z.infer<typeof wirePayload>;

function fromWire(payload: WirePayload): Payload {
  const metadata = Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))]));
  return { metadata, data: new Uint8Array(Buffer.from(payload.data ?? '', 'base64')) };
}

function toWire(payload: Payload): WirePayload {
  const base64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('base64');
  return { metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, base64(v)])), data: base64(payload.data) };
}

export interface CodecRoutesOptions {
  codec: PayloadCodec;
  /** The Temporal Web UI's origin (scheme, host, port): the only one whose pages may call these routes. */
  webUiOrigin: string;
}

/** CORS for the Web UI's origin only: its preflights are answered, others are refused; responses name only it. */
function webUiCors(webUiOrigin: string): MiddlewareHandler {
  return async (c, next) => {
    const origin = c.req.header('origin');
    const fromWebUi = origin === webUiOrigin;
    c.header('Vary', 'Origin');
    if (c.req.method === 'OPTIONS') {
      if (!fromWebUi) throw new ServiceError(403, 'cross_site_request', `Only the Temporal Web UI (${webUiOrigin}) may call the codec server from a browser, not ${origin ?? 'a page without an Origin'}.`);
      c.header('Access-Control-Allow-Origin', webUiOrigin);
      c.header('Access-Control-Allow-Credentials', 'true');
      c.header('Access-Control-Allow-Methods', 'POST');
      c.header('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      c.header('Access-Control-Max-Age', '600');
      return c.body(null, 204);
    }
    if (fromWebUi) {
      c.header('Access-Control-Allow-Origin', webUiOrigin);
      c.header('Access-Control-Allow-Credentials', 'true');
    }
    // Decoded payloads are secrets: no cache keeps them.
    c.header('Cache-Control', 'no-store');
    await next();
  };
}

export function codecRoutes({ codec, webUiOrigin }: CodecRoutesOptions) {
  const convert = (direction: 'encode' | 'decode') =>
    async (c: Context) => {
      // The namespace (X-Namespace) needs no look-up: one set of keys serves every namespace.
      const { payloads } = await readJson(c, codecBody);
      let converted: Payload[];
      try {
        converted = await codec[direction](payloads.map(fromWire));
      } catch (error) {
        throw new ServiceError(400, `${direction}_failed`, (error as Error).message);
      }
      return c.json({ payloads: converted.map(toWire) });
    };
  return (
    new Hono()
      .use(`${CODEC_PATH_PREFIX}*`, webUiCors(webUiOrigin))
      // A preflight carries no credentials; the calls do (the session cookie, or a token from the CLI's
      // --codec-auth). Encoding and decoding change nothing: no CSRF token, no audit line.
      .options(`${CODEC_PATH_PREFIX}:direction{encode|decode}`, access('public'), (c) => c.body(null, 204))
      .post(`${CODEC_PATH_PREFIX}decode`, access('viewer', { readOnly: true }), convert('decode'))
      .post(`${CODEC_PATH_PREFIX}encode`, access('operator', { readOnly: true }), convert('encode'))
  );
}
