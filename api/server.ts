// API + UI process entry point: `tsx api/server.ts`.
import { serve } from '@hono/node-server';
import { loadConfig, ConfigError } from '../config.ts';
import { createServiceClients, closeServiceClients } from '../activities/clients.ts';
import { createDependencyProbes } from '../activities/health.ts';
import { connectClient } from '../temporal/connection.ts';
import { createApp } from './app.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  const temporal = await connectClient(config);
  const clients = createServiceClients(config);
  const app = createApp({
    temporal,
    namespace: config.temporal.namespace,
    probes: createDependencyProbes(clients),
    temporalWebUiUrl: config.temporal.webUiUrl,
  });
  const server = serve({ fetch: app.fetch, hostname: config.api.host, port: config.api.port }, (info) =>
    console.log(`API and UI listening on http://${config.api.host}:${info.port} (pid ${process.pid})`),
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

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `error: ${error.message}` : error);
  process.exit(1);
});
