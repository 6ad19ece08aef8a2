// Commands on nodes over SSH (ssh2): a real login with a key read from SSH_KEYS_DIR by name, a
// timeout, the exit code, and stdout/stderr captured up to a limit. Keys never leave the worker.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, type ConnectConfig } from 'ssh2';
import { KEY_REF_PATTERN, MAX_OUTPUT_BYTES, type CommandResult, type SshTarget } from '../../workflows/nodes.shared.ts';

/** The node could not be reached or refused the login: not the command's fault. */
export class SshUnreachableError extends Error {
  override name = 'SshUnreachableError';
}

/** The node answered with another host key than the one learnt at its first login. */
export class SshHostKeyMismatchError extends Error {
  override name = 'SshHostKeyMismatchError';
}

export class SshKeyError extends Error {
  override name = 'SshKeyError';
}

export interface CommandOptions {
  timeoutMs: number;
  /** Written to the command's standard input, then closed (how scripts and manifests are sent). */
  stdin?: string;
  maxOutputBytes?: number;
  /** Stops waiting (and closes the connection) when aborted: the promise rejects with CommandAbortedError. */
  signal?: AbortSignal;
}

/** The caller stopped waiting for the command (its signal was aborted). */
export class CommandAbortedError extends Error {
  override name = 'CommandAbortedError';
}

export interface SshRunner {
  run(target: SshTarget, command: string, options: CommandOptions): Promise<CommandResult>;
}

/** Collects a stream up to a byte limit, remembering whether anything was cut. */
class BoundedOutput {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    const room = this.limit - this.size;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (kept.length < chunk.length) this.truncated = true;
    this.chunks.push(kept);
    this.size += kept.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

export function createSshRunner(options: { keysDir: string; connectTimeoutMs?: number }): SshRunner {
  const keys = new Map<string, Promise<Buffer>>();
  const privateKey = (keyRef: string): Promise<Buffer> => {
    if (!KEY_REF_PATTERN.test(keyRef)) return Promise.reject(new SshKeyError(`SSH key reference ${JSON.stringify(keyRef)} is not a plain file name.`));
    if (!keys.has(keyRef)) {
      const loading = readFile(join(options.keysDir, keyRef)).catch((error: NodeJS.ErrnoException) => {
        keys.delete(keyRef);
        throw new SshKeyError(error.code === 'ENOENT' ? `SSH key ${JSON.stringify(keyRef)} is not in SSH_KEYS_DIR.` : `SSH key ${keyRef}: ${error.message}`);
      });
      keys.set(keyRef, loading);
    }
    return keys.get(keyRef)!;
  };

  return {
    async run(target, command, commandOptions) {
      const connectConfig: ConnectConfig = {
        host: target.host,
        port: target.port,
        username: target.user,
        privateKey: await privateKey(target.keyRef),
        readyTimeout: options.connectTimeoutMs ?? 10_000,
        keepaliveInterval: 5000,
        hostHash: 'sha256',
        // Trust on first use: the key seen at the first login is kept and required afterwards.
        hostVerifier: (hash: string) => {
          hostKeySha256 = hash;
          return !target.hostKeySha256 || target.hostKeySha256 === hash;
        },
      };
      let hostKeySha256 = '';
      const limit = commandOptions.maxOutputBytes ?? MAX_OUTPUT_BYTES;
      const started = performance.now();
      return new Promise<CommandResult>((resolve, reject) => {
        const client = new Client();
        let settled = false;
        let timer: NodeJS.Timeout | undefined;
        const onAbort = () => finish(() => reject(new CommandAbortedError(`stopped waiting for the command on ${target.node}`)));
        const finish = (outcome: () => void) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          commandOptions.signal?.removeEventListener('abort', onAbort);
          client.end();
          outcome();
        };
        if (commandOptions.signal?.aborted) return onAbort();
        commandOptions.signal?.addEventListener('abort', onAbort);
        client.on('error', (error) =>
          finish(() =>
            reject(
              target.hostKeySha256 && hostKeySha256 && hostKeySha256 !== target.hostKeySha256
                ? new SshHostKeyMismatchError(`${target.node} (${target.host}:${target.port}) presented host key SHA256 ${hostKeySha256}, not the ${target.hostKeySha256} it had at its first login: refusing to log in.`)
                : new SshUnreachableError(`SSH to ${target.user}@${target.host}:${target.port} failed: ${error.message}`),
            ),
          ),
        );
        client.on('ready', () => {
          client.exec(command, (error, channel) => {
            if (error) return finish(() => reject(new SshUnreachableError(`SSH exec on ${target.host} failed: ${error.message}`)));
            const stdout = new BoundedOutput(limit);
            const stderr = new BoundedOutput(limit);
            let exitCode: number | null = null;
            let signal: string | null = null;
            let timedOut = false;
            const result = () => ({
              exitCode: timedOut ? null : exitCode,
              signal,
              stdout: stdout.text(),
              stderr: stderr.text(),
              truncated: stdout.truncated || stderr.truncated,
              timedOut,
              durationMs: Math.round(performance.now() - started),
              hostKeySha256,
            });
            timer = setTimeout(() => {
              timedOut = true;
              // Ask the server to kill it, then stop waiting: a child that keeps the pipes open
              // would otherwise hold the channel. Remote scripts also run under timeout(1).
              channel.signal('KILL');
              finish(() => resolve(result()));
            }, commandOptions.timeoutMs);
            channel.on('data', (chunk: Buffer) => stdout.push(chunk));
            channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
            channel.on('exit', (code: number | null, signalName?: string) => {
              exitCode = code;
              signal = signalName ?? null;
            });
            // ssh2 emits the channel's 'close' once stdout has ended, while the last stderr chunks
            // can still sit in the stderr stream's buffer: settle when both have ended.
            let stderrEnded = false;
            channel.stderr.once('end', () => (stderrEnded = true));
            channel.on('close', () => {
              if (stderrEnded) finish(() => resolve(result()));
              else channel.stderr.once('end', () => finish(() => resolve(result())));
            });
            channel.end(commandOptions.stdin ?? '');
          });
        });
        client.connect(connectConfig);
      });
    },
  };
}

/** `'it''s'`-style quoting for a POSIX shell: the value stays one word, whatever it holds. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `A=1 B=2 ` for a command line, with safe names and quoted values. */
export function envPrefix(env: Record<string, string>): string {
  return Object.entries(env)
    .filter(([name]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    .map(([name, value]) => `${name}=${shellQuote(value)} `)
    .join('');
}

export { LOCAL_SSH_KEY } from './localSshKey.ts';
