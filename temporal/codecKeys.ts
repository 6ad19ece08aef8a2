// The payload codec's key file (temporal/codec.ts reads it): made at the first start, before any
// client or worker, by a supervisor that loads no Temporal library.
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import type { Config } from '../config.ts';

export function generateCodecKeyLine(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/**
 * Writes a key file with one random key (mode 0600) when there is none and PAYLOAD_CODEC_KEYS is
 * unset; returns its path when it wrote one.
 */
export function ensureCodecKeyFile(config: Config): string | undefined {
  const { keys, keyFile } = config.payloadCodec;
  if (keys.length > 0 || existsSync(keyFile)) return undefined;
  mkdirSync(dirname(keyFile), { recursive: true });
  const id = `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`;
  const text = `# Payload codec keys (temporal/codec.ts): id:base64 of 32 bytes. The first encrypts, all decrypt;\n# to rotate, put a new key first and keep the old ones.\n${generateCodecKeyLine(id)}\n`;
  writeFileSync(keyFile, text, { mode: 0o600, flag: 'wx' });
  chmodSync(keyFile, 0o600);
  return keyFile;
}

