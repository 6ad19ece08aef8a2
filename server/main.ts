// API + UI + receiver process entry point: `tsx server/main.ts`. With API_INSTANCES > 1 the primary
// forks that many instances sharing the port (Node's cluster module), like the seed's
// load-balanced web app instances; each has its own MySQL pool and its own config cache, and one
// that dies is replaced while the others serve. With CONFIG_CACHE_INSTANCE_BASE_PORT set, instance i
// also listens alone on base + i − 1.
import cluster from 'node:cluster';
import { createAdaptorServer, serve } from '@hono/node-server';
import { isLoopbackHost, loadConfig, ConfigError, mailboxUrl, type Config } from '../config.ts';
import { requireAdminOffLoopback } from './adminOffLoopback.ts';
import { createAccessModel } from '../db/access.ts';
import { createConfigCacheEtcdClient, createMysqlPool, createServiceClients, closeServiceClients } from '../db/clients.ts';
import { createAccessService } from '../services/access.ts';
import { createDependencyProbes } from '../db/health.ts';
import { STARTUP_WAIT_MS, connectClient } from '../temporal/connection.ts';
import { createPayloadCodec } from '../temporal/codec.ts';
import { createApp, type App } from './app.ts';
import { fractalImageStoreOnDemand } from '../activities/fractals/storageOnDemand.ts';
import { ConfigCache } from '../services/configCache.ts';
import { createSupervisorStatusReader, supervisorStatusPath } from '../services/supervisorStatus.ts';
import { decideRestart, defaultBackoff, givingUpMessage, restartLine } from '../scripts/restartPolicy.ts';

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
  const temporal = await connectClient(config, { waitMs: STARTUP_WAIT_MS });
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
    fractalImages: fractalImageStoreOnDemand(config.fractals.storage),
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

/**
 * Forks the instances and replaces one that dies, after the supervisor's backoff (scripts/restartPolicy.ts),
 * while the others keep serving; one that crashes more often than SUPERVISOR_MAX_RESTARTS allows stops
 * the API, as does any instance that dies before every one has started: npm start's supervisor then
 * restarts the whole API (or reports it).
 */
function runPrimary(config: Config): void {
  const policy = { ...defaultBackoff, ...config.supervisor };
  /** Cluster worker ID → instance number: an instance keeps its number (and its own port) across restarts. */
  const instanceOf = new Map<number, number>();
  const crashes = new Map<number, number[]>();
  const listening = new Set<number>();
  const fork = (instance: number) => instanceOf.set(cluster.fork({ API_INSTANCE_NUMBER: String(instance) }).id, instance);
  for (let i = 1; i <= config.api.instances; i++) fork(i);
  cluster.on('listening', (worker) => listening.add(instanceOf.get(worker.id)!));
  let stopping = false;
  let exitCode = 0;
  const stopAll = (code: number) => {
    stopping = true;
    exitCode = code;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(code);
    setTimeout(() => process.exit(code), 5000).unref();
  };
  cluster.on('exit', (worker, code, signal) => {
    const instance = instanceOf.get(worker.id)!;
    instanceOf.delete(worker.id);
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
      return;
    }
    const name = `API instance ${instance}`;
    const exit = signal ?? code;
    if (listening.size < config.api.instances) {
      console.error(`error: ${name} (pid ${worker.process.pid}) exited (${exit}) while the API was starting; stopping the others.`);
      return stopAll(1);
    }
    const decision = decideRestart(crashes.get(instance) ?? [], Date.now(), policy);
    crashes.set(instance, decision.crashes);
    if (!decision.restart) {
      console.error(`error: ${givingUpMessage(name, exit, decision.crashes.length, policy)}; stopping the others.`);
      return stopAll(1);
    }
    console.error(restartLine(name, exit, decision, policy));
    setTimeout(() => stopping || fork(instance), decision.delayMs);
  });
  process.once('SIGINT', () => stopAll(0));
  process.once('SIGTERM', () => stopAll(0));
}

async function main(): Promise<void> {
  const config = loadConfig();
  // Loopback needs no admin (and no MySQL query at start: it may be restarting meanwhile).
  if (cluster.isPrimary && !isLoopbackHost(config.api.host)) {
    const mysql = createMysqlPool(config, { connectionLimit: 1 });
    try {
      requireAdminOffLoopback(config.api.host, await createAccessModel(mysql).countAdmins());
    } finally {
      await mysql.end();
    }
  }
  if (config.api.instances > 1 && cluster.isPrimary) runPrimary(config);
  else await serveInstance(config, String(config.api.instanceNumber ?? 1));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `error: ${error.message}` : error);
  process.exit(1);
});
