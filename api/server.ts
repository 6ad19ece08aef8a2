// API + UI + receiver process entry point: `tsx api/server.ts`. With API_INSTANCES > 1 the primary
// forks that many instances sharing the port (Node's cluster module), like the seed's
// load-balanced web app instances; each has its own MySQL pool.
import cluster from 'node:cluster';
import { serve } from '@hono/node-server';
import { loadConfig, ConfigError, type Config } from '../config.ts';
import { createServiceClients, closeServiceClients } from '../activities/clients.ts';
import { createDependencyProbes } from '../activities/health.ts';
import { connectClient } from '../temporal/connection.ts';
import { createApp } from './app.ts';

async function serveInstance(config: Config, instance: string): Promise<void> {
  const temporal = await connectClient(config);
  // Receivers answer up to a run's concurrency at once; each needs a MySQL connection.
  const clients = createServiceClients(config, { mysqlConnections: 64 });
  const app = createApp({
    temporal,
    namespace: config.temporal.namespace,
    probes: createDependencyProbes(clients),
    temporalWebUiUrl: config.temporal.webUiUrl,
    mysql: clients.mysql,
    allowedDestinations: config.requestRuns.allowedDestinations,
    instance,
    cpuLoad: { loadWorkers: config.cpuLoad.loadWorkers },
  });
  const server = serve({ fetch: app.fetch, hostname: config.api.host, port: config.api.port }, (info) =>
    console.log(`API instance ${instance} listening on http://${config.api.host}:${info.port} (pid ${process.pid})`),
  );
  server.on('error', (error: NodeJS.ErrnoException) => {
    console.error(error.code === 'EADDRINUSE' ? `error: port ${config.api.port} is in use; set API_PORT to a free port.` : error);
    process.exit(1);
  });
  const shutdown = () => {
    server.close();
    void closeServiceClients(clients).finally(() => temporal.connection.close()).finally(() => process.exit(0));
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

async function main(): Promise<void> {
  const config = loadConfig();
  if (config.api.instances > 1 && cluster.isPrimary) runPrimary(config);
  else await serveInstance(config, String(cluster.worker?.id ?? 1));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `error: ${error.message}` : error);
  process.exit(1);
});
