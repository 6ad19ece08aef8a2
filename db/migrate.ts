// Versioned MySQL schema migrations, applied in file-name order at start. Idempotent, and safe
// when two processes start at once (a named lock serialises them).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { projectRoot } from '../configValues.ts';

export const migrationsDir = join(projectRoot, 'db', 'migrations');

export interface Migration {
  version: string;
  sql: string;
}

export function loadMigrations(dir = migrationsDir): Migration[] {
  return readdirSync(dir)
    .filter((name) => /^\d{4}_[\w-]+\.sql$/.test(name))
    .sort()
    .map((name) => ({ version: name.replace(/\.sql$/, ''), sql: readFileSync(join(dir, name), 'utf8') }));
}

/**
 * Applies the migrations not yet recorded in schema_migrations, as `account` (one with schema
 * privileges on its database: scripts/mariadb.ts migrationAccount); returns the versions applied now.
 */
export async function migrate(account: mysql.ConnectionOptions, migrations = loadMigrations()): Promise<string[]> {
  const connection = await mysql.createConnection({ ...account, multipleStatements: true });
  try {
    const [[lock]] = await connection.query<mysql.RowDataPacket[]>("SELECT GET_LOCK('schema_migrations', 60) AS got");
    if (lock?.got !== 1) throw new Error('Timed out waiting for another process to finish migrating the schema.');
    await connection.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version VARCHAR(255) NOT NULL PRIMARY KEY, applied_at DATETIME(3) NOT NULL)',
    );
    const [rows] = await connection.query<mysql.RowDataPacket[]>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((row) => row.version as string));
    const appliedNow: string[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      await connection.query(migration.sql);
      await connection.query('INSERT INTO schema_migrations (version, applied_at) VALUES (?, NOW(3))', [migration.version]);
      appliedNow.push(migration.version);
    }
    return appliedNow;
  } finally {
    await connection.query("SELECT RELEASE_LOCK('schema_migrations')").catch(() => undefined);
    await connection.end();
  }
}
