// Access for unit tests, without MySQL: one bearer token per role and one session per role, whose
// CSRF token is `csrfOf(role)`. What the audit log was told is kept in `audited`.
import type { Principal, Role } from '../../../services/access.shared.ts';
import type { AccessService } from '../../../services/access.ts';

export const unitTokens: Record<Role, string> = { viewer: 'fleet_unit-viewer', operator: 'fleet_unit-operator', admin: 'fleet_unit-admin' };
export const unitSessions: Record<Role, string> = { viewer: 'unit-session-viewer', operator: 'unit-session-operator', admin: 'unit-session-admin' };
export const csrfOf = (role: Role) => `unit-csrf-${role}`;

const roleOf = (secrets: Record<Role, string>, secret: string) => (Object.keys(secrets) as Role[]).find((role) => secrets[role] === secret);

export function stubAccess() {
  const audited: { actor: string; action: string; target: string; status: number }[] = [];
  const service = {
    settings: { sessionIdleMs: 3_600_000, sessionMaxMs: 43_200_000 },
    tokenPrincipal: async (token: string): Promise<Principal | undefined> => {
      const role = roleOf(unitTokens, token);
      return role && { kind: 'token', name: `unit-${role}`, role, actor: `token:unit-${role}#1` };
    },
    sessionPrincipal: async (session: string): Promise<Principal | undefined> => {
      const role = roleOf(unitSessions, session);
      return role && { kind: 'session', name: `${role}-user`, role, actor: `user:${role}-user`, csrfToken: csrfOf(role) };
    },
    users: { list: async () => [{ username: 'admin-user', role: 'admin', mustChangePassword: false, createdAt: new Date('2026-01-01T00:00:00Z') }] },
    tokens: {
      list: async () => [
        { id: 1, name: 'unit-admin', role: 'admin', prefix: 'fleet_unit-a', createdBy: 'user:admin-user', createdAt: new Date('2026-01-01T00:00:00Z'), lastUsedAt: null, revokedAt: null, status: 'active' },
      ],
    },
    audit: {
      record: async (entry: { principal: { actor: string }; action: string; target: string; status: number }) => {
        audited.push({ actor: entry.principal.actor, action: entry.action, target: entry.target, status: entry.status });
      },
      list: async () =>
        audited.map((entry, index) => ({ id: index + 1, at: new Date('2026-01-01T00:00:00Z'), role: 'admin', detail: null, ...entry })),
    },
  };
  return { service: service as unknown as AccessService, audited };
}
