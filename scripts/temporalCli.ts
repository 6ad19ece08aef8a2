// Finds the official Temporal CLI, or installs it into the project's tools folder.
// Order: TEMPORAL_CLI_PATH, `temporal` on PATH, .tools/bin/temporal, a Go build of the pinned
// version, and on a machine with internet but no Go, the SDK's own cached download.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ConfigError, type Config, type HostEnv } from '../config.ts';
import { StackError } from './processes.ts';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const GO_PACKAGE = `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function findOnPath(command: string, pathVariable: string | undefined): string | undefined {
  for (const dir of (pathVariable ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

export function projectCliPath(config: Config): string {
  return join(config.toolsDir, 'bin', 'temporal');
}

/** The CLI to use without installing anything, or undefined when it has to be installed. */
export function locateTemporalCli(config: Config, pathVariable: string | undefined): string | undefined {
  if (config.temporal.cliPath) {
    if (!isExecutable(config.temporal.cliPath)) {
      throw new ConfigError(`TEMPORAL_CLI_PATH=${config.temporal.cliPath} is not an executable file: fix the path or unset it.`);
    }
    return config.temporal.cliPath;
  }
  return findOnPath('temporal', pathVariable) ?? (isExecutable(projectCliPath(config)) ? projectCliPath(config) : undefined);
}

export interface InstallLog {
  (line: string): void;
}

export async function ensureTemporalCli(config: Config, hostEnv: HostEnv, log: InstallLog): Promise<string> {
  const pathVariable = hostEnv.PATH;
  const found = locateTemporalCli(config, pathVariable);
  if (found) return found;
  const target = projectCliPath(config);
  mkdirSync(join(config.toolsDir, 'bin'), { recursive: true });
  const go = findOnPath('go', pathVariable) ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (go) {
    log(`Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with Go into ${target} (first run only; a few minutes)…`);
    const result = spawnSync(go, ['install', GO_PACKAGE], {
      env: { ...hostEnv, GOBIN: join(config.toolsDir, 'bin'), CGO_ENABLED: '0' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (result.status === 0 && isExecutable(target)) return target;
    throw new StackError(
      `\`go install ${GO_PACKAGE}\` failed (exit ${result.status}); check that the Go module proxy is reachable, or set TEMPORAL_CLI_PATH to an installed temporal binary.`,
    );
  }
  log('Go is not installed: downloading the Temporal CLI through the Temporal SDK…');
  return downloadWithSdk(config);
}

async function downloadWithSdk(config: Config): Promise<string> {
  const downloadDir = join(config.toolsDir, 'sdk-download');
  mkdirSync(downloadDir, { recursive: true });
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  try {
    // Starting an ephemeral server is the SDK's only public way to fetch the CLI; we keep the binary.
    const env = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'cached-download', downloadDir, ttl: '3650d' } },
    });
    await env.teardown();
  } catch (error) {
    throw new StackError(
      `Could not download the Temporal CLI (${(error as Error).message}); install Go, or set TEMPORAL_CLI_PATH to a temporal binary.`,
    );
  }
  const binary = findFile(downloadDir, (name) => name === 'temporal' || name.startsWith('temporal-'));
  if (!binary) throw new StackError(`The SDK download finished but no temporal binary is in ${downloadDir}; set TEMPORAL_CLI_PATH.`);
  return binary;
}

function findFile(dir: string, matches: (name: string) => boolean): string | undefined {
  if (!existsSync(dir)) return undefined;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = findFile(path, matches);
      if (found) return found;
    } else if (matches(entry.name) && isExecutable(path)) {
      return path;
    }
  }
  return undefined;
}
