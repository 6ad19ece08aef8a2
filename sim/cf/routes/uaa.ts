// UAA's token endpoint on the login link: password, client_credentials and refresh_token grants,
// answered with UAA's JSON (access_token, token_type, refresh_token, expires_in, scope, jti) or its
// errors ({"error","error_description"}).
import { Hono, type Context } from 'hono';
import { UaaError } from '../errors.ts';
import type { SimEnv, SimRuntime } from '../context.ts';
import { userId, type GrantType, type Principal } from '../tokens.ts';
import type { SimClient } from '../options.ts';

const badCredentials = () => new UaaError(401, 'unauthorized', 'Bad credentials');

/** RFC 6749 §2.3.1 form-encodes Basic client credentials, but most clients send them raw: accept both. */
function sameCredential(expected: string, given: string): boolean {
  if (expected === given) return true;
  try {
    return expected === decodeURIComponent(given.replace(/\+/g, ' '));
  } catch {
    return false;
  }
}

function clientCredentials(c: Context<SimEnv>, form: Record<string, string>): { id: string; secret: string } | undefined {
  const header = c.req.header('authorization');
  const basic = header ? /^basic\s+(.+)$/i.exec(header) : null;
  if (basic) {
    const decoded = Buffer.from(basic[1]!.trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
  }
  if (form.client_id !== undefined) return { id: form.client_id, secret: form.client_secret ?? '' };
  return undefined;
}

export function uaaRoutes(runtime: SimRuntime) {
  const authenticateClient = (c: Context<SimEnv>, form: Record<string, string>, grant: GrantType): SimClient => {
    const given = clientCredentials(c, form);
    const client = given && runtime.clients.find((k) => sameCredential(k.id, given.id) && sameCredential(k.secret, given.secret));
    if (!client) throw badCredentials();
    if (!client.grants.includes(grant)) throw new UaaError(401, 'invalid_client', `Unauthorized grant type: ${grant}`);
    return client;
  };

  const principalFor = (c: Context<SimEnv>, form: Record<string, string>, grant: GrantType): Principal => {
    const client = authenticateClient(c, form, grant);
    // Client-credentials clients hold cloud_controller.admin (as a cf-deployment automation client does).
    if (grant === 'client_credentials') return { subject: client.id, userName: null, clientId: client.id, admin: true };
    if (grant === 'password') {
      const user = runtime.users.find((u) => u.username === form.username && u.password === form.password);
      if (!user) throw badCredentials();
      return { subject: userId(user.username), userName: user.username, clientId: client.id, admin: user.admin ?? true };
    }
    const principal = form.refresh_token ? runtime.tokens.redeemRefreshToken(form.refresh_token, client.id) : undefined;
    if (!principal) throw new UaaError(401, 'invalid_token', 'Invalid refresh token.');
    return principal;
  };

  return new Hono<SimEnv>()
    .get('/login/login', (c) =>
      c.json({
        app: { version: 'cf-simulator' },
        links: { uaa: `${c.var.baseUrl}/uaa`, login: `${c.var.baseUrl}/login` },
        zone_name: 'uaa',
        prompts: { username: ['text', 'Email'], password: ['password', 'Password'] },
      }),
    )
    .post('/login/oauth/token', async (c) => {
      const parsed = await c.req.parseBody();
      const form: Record<string, string> = {};
      for (const [key, value] of Object.entries(parsed)) if (typeof value === 'string') form[key] = value;
      const grant = form.grant_type;
      c.header('Cache-Control', 'no-store');
      c.header('Pragma', 'no-cache');
      try {
        if (!grant) throw new UaaError(400, 'invalid_request', 'Missing grant type');
        if (grant !== 'password' && grant !== 'client_credentials' && grant !== 'refresh_token') {
          throw new UaaError(400, 'unsupported_grant_type', `Unsupported grant type: ${grant}`);
        }
        const principal = principalFor(c, form, grant);
        const token = runtime.tokens.issue(principal, grant, {
          issuer: `${c.var.baseUrl}/login/oauth/token`,
          ttlSeconds: runtime.knobs.accessTokenTtlSeconds,
          refreshTtlSeconds: runtime.knobs.refreshTokenTtlSeconds,
        });
        runtime.traffic.recordToken(grant, true);
        return c.json(token);
      } catch (error) {
        if (!(error instanceof UaaError)) throw error;
        runtime.traffic.recordToken(grant ?? 'none', false);
        return c.json({ error: error.error, error_description: error.description }, error.status);
      }
    });
}
