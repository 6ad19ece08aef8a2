// Clients for the services activities and the API talk to, built from Config.
import mysql from 'mysql2/promise';
import memjs from 'memjs';
import { Etcd3 } from 'etcd3';
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
