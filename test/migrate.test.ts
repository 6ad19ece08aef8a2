import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { loadMigrations, migrate, migrationsDir } from '../db/migrate.ts';
import { migrationAccount } from '../scripts/mariadb.ts';
import { testConfig } from './support/stack.ts';

describe('MySQL migrations (real MariaDB)', () => {
  // As the stack migrates: root over the socket, with the password from the data dir.
  const account = migrationAccount(testConfig());
  let admin: mysql.Connection;
  beforeAll(async () => {
    admin = await mysql.createConnection(account);
  });
  afterAll(() => admin.end());

  // Each test migrates its own database, so the shared one keeps its state.
  async function freshDatabase(name: string): Promise<mysql.ConnectionOptions> {
    await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await admin.query(`CREATE DATABASE \`${name}\``);
    return { ...account, database: name };
  }

  it('the stack applied every migration at start', async () => {
    const config = testConfig();
    const [rows] = await admin.query<mysql.RowDataPacket[]>(`SELECT version FROM \`${config.mysql.database}\`.schema_migrations ORDER BY version`);
    expect(rows.map((r) => r.version)).toEqual(loadMigrations().map((m) => m.version));
  });

  it('applies each migration once, however often and however concurrently it runs', async () => {
    const target = await freshDatabase('migrate_idempotent');
    const results = await Promise.all([migrate(target), migrate(target), migrate(target)]);
    expect(results.flat().sort()).toEqual(loadMigrations().map((m) => m.version));
    expect(await migrate(target)).toEqual([]);
    const [tables] = await admin.query<mysql.RowDataPacket[]>("SHOW TABLES FROM migrate_idempotent LIKE 'health_reports'");
    expect(tables).toHaveLength(1);
  });

  it('applies only the migrations added since the last run, in order', async () => {
    const target = await freshDatabase('migrate_incremental');
    const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
    for (const m of loadMigrations()) copyFileSync(join(migrationsDir, `${m.version}.sql`), join(dir, `${m.version}.sql`));
    expect(await migrate(target, loadMigrations(dir))).toHaveLength(loadMigrations().length);
    writeFileSync(join(dir, '9998_a.sql'), 'CREATE TABLE a (id INT PRIMARY KEY);');
    writeFileSync(join(dir, '9999_b.sql'), 'ALTER TABLE a ADD COLUMN note VARCHAR(20);');
    expect(await migrate(target, loadMigrations(dir))).toEqual(['9998_a', '9999_b']);
    const [columns] = await admin.query<mysql.RowDataPacket[]>('SHOW COLUMNS FROM migrate_incremental.a');
    expect(columns.map((c) => c.Field)).toEqual(['id', 'note']);
  });
});
