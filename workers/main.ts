// Worker process entry point: `tsx workers/main.ts`. Connects with the envconfig settings, so the
// same command serves a production cluster.
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { loadConfig, ConfigError } from '../config.ts';
import { createServiceClients, closeServiceClients } from '../db/clients.ts';
import { codecDataConverter, connectWorker } from '../temporal/connection.ts';
import { buildWorkflowBundle } from './bundle.ts';
import { createWorkers, runWorkers } from './workers.ts';
import { foundationsFromConfig } from '../activities/cf/foundations.ts';
import { nodeClientsFromConfig } from '../activities/nodes/index.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await connectWorker(config);
  const clients = createServiceClients(config);
  const nodeClients = nodeClientsFromConfig(config);
  const workflowBundle = config.workflowBundlePath ? { codePath: config.workflowBundlePath } : await buildWorkflowBundle();
  const workers = await createWorkers({
    connection,
    namespace: config.temporal.namespace,
    dataConverter: codecDataConverter(config),
    workflowBundle,
    clients,
    allowedDestinations: config.requestRuns.allowedDestinations,
    cf: { foundations: foundationsFromConfig(config), bitsDir: config.cf.bitsDir },
    nodes: nodeClients,
    taskQueueSuffix: config.taskQueueSuffix,
  });
  console.log(`worker ${process.pid} polling ${workers.map((w) => w.options.taskQueue).join(', ')} on ${config.temporal.address}`);
  try {
    await runWorkers(workers); // Runtime shuts the workers down on SIGINT/SIGTERM.
  } finally {
    await closeServiceClients(clients);
    nodeClients.close();
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `error: ${error.message}` : error);
  process.exit(1);
});
