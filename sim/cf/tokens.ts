// UAA-shaped tokens: JWTs (HS256) carrying exp, so clients can refresh ahead of expiry as the cf CLI
// does; refresh tokens are opaque and remembered until the simulator is reset.
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

export interface Principal {
  /** The user's id, or the client id for client_credentials tokens. */
  subject: string;
  userName: string | null;
  clientId: string;
  /** Holds cloud_controller.admin: may do anything, and is not rate limited. */
  admin: boolean;
}

export type GrantType = 'password' | 'client_credentials' | 'refresh_token';

export interface IssuedToken {
  access_token: string;
  token_type: 'bearer';
  refresh_token?: string;
  expires_in: number;
  scope: string;
  jti: string;
}

const USER_SCOPES = ['cloud_controller.read', 'cloud_controller.write', 'openid', 'uaa.user'];
const ADMIN_SCOPE = 'cloud_controller.admin';
const CLIENT_SCOPES = ['cloud_controller.admin', 'cloud_controller.read', 'cloud_controller.write'];

const base64url = (value: Buffer | string) => Buffer.from(value).toString('base64url');

/** A stable user id per user name, so tokens and logs read the same across restarts. */
export function userId(userName: string): string {
  const hex = createHash('sha256').update(`user:${userName}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export class TokenService {
  private readonly refreshTokens = new Map<string, { principal: Principal; expiresAt: number }>();

  constructor(
    private readonly signingKey: string = randomBytes(32).toString('hex'),
    private readonly now: () => number,
  ) {}

  issue(principal: Principal, grant: GrantType, options: { issuer: string; ttlSeconds: number; refreshTtlSeconds: number }): IssuedToken {
    const issuedAt = Math.floor(this.now() / 1000);
    const jti = randomUUID().replace(/-/g, '');
    const scopes = principal.userName ? [...(principal.admin ? [ADMIN_SCOPE] : []), ...USER_SCOPES] : CLIENT_SCOPES;
    const claims = {
      jti,
      sub: principal.subject,
      scope: scopes,
      client_id: principal.clientId,
      cid: principal.clientId,
      azp: principal.clientId,
      grant_type: grant,
      ...(principal.userName ? { user_id: principal.subject, origin: 'uaa', user_name: principal.userName, email: principal.userName, auth_time: issuedAt } : { authorities: scopes }),
      iat: issuedAt,
      exp: issuedAt + options.ttlSeconds,
      iss: options.issuer,
      zid: 'uaa',
      aud: ['cloud_controller', principal.clientId],
    };
    const token: IssuedToken = {
      access_token: this.sign(claims),
      token_type: 'bearer',
      expires_in: options.ttlSeconds - 1,
      scope: scopes.join(' '),
      jti,
    };
    // As UAA: client_credentials tokens come without a refresh token; the client runs the grant again.
    if (principal.userName) {
      const refreshToken = `${randomUUID().replace(/-/g, '')}-r`;
      this.refreshTokens.set(refreshToken, { principal, expiresAt: this.now() + options.refreshTtlSeconds * 1000 });
      token.refresh_token = refreshToken;
    }
    return token;
  }

  redeemRefreshToken(refreshToken: string, clientId: string): Principal | undefined {
    const stored = this.refreshTokens.get(refreshToken);
    if (!stored || stored.expiresAt <= this.now() || stored.principal.clientId !== clientId) return undefined;
    return stored.principal;
  }

  /** The token's principal, or why it cannot be used. */
  verify(token: string): Principal | 'invalid' | 'expired' {
    const [header, payload, signature] = token.split('.');
    if (!header || !payload || !signature) return 'invalid';
    const expected = Buffer.from(this.signature(`${header}.${payload}`));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'invalid';
    let claims: { sub?: string; user_name?: string; client_id?: string; exp?: number; scope?: string[] };
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return 'invalid';
    }
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= this.now()) return 'expired';
    return { subject: claims.sub ?? '', userName: claims.user_name ?? null, clientId: claims.client_id ?? '', admin: claims.scope?.includes(ADMIN_SCOPE) ?? false };
  }

  forgetRefreshTokens(): void {
    this.refreshTokens.clear();
  }

  private sign(claims: object): string {
    const unsigned = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'cf-simulator' }))}.${base64url(JSON.stringify(claims))}`;
    return `${unsigned}.${this.signature(unsigned)}`;
  }

  private signature(unsigned: string): string {
    return createHmac('sha256', this.signingKey).update(unsigned).digest('base64url');
  }
}
