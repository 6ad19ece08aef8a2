// Clients and worker connections, built from the envconfig settings in Config so the same code
// runs against the local dev server and a production cluster (TLS, API key, namespace).
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.ts';
import { createPayloadCodec, payloadDataConverter } from './codec.ts';

export function connectTemporal(config: Config): Promise<Connection> {
  return Connection.connect(config.temporal.connect.connectionOptions as ConnectionOptions);
}

/**
 * A client. With `waitMs`, it waits that long for Temporal to answer with the namespace: the stack
 * starts its processes beside Temporal's server, not after it, so their start overlaps the server's.
 */
export async function connectClient(config: Config, options: { waitMs?: number } = {}): Promise<Client> {
  const { waitMs = 0 } = options;
  const connection = waitMs > 0 ? Connection.lazy(config.temporal.connect.connectionOptions as ConnectionOptions) : await connectTemporal(config);
  if (waitMs > 0) {
    // One lazy connection for every attempt: a failed Connection.connect leaves its channel open.
    await untilAnswering(config, waitMs, () => connection.withDeadline(Date.now() + 1000, () => connection.workflowService.describeNamespace({ namespace: config.temporal.namespace })));
  }
  return new Client({ connection, namespace: config.temporal.namespace, dataConverter: codecDataConverter(config) });
}

/** How long a process of the stack waits for Temporal as it starts (the server starts beside it). */
export const STARTUP_WAIT_MS = 60_000;

async function untilAnswering(config: Config, waitMs: number, attempt: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (let logged = false; ; ) {
    try {
      await attempt();
      return;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      if (!logged) console.log(`waiting for Temporal at ${config.temporal.address} (namespace ${config.temporal.namespace}): ${(error as Error).message}`);
      logged = true;
      await sleep(200);
    }
  }
}

/** The data converter every client and worker of this project uses: payloads encrypted with the configured keys. */
export function codecDataConverter(config: Config) {
  return payloadDataConverter(createPayloadCodec(config));
}

/** Imported here, not above: clients (the supervisor, the API) need not load the worker's native core. */
export async function connectWorker(config: Config, options: { waitMs?: number } = {}): Promise<NativeConnection> {
  const { NativeConnection } = await import('@temporalio/worker');
  let connection: NativeConnection | undefined;
  await untilAnswering(config, options.waitMs ?? 0, async () => {
    connection ??= await NativeConnection.connect(config.temporal.connect.connectionOptions);
    await connection.workflowService.describeNamespace({ namespace: config.temporal.namespace });
  });
  return connection!;
}
