import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { loadMigrations, migrate, migrationsDir } from '../db/migrate.ts';
import { testConfig } from './support/stack.ts';

// Each test migrates its own database, so the shared one keeps its state.
async function freshDatabase(name: string) {
  const config = testConfig();
  const root = await mysql.createConnection({ socketPath: join(config.dataDir, 'mysql.sock'), user: 'root' });
  await root.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await root.query(`CREATE DATABASE \`${name}\``);
  await root.query(`GRANT ALL PRIVILEGES ON \`${name}\`.* TO ?@'127.0.0.1'`, [config.mysql.user]);
  await root.end();
  return testConfig({ MYSQL_DATABASE: name });
}

describe('MySQL migrations (real MariaDB)', () => {
  let admin: mysql.Connection;
  beforeAll(async () => {
    const config = testConfig();
    admin = await mysql.createConnection({ socketPath: join(config.dataDir, 'mysql.sock'), user: 'root' });
  });
  afterAll(() => admin.end());

  it('the stack applied every migration at start', async () => {
    const config = testConfig();
    const [rows] = await admin.query<mysql.RowDataPacket[]>(`SELECT version FROM \`${config.mysql.database}\`.schema_migrations ORDER BY version`);
    expect(rows.map((r) => r.version)).toEqual(loadMigrations().map((m) => m.version));
  });

  it('applies each migration once, however often and however concurrently it runs', async () => {
    const config = await freshDatabase('migrate_idempotent');
    const results = await Promise.all([migrate(config), migrate(config), migrate(config)]);
    expect(results.flat().sort()).toEqual(loadMigrations().map((m) => m.version));
    expect(await migrate(config)).toEqual([]);
    const [tables] = await admin.query<mysql.RowDataPacket[]>("SHOW TABLES FROM migrate_idempotent LIKE 'health_reports'");
    expect(tables).toHaveLength(1);
  });

  it('applies only the migrations added since the last run, in order', async () => {
    const config = await freshDatabase('migrate_incremental');
    const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
    for (const m of loadMigrations()) copyFileSync(join(migrationsDir, `${m.version}.sql`), join(dir, `${m.version}.sql`));
    expect(await migrate(config, loadMigrations(dir))).toHaveLength(loadMigrations().length);
    writeFileSync(join(dir, '9998_a.sql'), 'CREATE TABLE a (id INT PRIMARY KEY);');
    writeFileSync(join(dir, '9999_b.sql'), 'ALTER TABLE a ADD COLUMN note VARCHAR(20);');
    expect(await migrate(config, loadMigrations(dir))).toEqual(['9998_a', '9999_b']);
    const [columns] = await admin.query<mysql.RowDataPacket[]>('SHOW COLUMNS FROM migrate_incremental.a');
    expect(columns.map((c) => c.Field)).toEqual(['id', 'note']);
  });
});
