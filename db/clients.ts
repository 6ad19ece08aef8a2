// Clients for the services activities and the API talk to, built from Config.
import mysql from 'mysql2/promise';
import memjs from 'memjs';
import { Etcd3, isRecoverableError } from 'etcd3';
import { ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, retry } from 'cockatiel';
import type { Config } from '../config.ts';

/** MySQL could not be reached or did not answer in time (not a refused statement): the API answers 503. */
export class MysqlUnavailableError extends Error {
  override name = 'MysqlUnavailableError';
}

// Connection-level failures, timeouts and a full queue; a statement MySQL refused is not one of them.
const UNAVAILABLE_CODES = new Set([
  'ETIMEDOUT', 'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN',
]);

function asUnavailable(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const code = (error as { code?: string }).code;
  const queueFull = error.message === 'Queue limit reached.';
  if (!queueFull && !(code && UNAVAILABLE_CODES.has(code))) return error;
  return new MysqlUnavailableError(`MySQL is unavailable: ${queueFull ? 'too many queries are waiting for a connection' : error.message}${code ? ` (${code})` : ''}`, { cause: error });
}

type Run = (sql: unknown, ...rest: unknown[]) => Promise<unknown>;

/** Gives query() and execute() the query timeout unless the call sets its own, and names unavailability. */
function withQueryTimeout<T extends mysql.Pool | mysql.PoolConnection>(target: T, timeoutMs: number): T {
  for (const method of ['query', 'execute'] as const) {
    const original = (target[method] as Run).bind(target);
    const bounded: Run = (sql, ...rest) => {
      const options = typeof sql === 'string' ? { sql, timeout: timeoutMs } : { timeout: timeoutMs, ...(sql as object) };
      return original(options, ...rest).catch((error: unknown) => {
        throw asUnavailable(error);
      });
    };
    Object.assign(target, { [method]: bounded });
  }
  return target;
}

/**
 * A pool whose every query has a time limit (its handshake `connectTimeoutMs`, then `queryTimeoutMs`)
 * and whose queue of requests waiting for a connection is bounded: a hung or unreachable MySQL is a
 * prompt MysqlUnavailableError, never a wait as long as the HTTP request's own timeout.
 */
export function createMysqlPool(config: Pick<Config, 'mysql'>, options: { connectionLimit?: number } = {}): mysql.Pool {
  const { host, port, user, password, database, connectTimeoutMs, queryTimeoutMs, queueLimit } = config.mysql;
  const pool = mysql.createPool({
    host, port, user, password, database,
    connectionLimit: options.connectionLimit ?? 10,
    connectTimeout: connectTimeoutMs,
    queueLimit,
    dateStrings: false,
    timezone: 'Z',
  });
  const getConnection = pool.getConnection.bind(pool);
  Object.assign(pool, {
    getConnection: () =>
      getConnection().then(
        (connection) => withQueryTimeout(connection, queryTimeoutMs),
        (error: unknown) => {
          throw asUnavailable(error);
        },
      ),
  });
  return withQueryTimeout(pool, queryTimeoutMs);
}

export function createMemcachedClient(config: Config): memjs.Client {
  // memjs retries and reconnects itself; keep timeouts short so a dead server is reported, not waited on.
  return memjs.Client.create(`${config.memcached.host}:${config.memcached.port}`, { retries: 1, timeout: 2, conntimeout: 2, logger: { log: () => {} } });
}

export function createEtcdClient(config: Config): Etcd3 {
  return new Etcd3({ hosts: `http://${config.etcd.host}:${config.etcd.port}`, dialTimeout: 2000 });
}

/**
 * The config cache's own etcd client. etcd3's default breaker keeps a host shut for 5 s after three
 * failures, so after an etcd restart reads and the resync would wait that long; this one retries
 * after 200 ms. Calls (not watches) give up after `callTimeoutMs`, so a hung etcd answers 503, not
 * never. Keepalive pings find a connection that went silent (a partition that resets nothing), which
 * would otherwise leave the watch, and so the cache, waiting for events forever.
 */
/** etcd3 counts a write refused for etcd's space quota (NOSPACE) as transient: retrying it only opens the breaker, so reads fail too. */
const transient = (error: Error) => isRecoverableError(error) && !/database space exceeded/.test(error.message);

export function createConfigCacheEtcdClient(config: Config, options: { callTimeoutMs?: number; keepalive?: { intervalMs: number; timeoutMs: number } } = {}): Etcd3 {
  const callTimeoutMs = options.callTimeoutMs ?? 5000;
  // etcd refuses pings closer than 5 s apart (--grpc-keepalive-min-time).
  const keepalive = options.keepalive ?? { intervalMs: 10_000, timeoutMs: 5000 };
  return new Etcd3({
    hosts: `http://${config.etcd.host}:${config.etcd.port}`,
    dialTimeout: 2000,
    grpcOptions: {
      'grpc.keepalive_time_ms': keepalive.intervalMs,
      'grpc.keepalive_timeout_ms': keepalive.timeoutMs,
      'grpc.keepalive_permit_without_calls': 1,
    },
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
    faultHandling: {
      host: () => circuitBreaker(handleWhen(transient), { halfOpenAfter: 200, breaker: new ConsecutiveBreaker(3) }),
      global: retry(handleWhen(transient), { maxAttempts: 2, backoff: new ExponentialBackoff({ initialDelay: 20, maxDelay: 100 }) }),
    },
  });
}

export interface ServiceClients {
  mysql: mysql.Pool;
  memcached: memjs.Client;
  etcd: Etcd3;
}

export function createServiceClients(config: Config, options: { mysqlConnections?: number } = {}): ServiceClients {
  return {
    mysql: createMysqlPool(config, { connectionLimit: options.mysqlConnections }),
    memcached: createMemcachedClient(config),
    etcd: createEtcdClient(config),
  };
}

export async function closeServiceClients(clients: ServiceClients): Promise<void> {
  clients.memcached.close();
  clients.etcd.close();
  await clients.mysql.end();
}
