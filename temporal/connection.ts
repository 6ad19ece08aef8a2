// Clients and worker connections, built from the envconfig settings in Config so the same code
// runs against the local dev server and a production cluster (TLS, API key, namespace).
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config.ts';
import { waitUntilHealthy, type ManagedProcess } from '../scripts/processes.ts';
import { createPayloadCodec, payloadDataConverter } from './codec.ts';

export function connectTemporal(config: Config): Promise<Connection> {
  return Connection.connect(config.temporal.connect.connectionOptions as ConnectionOptions);
}

/**
 * A connection once Temporal answers with the namespace, tried every 200 ms for up to `timeoutMs`;
 * the exit of `process` (the server waited for) ends the wait.
 */
export async function connectWhenAnswering(config: Config, options: { timeoutMs: number; process?: ManagedProcess }): Promise<Connection> {
  // One lazy connection for every attempt: a failed Connection.connect leaves its channel open.
  const connection = Connection.lazy({ ...(config.temporal.connect.connectionOptions as ConnectionOptions), connectTimeout: 1000 });
  try {
    await waitUntilTemporalAnswers(config, options, () =>
      connection.withDeadline(Date.now() + 1000, () => connection.workflowService.describeNamespace({ namespace: config.temporal.namespace })),
    );
    return connection;
  } catch (error) {
    await connection.close();
    throw error;
  }
}

function waitUntilTemporalAnswers(config: Config, options: { timeoutMs: number; process?: ManagedProcess }, describeNamespace: () => Promise<unknown>): Promise<void> {
  const check = async () => {
    await describeNamespace();
    return true;
  };
  return waitUntilHealthy(`Temporal at ${config.temporal.address}`, check, { ...options, intervalMs: 200 });
}

/**
 * A client. With `waitMs`, it waits that long for Temporal to answer with the namespace: the stack
 * starts its processes beside Temporal's server, not after it, so their start overlaps the server's.
 */
export async function connectClient(config: Config, options: { waitMs?: number } = {}): Promise<Client> {
  const { waitMs = 0 } = options;
  const connection = waitMs > 0 ? await connectWhenAnswering(config, { timeoutMs: waitMs }) : await connectTemporal(config);
  return new Client({ connection, namespace: config.temporal.namespace, dataConverter: codecDataConverter(config) });
}

/** How long a process of the stack waits for Temporal as it starts (the server starts beside it). */
export const STARTUP_WAIT_MS = 60_000;

/** The data converter every client and worker of this project uses: payloads encrypted with the configured keys. */
export function codecDataConverter(config: Config) {
  return payloadDataConverter(createPayloadCodec(config));
}

/** Imported here, not above: clients (the supervisor, the API) need not load the worker's native core. */
export async function connectWorker(config: Config, options: { waitMs?: number } = {}): Promise<NativeConnection> {
  const { NativeConnection } = await import('@temporalio/worker');
  const { waitMs = 0 } = options;
  if (waitMs === 0) return NativeConnection.connect(config.temporal.connect.connectionOptions);
  let connection: NativeConnection | undefined;
  await waitUntilTemporalAnswers(config, { timeoutMs: waitMs }, async () => {
    connection ??= await NativeConnection.connect(config.temporal.connect.connectionOptions);
    await connection.workflowService.describeNamespace({ namespace: config.temporal.namespace });
  });
  return connection!;
}
