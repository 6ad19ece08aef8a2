// The operators, operator_sessions, api_tokens and audit_log tables (migration 0006).
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { Role } from '../services/access.shared.ts';

export interface OperatorRow {
  id: number;
  username: string;
  role: Role;
  passwordHash: string;
  mustChangePassword: boolean;
  createdAt: Date;
}

export interface SessionRow {
  operator: OperatorRow;
  csrfToken: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
}

export interface TokenRow {
  id: number;
  name: string;
  role: Role;
  prefix: string;
  createdBy: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface AuditEntry {
  id: number;
  at: Date;
  actor: string;
  role: string;
  action: string;
  target: string;
  status: number;
  detail: string | null;
}

const operatorColumns = 'o.id, o.username, o.role, o.password_hash, o.must_change_password, o.created_at';

function operatorOf(row: RowDataPacket): OperatorRow {
  return {
    id: Number(row.id),
    username: row.username as string,
    role: row.role as Role,
    passwordHash: row.password_hash as string,
    mustChangePassword: Boolean(row.must_change_password),
    createdAt: row.created_at as Date,
  };
}

function tokenOf(row: RowDataPacket): TokenRow {
  return {
    id: Number(row.id),
    name: row.name as string,
    role: row.role as Role,
    prefix: row.prefix as string,
    createdBy: row.created_by as string,
    createdAt: row.created_at as Date,
    lastUsedAt: (row.last_used_at as Date | null) ?? null,
    revokedAt: (row.revoked_at as Date | null) ?? null,
  };
}

export function createAccessModel(mysql: Pool) {
  return {
    async findOperator(username: string): Promise<OperatorRow | undefined> {
      const [rows] = await mysql.query<RowDataPacket[]>(`SELECT ${operatorColumns} FROM operators o WHERE o.username = ?`, [username]);
      return rows[0] ? operatorOf(rows[0]) : undefined;
    },
    async listOperators(): Promise<OperatorRow[]> {
      const [rows] = await mysql.query<RowDataPacket[]>(`SELECT ${operatorColumns} FROM operators o ORDER BY o.username`);
      return rows.map(operatorOf);
    },
    async countAdmins(): Promise<number> {
      const [rows] = await mysql.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM operators WHERE role = 'admin'");
      return Number(rows[0]!.n);
    },
    /** False when the username is taken. */
    async insertOperator(operator: { username: string; role: Role; passwordHash: string; mustChangePassword: boolean }): Promise<boolean> {
      try {
        await mysql.query('INSERT INTO operators (username, role, password_hash, must_change_password) VALUES (?, ?, ?, ?)', [
          operator.username,
          operator.role,
          operator.passwordHash,
          operator.mustChangePassword,
        ]);
        return true;
      } catch (error) {
        if ((error as { code?: string }).code === 'ER_DUP_ENTRY') return false;
        throw error;
      }
    },
    async deleteOperator(username: string): Promise<boolean> {
      const [result] = await mysql.query<ResultSetHeader>('DELETE FROM operators WHERE username = ?', [username]);
      return result.affectedRows > 0;
    },
    async setPassword(operatorId: number, passwordHash: string): Promise<void> {
      await mysql.query('UPDATE operators SET password_hash = ?, must_change_password = FALSE WHERE id = ?', [passwordHash, operatorId]);
    },

    async insertSession(session: { idHash: string; operatorId: number; csrfToken: string; now: Date; expiresAt: Date }): Promise<void> {
      await mysql.query('INSERT INTO operator_sessions (id_hash, operator_id, csrf_token, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)', [
        session.idHash,
        session.operatorId,
        session.csrfToken,
        session.now,
        session.now,
        session.expiresAt,
      ]);
    },
    async findSession(idHash: string): Promise<SessionRow | undefined> {
      const [rows] = await mysql.query<RowDataPacket[]>(
        `SELECT ${operatorColumns}, s.csrf_token, s.created_at AS session_created_at, s.last_seen_at, s.expires_at
           FROM operator_sessions s JOIN operators o ON o.id = s.operator_id WHERE s.id_hash = ?`,
        [idHash],
      );
      const row = rows[0];
      if (!row) return undefined;
      return {
        operator: operatorOf(row),
        csrfToken: row.csrf_token as string,
        createdAt: row.session_created_at as Date,
        lastSeenAt: row.last_seen_at as Date,
        expiresAt: row.expires_at as Date,
      };
    },
    async touchSession(idHash: string, now: Date): Promise<void> {
      await mysql.query('UPDATE operator_sessions SET last_seen_at = ? WHERE id_hash = ?', [now, idHash]);
    },
    async deleteSession(idHash: string): Promise<void> {
      await mysql.query('DELETE FROM operator_sessions WHERE id_hash = ?', [idHash]);
    },
    /** Every session of an operator but `keep` (a changed password signs the others out). */
    async deleteSessionsOf(operatorId: number, keep?: string): Promise<void> {
      await mysql.query('DELETE FROM operator_sessions WHERE operator_id = ? AND id_hash <> ?', [operatorId, keep ?? '']);
    },
    /** An operator's sessions that have ended (past their expiry, or idle since before `idleSince`). */
    async deleteEndedSessionsOf(operatorId: number, now: Date, idleSince: Date): Promise<void> {
      await mysql.query('DELETE FROM operator_sessions WHERE operator_id = ? AND (expires_at <= ? OR last_seen_at <= ?)', [operatorId, now, idleSince]);
    },

    async insertToken(token: { name: string; role: Role; tokenHash: string; prefix: string; createdBy: string }): Promise<number> {
      const [result] = await mysql.query<ResultSetHeader>('INSERT INTO api_tokens (name, role, token_hash, prefix, created_by) VALUES (?, ?, ?, ?, ?)', [
        token.name,
        token.role,
        token.tokenHash,
        token.prefix,
        token.createdBy,
      ]);
      return result.insertId;
    },
    async findActiveToken(tokenHash: string): Promise<TokenRow | undefined> {
      const [rows] = await mysql.query<RowDataPacket[]>('SELECT * FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL', [tokenHash]);
      return rows[0] ? tokenOf(rows[0]) : undefined;
    },
    async findToken(id: number): Promise<TokenRow | undefined> {
      const [rows] = await mysql.query<RowDataPacket[]>('SELECT * FROM api_tokens WHERE id = ?', [id]);
      return rows[0] ? tokenOf(rows[0]) : undefined;
    },
    async listTokens(): Promise<TokenRow[]> {
      const [rows] = await mysql.query<RowDataPacket[]>('SELECT * FROM api_tokens ORDER BY revoked_at IS NOT NULL, created_at DESC, id DESC');
      return rows.map(tokenOf);
    },
    async touchToken(id: number, now: Date): Promise<void> {
      await mysql.query('UPDATE api_tokens SET last_used_at = ? WHERE id = ?', [now, id]);
    },
    async revokeToken(id: number, now: Date): Promise<void> {
      await mysql.query('UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?', [now, id]);
    },

    async insertAudit(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<void> {
      await mysql.query('INSERT INTO audit_log (actor, role, action, target, status, detail) VALUES (?, ?, ?, ?, ?, ?)', [
        entry.actor.slice(0, 96),
        entry.role,
        entry.action.slice(0, 96),
        entry.target.slice(0, 512),
        entry.status,
        entry.detail?.slice(0, 1024) ?? null,
      ]);
    },
    async listAudit(options: { limit: number; before?: number; actor?: string }): Promise<AuditEntry[]> {
      const where: string[] = [];
      const values: unknown[] = [];
      if (options.before !== undefined) {
        where.push('id < ?');
        values.push(options.before);
      }
      if (options.actor) {
        where.push('actor = ?');
        values.push(options.actor);
      }
      const [rows] = await mysql.query<RowDataPacket[]>(
        `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
        [...values, options.limit],
      );
      return rows.map((row) => ({
        id: Number(row.id),
        at: row.at as Date,
        actor: row.actor as string,
        role: row.role as string,
        action: row.action as string,
        target: row.target as string,
        status: Number(row.status),
        detail: (row.detail as string | null) ?? null,
      }));
    },
  };
}

export type AccessModel = ReturnType<typeof createAccessModel>;
