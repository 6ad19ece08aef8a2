// Payload encryption: every payload the project's clients and workers write to Temporal (inputs,
// results, signals, updates, memos, failure messages and stack traces) is AES-256-GCM encrypted, so
// neither the server's database nor its history API holds them in the clear. The whole Payload
// proto is the plaintext, so its metadata (encoding, message type) is hidden too.
//
// Keys come from configuration (PAYLOAD_CODEC_KEYS, or the key file .data/codec.keys): the first
// encrypts, every one decrypts, so a key is rotated by putting a new one first and keeping the old
// ones for as long as histories written with them are read.
import { existsSync, readFileSync } from 'node:fs';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { METADATA_ENCODING_KEY, type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import { ConfigError, parseCodecKeys, projectRoot, type Config, type PayloadCodecKey } from '../config.ts';

// The key file's making is light (the supervisor makes it, with no Temporal library): its own module.
export { ensureCodecKeyFile, generateCodecKeyLine } from './codecKeys.ts';

const { temporal } = proto; // CommonJS package: named imports do not resolve under ESM

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** A payload the codec cannot read: encrypted with a key it does not have, or altered. */
export class PayloadCodecError extends Error {
  override name = 'PayloadCodecError';
}

export class AesGcmPayloadCodec implements PayloadCodec {
  readonly #encryptWith: PayloadCodecKey;
  readonly #keys: ReadonlyMap<string, Buffer>;

  constructor(keys: readonly PayloadCodecKey[]) {
    if (keys.length === 0) throw new ConfigError('The payload codec needs at least one key.');
    this.#encryptWith = keys[0]!;
    this.#keys = new Map(keys.map((k) => [k.id, k.key]));
  }

  /** The ID of the key new payloads are encrypted with. */
  get keyId(): string {
    return this.#encryptWith.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.#encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.#decrypt(payload));
  }

  #encrypt(payload: Payload): Payload {
    const { id, key } = this.#encryptWith;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const plaintext = temporal.api.common.v1.Payload.encode(payload).finish();
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return {
      metadata: { [METADATA_ENCODING_KEY]: utf8.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8.encode(id) },
      data: Buffer.concat([iv, ciphertext, cipher.getAuthTag()]),
    };
  }

  #decrypt(payload: Payload): Payload {
    const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
    // Not written by this codec (a `temporal workflow start --input`): it is what it says it is.
    if (!encoding || fromUtf8.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
    const idBytes = payload.metadata?.[KEY_ID_METADATA];
    const id = idBytes ? fromUtf8.decode(idBytes) : '';
    const key = this.#keys.get(id);
    if (!key) {
      throw new PayloadCodecError(
        `The payload is encrypted with key ${JSON.stringify(id)}, which is not configured (known: ${[...this.#keys.keys()].join(', ')}): add it to PAYLOAD_CODEC_KEYS or the key file.`,
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadCodecError(`The payload encrypted with key ${JSON.stringify(id)} is too short to be one.`);
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadCodecError(`The payload encrypted with key ${JSON.stringify(id)} does not authenticate: it was altered, or the key under that ID changed.`);
    }
    return temporal.api.common.v1.Payload.decode(plaintext);
  }
}

/** A new random key, as a key file line or PAYLOAD_CODEC_KEYS entry writes it. */
/** The configured keys: PAYLOAD_CODEC_KEYS when set, otherwise the key file. */
export function loadCodecKeys(config: Config): PayloadCodecKey[] {
  const { keys, keyFile } = config.payloadCodec;
  if (keys.length > 0) return keys;
  if (!existsSync(keyFile)) {
    throw new ConfigError(`No payload codec keys: set PAYLOAD_CODEC_KEYS, or create ${keyFile} (npm run setup writes one).`);
  }
  const fromFile = parseCodecKeys(readFileSync(keyFile, 'utf8'), keyFile);
  if (fromFile.length === 0) throw new ConfigError(`${keyFile} holds no key: add a line \`id:base64-of-32-bytes\`.`);
  return fromFile;
}

export function createPayloadCodec(config: Config): AesGcmPayloadCodec {
  return new AesGcmPayloadCodec(loadCodecKeys(config));
}

/**
 * The failure converter module (loaded by path: the worker requires it, and the workflow bundle
 * includes it): messages and stack traces travel as an encoded payload, so the codec encrypts them.
 */
export const failureConverterPath = join(projectRoot, 'temporal', 'failureConverter.cjs');

/** The data converter of every client and worker: the codec, and failures encoded with it. */
export function payloadDataConverter(codec: PayloadCodec): DataConverter {
  return { payloadCodecs: [codec], failureConverterPath };
}
