// Clients for the services activities and the API talk to, built from Config.
import mysql from 'mysql2/promise';
import memjs from 'memjs';
import { Etcd3, isRecoverableError } from 'etcd3';
import { ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, retry } from 'cockatiel';
import type { Config } from '../config.ts';

export function createMysqlPool(config: Config, options: { connectionLimit?: number } = {}): mysql.Pool {
  const { host, port, user, password, database } = config.mysql;
  return mysql.createPool({
    host, port, user, password, database,
    connectionLimit: options.connectionLimit ?? 10,
    connectTimeout: 5000,
    dateStrings: false,
    timezone: 'Z',
  });
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
      host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 200, breaker: new ConsecutiveBreaker(3) }),
      global: retry(handleWhen(isRecoverableError), { maxAttempts: 2, backoff: new ExponentialBackoff({ initialDelay: 20, maxDelay: 100 }) }),
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
