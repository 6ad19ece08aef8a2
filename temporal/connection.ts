// Clients and worker connections, built from the envconfig settings in Config so the same code
// runs against the local dev server and a production cluster (TLS, API key, namespace).
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config.ts';
import { createPayloadCodec, payloadDataConverter } from './codec.ts';

export function connectTemporal(config: Config): Promise<Connection> {
  return Connection.connect(config.temporal.connect.connectionOptions as ConnectionOptions);
}

export async function connectClient(config: Config): Promise<Client> {
  return new Client({ connection: await connectTemporal(config), namespace: config.temporal.namespace, dataConverter: codecDataConverter(config) });
}

/** The data converter every client and worker of this project uses: payloads encrypted with the configured keys. */
export function codecDataConverter(config: Config) {
  return payloadDataConverter(createPayloadCodec(config));
}

/** Imported here, not above: clients (the supervisor, the API) need not load the worker's native core. */
export async function connectWorker(config: Config): Promise<NativeConnection> {
  const { NativeConnection } = await import('@temporalio/worker');
  return NativeConnection.connect(config.temporal.connect.connectionOptions);
}
