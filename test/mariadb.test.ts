// MariaDB's accounts: root logs in over the socket with the password in the data dir and in no other
// way; the application's account reads and writes rows and cannot change the schema; a data dir
// from before root had a password is secured at its next start, once.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { hostEnv, loadConfig, type Config } from '../config.ts';
import { loadMigrations, migrate } from '../db/migrate.ts';
import { findFreePort, type ManagedProcess } from '../scripts/processes.ts';
import { appPrivileges, migrationAccount, mysqlRootPasswordPath, mysqlSocketPath, readMysqlRootPassword, startMariaDb } from '../scripts/mariadb.ts';
import { testConfig } from './support/stack.ts';

const appAccount = ({ mysql: { host, port, user, password, database } }: Config): mysql.ConnectionOptions => ({ host, port, user, password, database });

async function loginError(options: mysql.ConnectionOptions): Promise<string | undefined> {
  try {
    await (await mysql.createConnection(options)).end();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

/** The ways in that must stay shut: root without a password (socket, TCP), and root over TCP at all. */
async function rootLoginsRefused(config: Config): Promise<(string | undefined)[]> {
  const { host, port } = config.mysql;
  return Promise.all([
    loginError({ socketPath: mysqlSocketPath(config), user: 'root' }),
    loginError({ host, port, user: 'root' }),
    loginError({ host, port, user: 'root', password: readMysqlRootPassword(config) }),
  ]);
}

const refused = ['ER_ACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_ERROR'];

async function withConnection<T>(options: mysql.ConnectionOptions, use: (connection: mysql.Connection) => Promise<T>): Promise<T> {
  const connection = await mysql.createConnection(options);
  try {
    return await use(connection);
  } finally {
    await connection.end();
  }
}

async function schemaChangeErrors(config: Config): Promise<(string | undefined)[]> {
  return withConnection(appAccount(config), (app) =>
    Promise.all(
      [
        'CREATE TABLE app_made (id INT PRIMARY KEY)',
        'ALTER TABLE health_reports ADD COLUMN app_made INT',
        'DROP TABLE health_reports',
        'CREATE TRIGGER app_made BEFORE INSERT ON health_reports FOR EACH ROW SET NEW.healthy = 1',
        'CREATE DATABASE app_made',
      ].map((sql) => app.query(sql).then(() => undefined, (error: { code?: string }) => error.code)),
    ),
  );
}

const schemaChangesRefused = ['ER_TABLEACCESS_DENIED_ERROR', 'ER_TABLEACCESS_DENIED_ERROR', 'ER_TABLEACCESS_DENIED_ERROR', 'ER_TABLEACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR'];

describe('MariaDB accounts on the stack', () => {
  const config = testConfig();

  it('root logs in over the socket with the password from its 0600 file, and in no other way', async () => {
    expect(statSync(mysqlRootPasswordPath(config)).mode & 0o777).toBe(0o600);
    const [[me]] = await withConnection(migrationAccount(config), (root) => root.query<mysql.RowDataPacket[]>('SELECT CURRENT_USER() AS user'));
    expect(me?.user).toBe('root@localhost');
    expect(await rootLoginsRefused(config)).toEqual(refused);
    const password = readMysqlRootPassword(config);
    expect(Object.values(config.env)).not.toContain(password);
    for (const log of readdirSync(config.logDir)) expect(readFileSync(join(config.logDir, log), 'utf8')).not.toContain(password);
  });

  it('the application account reads and writes rows, and cannot change the schema', async () => {
    const grants = await withConnection(appAccount(config), async (app) => {
      await app.query('SELECT COUNT(*) FROM health_reports');
      const [rows] = await app.query<mysql.RowDataPacket[]>('SHOW GRANTS');
      return rows.map((row) => Object.values(row)[0] as string);
    });
    expect(grants.filter((grant) => !grant.startsWith('GRANT USAGE ON *.*'))).toEqual([
      `GRANT ${appPrivileges.join(', ')} ON \`${config.mysql.database}\`.* TO \`${config.mysql.user}\`@\`127.0.0.1\``,
    ]);
    expect(await schemaChangeErrors(config)).toEqual(schemaChangesRefused);
  });
});

describe('a data dir from before root had a password', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fleet-mariadb-'));
  let server: ManagedProcess | undefined;
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is secured at its next start, once: root gets a password, the app account loses the schema privileges', async () => {
    const config = loadConfig({ FLEET_DATA_DIR: dataDir, MYSQL_PORT: String(await findFreePort()) });
    mkdirSync(config.logDir, { recursive: true });
    const pre0005 = loadMigrations().filter((m) => m.version < '0005');

    // A new data dir: root has its password from the start, and no account but root@localhost.
    server = await startMariaDb(config, hostEnv());
    expect(await rootLoginsRefused(config)).toEqual(refused);
    const accounts = (root: mysql.Connection) => root.query<mysql.RowDataPacket[]>("SELECT CONCAT(User, '@', Host) AS account FROM mysql.global_priv WHERE User IN ('root', '') ORDER BY 1");
    expect((await withConnection(migrationAccount(config), accounts))[0].map((r) => r.account)).toEqual(['root@localhost']);

    // Rewound to what the stack used to leave: root without a password (also over TCP), the
    // application's account with every privilege on its database, and the schema (trigger
    // included) made by that account.
    await withConnection(migrationAccount(config), async (root) => {
      await root.query("ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING ''");
      await root.query("CREATE USER 'root'@'127.0.0.1'");
      await root.query("GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION");
      await root.query(`GRANT ALL PRIVILEGES ON \`${config.mysql.database}\`.* TO ?@'127.0.0.1'`, [config.mysql.user]);
    });
    expect(await migrate(appAccount(config), pre0005)).toEqual(pre0005.map((m) => m.version));
    const oldPassword = readMysqlRootPassword(config);
    rmSync(mysqlRootPasswordPath(config));
    await server.stop();

    server = await startMariaDb(config, hostEnv());
    const password = readMysqlRootPassword(config);
    expect(password).not.toBe(oldPassword);
    expect(statSync(mysqlRootPasswordPath(config)).mode & 0o777).toBe(0o600);
    expect(await rootLoginsRefused(config)).toEqual(refused);
    expect((await withConnection(migrationAccount(config), accounts))[0].map((r) => r.account)).toEqual(['root@localhost']);
    expect(await schemaChangeErrors(config)).toEqual(schemaChangesRefused);
    // 0005 onwards: the migrations made after the account was cut down.
    expect((await migrate(migrationAccount(config)))[0]).toBe('0005_request_receipts_trigger_definer');
    // The receipts trigger, made again by root, still counts the application's inserts.
    const count = await withConnection(appAccount(config), async (app) => {
      await app.query(
        "INSERT INTO request_recorder (`timestamp`, max_possible_count, run_id, mode, status, concurrency, destination_url, started_at) VALUES (0, 1, 'old-dir', 'exactly-once', 'running', 1, 'http://x', NOW(3))",
      );
      await app.query("INSERT INTO request_receipts (run_id, seq) VALUES ('old-dir', 1)");
      const [[row]] = await app.query<mysql.RowDataPacket[]>("SELECT current_request_count FROM request_recorder WHERE run_id = 'old-dir'");
      return row?.current_request_count as number;
    });
    expect(count).toBe(1);

    // Once: the start after keeps the password and has nothing left to do.
    await server.stop();
    server = await startMariaDb(config, hostEnv());
    expect(readMysqlRootPassword(config)).toBe(password);
    expect(await rootLoginsRefused(config)).toEqual(refused);
    expect(await migrate(migrationAccount(config))).toEqual([]);
  }, 120_000);
});
