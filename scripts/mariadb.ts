// MariaDB from Debian's package, with its data under the data dir, and its accounts. Root logs in
// over the unix socket only, with a random password kept in <data dir>/mysql-root.password (mode
// 0600): the stack alone reads it, for its own admin steps (accounts, migrations); it is never in
// config.env, a log or a child's environment. The application's account reads and writes rows, and
// nothing else.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import type { Config, HostEnv } from '../config.ts';
import { StackError, startProcess, waitUntilHealthy, type ManagedProcess } from './processes.ts';
import { requireBinary, runningAsRoot } from './services.ts';

/** What the application's account (MYSQL_USER) may do on its database: rows only; the schema is the migrations'. */
export const appPrivileges = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;

export function mysqlSocketPath(config: Config): string {
  return join(config.dataDir, 'mysql.sock');
}

export function mysqlRootPasswordPath(config: Config): string {
  return join(config.dataDir, 'mysql-root.password');
}

/** Root's password on the stack's own server (made at its first start). */
export function readMysqlRootPassword(config: Config): string {
  const path = mysqlRootPasswordPath(config);
  const password = readFileSync(path, 'utf8').trim();
  if (!password) throw new StackError(`${path} is empty: delete it and start again (a new password is made).`);
  return password;
}

/**
 * The account migrations run as: root over the socket on the stack's own server; on an external one
 * (FLEET_LOCAL_SERVICES=false), the configured account, which then needs the schema privileges too.
 */
export function migrationAccount(config: Config): mysql.ConnectionOptions {
  const { host, port, user, password, database } = config.mysql;
  if (!config.runLocalServices) return { host, port, user, password, database };
  return { socketPath: mysqlSocketPath(config), user: 'root', password: readMysqlRootPassword(config), database };
}

export async function startMariaDb(config: Config, hostEnv: HostEnv): Promise<ManagedProcess> {
  if (config.mysql.user === 'root') throw new StackError('MYSQL_USER=root: the application gets an account of its own on the local MariaDB; choose another name.');
  const mariadbd = requireBinary(hostEnv, ['mariadbd', 'mysqld'], 'mariadb-server');
  const dataDir = join(config.dataDir, 'mysql');
  const logFile = join(config.logDir, 'mariadb.log');
  const userArgs = runningAsRoot ? ['--user=root'] : [];
  const rootPassword = ensureRootPassword(config);
  if (!existsSync(join(dataDir, 'mysql'))) installDataDir(config, hostEnv, rootPassword, userArgs);
  const server = startProcess({
    name: 'mariadb',
    command: mariadbd,
    args: [
      '--no-defaults',
      `--datadir=${dataDir}`,
      `--socket=${mysqlSocketPath(config)}`,
      `--port=${config.mysql.port}`,
      `--bind-address=${config.mysql.host}`,
      `--pid-file=${join(config.dataDir, 'mariadb.pid')}`,
      `--log-error=${logFile}`,
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=128M',
      // Sized for a small local stack (measured, RSS at ready 99 → 60 MB, after 20,000 counted
      // requests 121 → 83 MB, the same speed): MyISAM's key cache and Aria's page cache (temporary
      // tables) default to 128 MB each, InnoDB's log buffer to 16 MB; the schema is InnoDB.
      '--key-buffer-size=8M',
      '--aria-pagecache-buffer-size=8M',
      '--innodb-log-buffer-size=4M',
      // A local stack: commits reach the OS at once but are fsynced once a second, so a hot counter
      // row is not limited by disk flushes. A MariaDB crash loses nothing; an OS crash up to 1 s.
      '--innodb-flush-log-at-trx-commit=2',
      '--max-connections=500',
      ...userArgs,
    ],
    logFile,
    env: hostEnv,
  });
  try {
    await waitUntilHealthy('MariaDB', () => answersOnSocket(config, rootPassword), { timeoutMs: 60_000, process: server });
    await prepareAccounts(config, rootPassword);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

/** Root's password: read from its file, or made at random into a new file created with mode 0600. */
function ensureRootPassword(config: Config): string {
  const password = randomBytes(24).toString('base64url');
  try {
    writeFileSync(mysqlRootPasswordPath(config), `${password}\n`, { mode: 0o600, flag: 'wx' });
    return password;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readMysqlRootPassword(config);
}

/** mysql_native_password's form of a password: '*' and SHA1(SHA1(password)) in upper-case hex. */
function nativePasswordHash(password: string): string {
  const once = createHash('sha1').update(password).digest();
  return `*${createHash('sha1').update(once).digest('hex').toUpperCase()}`;
}

/**
 * A new data dir whose root has its password from the start: the install makes root@localhost alone
 * (no TCP or host-name twins), and its extra SQL, which holds only the password's hash, sets it.
 */
function installDataDir(config: Config, hostEnv: HostEnv, rootPassword: string, userArgs: string[]): void {
  const dataDir = join(config.dataDir, 'mysql');
  mkdirSync(dataDir, { recursive: true });
  const installDb = requireBinary(hostEnv, ['mariadb-install-db', 'mysql_install_db'], 'mariadb-server');
  // The install runs without grant tables, so ALTER USER is refused: the row is written directly.
  const rootPasswordSql = join(config.dataDir, 'mysql-install.sql');
  writeFileSync(
    rootPasswordSql,
    "UPDATE mysql.global_priv SET Priv = JSON_REMOVE(JSON_SET(Priv, '$.plugin', 'mysql_native_password', " +
      `'$.authentication_string', '${nativePasswordHash(rootPassword)}'), '$.auth_or') WHERE User = 'root' AND Host = 'localhost';\n`,
    { mode: 0o600 },
  );
  try {
    const result = spawnSync(
      installDb,
      [
        '--no-defaults',
        `--datadir=${dataDir}`,
        '--auth-root-authentication-method=socket',
        '--auth-root-socket-user=root',
        '--skip-test-db',
        `--extra-file=${rootPasswordSql}`,
        ...userArgs,
      ],
      { env: hostEnv, encoding: 'utf8' },
    );
    if (result.status !== 0) {
      // Half-installed, it would pass for installed at the next start.
      rmSync(dataDir, { recursive: true, force: true });
      throw new StackError(`mariadb-install-db failed: ${(result.stderr || result.stdout).trim().split('\n').pop()}`);
    }
  } finally {
    rmSync(rootPasswordSql, { force: true });
  }
}

const isAccessDenied = (error: unknown) => (error as { code?: string }).code === 'ER_ACCESS_DENIED_ERROR';

/** True once the server answers on its socket; whether root may log in is the next step's to say. */
async function answersOnSocket(config: Config, rootPassword: string): Promise<boolean> {
  try {
    const connection = await mysql.createConnection({ socketPath: mysqlSocketPath(config), user: 'root', password: rootPassword, connectTimeout: 1000 });
    await connection.end();
  } catch (error) {
    if (!isAccessDenied(error)) throw error;
  }
  return true;
}

/** Root over the socket with its password; on a data dir made before root had one, with none. */
async function connectAsRoot(config: Config, rootPassword: string): Promise<{ connection: mysql.Connection; withoutPassword: boolean }> {
  const login = { socketPath: mysqlSocketPath(config), user: 'root' };
  try {
    return { connection: await mysql.createConnection({ ...login, password: rootPassword }), withoutPassword: false };
  } catch (error) {
    if (!isAccessDenied(error)) throw error;
  }
  try {
    return { connection: await mysql.createConnection(login), withoutPassword: true };
  } catch (error) {
    if (!isAccessDenied(error)) throw error;
    throw new StackError(`MariaDB refuses root's password from ${mysqlRootPasswordPath(config)}: it belongs to another data dir; restore the file that came with ${config.dataDir}.`);
  }
}

/** At every start, as root: root's password (once, on an old data dir), then the application's database and account. */
async function prepareAccounts(config: Config, rootPassword: string): Promise<void> {
  const { connection, withoutPassword } = await connectAsRoot(config, rootPassword);
  try {
    if (withoutPassword) await setRootPassword(connection, rootPassword);
    await ensureAppAccount(connection, config.mysql);
  } finally {
    await connection.end();
  }
}

/**
 * A data dir from before root had a password: its TCP and host-name root accounts (and any anonymous
 * one) go, then root@localhost gets the password. In that order, so a start stopped half-way finds
 * root without a password again, and finishes the job.
 */
async function setRootPassword(connection: mysql.Connection, rootPassword: string): Promise<void> {
  const [others] = await connection.query<mysql.RowDataPacket[]>(
    "SELECT User AS user, Host AS host FROM mysql.global_priv WHERE (User = 'root' AND Host <> 'localhost') OR User = ''",
  );
  for (const { user, host } of others) await connection.query('DROP USER ?@?', [user, host]);
  await connection.query("ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING ?", [nativePasswordHash(rootPassword)]);
}

/**
 * The application's database and account (idempotent; the password follows MYSQL_PASSWORD). Its
 * privileges are set anew each time, so an account from before, which had them all, loses the rest.
 */
async function ensureAppAccount(connection: mysql.Connection, { user, password, database }: Config['mysql']): Promise<void> {
  await connection.query(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4`);
  for (const host of ['127.0.0.1', 'localhost']) {
    await connection.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [user, host, password]);
    await connection.query('ALTER USER ?@? IDENTIFIED BY ?', [user, host, password]);
    await connection.query('REVOKE ALL PRIVILEGES, GRANT OPTION FROM ?@?', [user, host]);
    await connection.query(`GRANT ${appPrivileges.join(', ')} ON \`${database}\`.* TO ?@?`, [user, host]);
  }
}
