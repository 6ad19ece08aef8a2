// API + UI + receiver process entry point: `tsx server/main.ts`. With API_INSTANCES > 1 the primary
// forks that many instances sharing the port (Node's cluster module), like the seed's
// load-balanced web app instances; each has its own MySQL pool and its own config cache. With
// CONFIG_CACHE_INSTANCE_BASE_PORT set, instance i also listens alone on base + i − 1.
import cluster from 'node:cluster';
import { createAdaptorServer, serve } from '@hono/node-server';
import { isLoopbackHost, loadConfig, ConfigError, mailboxUrl, type Config } from '../config.ts';
import { createAccessModel } from '../db/access.ts';
import { createConfigCacheEtcdClient, createMysqlPool, createServiceClients, closeServiceClients } from '../db/clients.ts';
import { createAccessService } from '../services/access.ts';
import { createDependencyProbes } from '../db/health.ts';
import { connectClient } from '../temporal/connection.ts';
import { createPayloadCodec } from '../temporal/codec.ts';
import { createApp, type App } from './app.ts';
import { ConfigCache } from '../services/configCache.ts';
import { createSupervisorStatusReader, supervisorStatusPath } from '../services/supervisorStatus.ts';

/** This instance's own port: `exclusive`, so it listens here itself rather than through the cluster primary. */
function listenOnInstancePort(app: App, host: string, port: number, instance: string) {
  const server = createAdaptorServer({ fetch: app.fetch });
  server.on('error', (error: NodeJS.ErrnoException) => {
    console.error(error.code === 'EADDRINUSE' ? `error: port ${port} (instance ${instance}) is in use; set CONFIG_CACHE_INSTANCE_BASE_PORT to a free range.` : error);
    process.exit(1);
  });
  server.listen({ host, port, exclusive: true }, () => console.log(`API instance ${instance} also listening on http://${host}:${port}`));
  return server;
}

async function serveInstance(config: Config, instance: string): Promise<void> {
  const temporal = await connectClient(config);
  // Receivers answer up to a run's concurrency at once; each needs a MySQL connection.
  const clients = createServiceClients(config, { mysqlConnections: 64 });
  const configCacheEtcd = createConfigCacheEtcdClient(config);
  const configCache = new ConfigCache({
    etcd: configCacheEtcd,
    keyPrefix: config.configCache.keyPrefix,
    instance,
    maxValueBytes: config.configCache.maxValueBytes,
    limits: { maxKeys: config.configCache.maxKeys, maxTotalBytes: config.configCache.maxTotalBytes },
    log: console.log,
  }).start();
  const app = createApp({
    temporal,
    namespace: config.temporal.namespace,
    probes: createDependencyProbes(clients),
    temporalWebUiUrl: config.temporal.webUiUrl,
    mysql: clients.mysql,
    allowedDestinations: config.requestRuns.allowedDestinations,
    notifyAllowedDomains: config.smtp.allowedDomains,
    counterAllowedHosts: config.counters.allowedHosts,
    instance,
    allowedHosts: [config.api.host, ...config.api.allowedHosts],
    cpuLoad: { loadWorkers: config.cpuLoad.loadWorkers, maxTtlMs: config.cpuLoad.maxTtlMs, workflowSettings: { idleMs: config.cpuLoad.idleMs } },
    configCache,
    access: createAccessService({ model: createAccessModel(clients.mysql), settings: config.access }),
    dataPlaneOpen: config.api.dataPlaneOpen,
    mailboxUrl: mailboxUrl(config),
    payloadCodec: createPayloadCodec(config),
    supervisorStatus: createSupervisorStatusReader(supervisorStatusPath(config.dataDir)),
  });
  const server = serve({ fetch: app.fetch, hostname: config.api.host, port: config.api.port }, (info) =>
    console.log(`API instance ${instance} listening on http://${config.api.host}:${info.port} (pid ${process.pid})`),
  );
  server.on('error', (error: NodeJS.ErrnoException) => {
    console.error(error.code === 'EADDRINUSE' ? `error: port ${config.api.port} is in use; set API_PORT to a free port.` : error);
    process.exit(1);
  });
  const { instanceBasePort } = config.configCache;
  const instanceServer = instanceBasePort === undefined ? undefined : listenOnInstancePort(app, config.api.host, instanceBasePort + Number(instance) - 1, instance);
  const shutdown = () => {
    server.close();
    instanceServer?.close();
    void configCache
      .close()
      .then(() => configCacheEtcd.close())
      .then(() => closeServiceClients(clients))
      .finally(() => temporal.connection.close())
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

function runPrimary(config: Config): void {
  for (let i = 1; i <= config.api.instances; i++) cluster.fork();
  let stopping = false;
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    // An instance that dies takes the whole API down, so the supervisor restarts it cleanly.
    console.error(`API instance (pid ${worker.process.pid}) exited (${signal ?? code}); stopping the others.`);
    stopping = true;
    for (const other of Object.values(cluster.workers ?? {})) other?.kill('SIGTERM');
    setTimeout(() => process.exit(1), 5000).unref();
  });
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** On a network address, someone must be able to sign in and let others in: an admin account must exist. */
async function requireAdminOffLoopback(config: Config): Promise<void> {
  if (isLoopbackHost(config.api.host)) return;
  const mysql = createMysqlPool(config, { connectionLimit: 1 });
  try {
    if ((await createAccessModel(mysql).countAdmins()) === 0) {
      throw new ConfigError(`API_HOST=${config.api.host} with no admin account: start once on loopback (npm start makes the first admin) or add an admin, then listen on ${config.api.host}.`);
    }
  } finally {
    await mysql.end();
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  if (cluster.isPrimary) await requireAdminOffLoopback(config);
  if (config.api.instances > 1 && cluster.isPrimary) runPrimary(config);
  else await serveInstance(config, String(cluster.worker?.id ?? 1));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `error: ${error.message}` : error);
  process.exit(1);
});
