// Runs the official `temporal server start-dev` with a persistent SQLite file in WAL mode,
// the Web UI, and the project's search attributes registered.
import { join } from 'node:path';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { Config, HostEnv } from '../config.ts';
import { startProcess, waitUntilHealthy, type ManagedProcess } from './processes.ts';
import { projectSearchAttributes } from '../temporal/searchAttributes.ts';

const { temporal } = proto; // CommonJS package: named imports do not resolve under ESM

const indexedValueTypes: Record<string, number> = {
  KEYWORD: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  TEXT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  INT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  DOUBLE: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  BOOL: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  DATETIME: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KEYWORD_LIST: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

const cliTypeNames: Record<string, string> = {
  KEYWORD: 'Keyword', TEXT: 'Text', INT: 'Int', DOUBLE: 'Double', BOOL: 'Bool', DATETIME: 'Datetime', KEYWORD_LIST: 'KeywordList',
};

export interface DevServerOptions {
  host: string;
  port: number;
  namespace: string;
  /** Omit for an in-memory server (tests). */
  dbFile?: string;
  /** Omit for a headless server (tests). */
  uiPort?: number;
  /** The codec server the Web UI sends payloads to for decoding (it appends /decode and /encode). */
  uiCodecEndpoint?: string;
}

/** The API's codec server (api/codec.ts), as the browser showing the Web UI reaches it. */
export function codecEndpointUrl(config: Config): string {
  const host = config.api.host.includes(':') ? `[${config.api.host}]` : config.api.host;
  return `http://${host}:${config.api.port}/codec`;
}

export function devServerArgs(options: DevServerOptions): string[] {
  const args = ['server', 'start-dev', '--ip', options.host, '--port', String(options.port), '--namespace', options.namespace];
  if (options.dbFile) {
    // WAL keeps writers from blocking readers; NORMAL is durable across process crashes in WAL mode.
    args.push('--db-filename', options.dbFile, '--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=NORMAL');
  }
  if (options.uiPort) {
    args.push('--ui-ip', options.host, '--ui-port', String(options.uiPort));
    if (options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  } else args.push('--headless');
  for (const key of projectSearchAttributes) args.push('--search-attribute', `${key.name}=${cliTypeNames[key.type]}`);
  args.push('--log-level', 'warn', '--log-format', 'json');
  return args;
}

export async function startTemporalDevServer(
  config: Config,
  cliPath: string,
  hostEnv: HostEnv,
  options: { persistent: boolean; ui: boolean },
): Promise<ManagedProcess> {
  const [host, portText] = config.temporal.address.split(':');
  const server = startProcess({
    name: 'temporal',
    command: cliPath,
    args: devServerArgs({
      host: host!,
      port: Number(portText),
      namespace: config.temporal.namespace,
      dbFile: options.persistent ? join(config.dataDir, 'temporal.sqlite') : undefined,
      uiPort: options.ui ? config.temporal.uiPort : undefined,
      uiCodecEndpoint: options.ui ? codecEndpointUrl(config) : undefined,
    }),
    logFile: join(config.logDir, 'temporal.log'),
    env: hostEnv,
  });
  await waitForTemporal(config, { timeoutMs: 60_000, process: server });
  return server;
}

/** Waits until the frontend answers and the namespace exists. */
export async function waitForTemporal(config: Config, options: { timeoutMs: number; process?: ManagedProcess }): Promise<void> {
  // One lazy connection for all attempts: a failed Connection.connect leaves its channel open.
  const connection = Connection.lazy({ ...(config.temporal.connect.connectionOptions as ConnectionOptions), connectTimeout: 1000 });
  try {
    await waitUntilHealthy(
      `Temporal at ${config.temporal.address}`,
      async () => {
        await connection.withDeadline(Date.now() + 1000, () =>
          connection.workflowService.describeNamespace({ namespace: config.temporal.namespace }),
        );
        return true;
      },
      { ...options, intervalMs: 200 },
    );
  } finally {
    await connection.close();
  }
}

/**
 * Registers any of the project's search attributes the namespace lacks. The dev server only
 * registers `--search-attribute` when it creates a namespace, so a data file from an earlier
 * version would miss attributes added since.
 */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  keys: readonly { name: string; type: string }[] = projectSearchAttributes,
): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = keys.filter((key) => !known.has(key.name));
  if (missing.length > 0) {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((key) => [key.name, indexedValueTypes[key.type]!])),
    });
  }
  return missing.map((key) => key.name);
}
