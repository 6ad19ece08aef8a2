// Runs the official `temporal server start-dev` with a persistent SQLite file in WAL mode,
// the Web UI, and the project's search attributes registered.
import { join } from 'node:path';
import type { Config, HostEnv } from '../config.ts';
import { runToCompletion, StackError, startProcess, waitUntilHealthy, type ManagedProcess } from './processes.ts';
import { projectSearchAttributes } from '../temporal/searchAttributes.ts';

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

type DevServerStart = { persistent: boolean; ui: boolean };

/** The dev server's process, just launched. */
export function launchTemporalDevServer(config: Config, cliPath: string, hostEnv: HostEnv, options: DevServerStart): ManagedProcess {
  const [host, portText] = config.temporal.address.split(':');
  return startProcess({
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
}

/**
 * The dev server, once it answers with the namespace and has the project's search attributes. Checked
 * with its own CLI (a few hundredths of a CPU-second a call): the supervisor loads no Temporal client,
 * and a process that would load one costs a warm start nearly a CPU-second.
 */
export async function startTemporalDevServer(config: Config, cliPath: string, hostEnv: HostEnv, options: DevServerStart): Promise<ManagedProcess> {
  const server = launchTemporalDevServer(config, cliPath, hostEnv, options);
  const cli = (...args: string[]) =>
    runToCompletion(cliPath, [...args, '--address', config.temporal.address, '--namespace', config.temporal.namespace, '--disable-config-file', '--disable-config-env'], { cwd: config.dataDir, env: hostEnv });
  const describeNamespace = async () => {
    const described = await cli('operator', 'namespace', 'describe', '-o', 'json');
    if (described.code !== 0) throw new Error(described.stderr.trim().split('\n').at(-1) ?? `exit ${described.code}`);
    return true;
  };
  await waitUntilHealthy(`Temporal at ${config.temporal.address}`, describeNamespace, {
    timeoutMs: 60_000,
    intervalMs: 200,
    process: server,
  });
  await ensureSearchAttributesWithCli(cli);
  return server;
}

/**
 * Registers any of the project's search attributes the namespace lacks. The dev server registers
 * `--search-attribute` only when it creates the namespace, so a data file from an earlier version
 * would miss attributes added since.
 */
async function ensureSearchAttributesWithCli(cli: (...args: string[]) => Promise<{ code: number | string; stdout: string; stderr: string }>): Promise<void> {
  const listed = await cli('operator', 'search-attribute', 'list', '-o', 'json');
  if (listed.code !== 0) throw new StackError(`temporal operator search-attribute list failed: ${listed.stderr.trim()}`);
  const known = new Set(Object.keys((JSON.parse(listed.stdout) as { customAttributes?: Record<string, string> }).customAttributes ?? {}));
  for (const key of projectSearchAttributes.filter((attribute) => !known.has(attribute.name))) {
    const created = await cli('operator', 'search-attribute', 'create', '--name', key.name, '--type', cliTypeNames[key.type]!, '--yes');
    if (created.code !== 0) throw new StackError(`temporal operator search-attribute create ${key.name} failed: ${created.stderr.trim()}`);
  }
}
