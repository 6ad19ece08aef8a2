// The payload codec (temporal/codec.ts): what it writes hides the payload whole (data and metadata),
// reads back only with a configured key, passes payloads it did not write through untouched, and
// rotates by putting a new key first. Keys and key files as configuration reads them.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { ConfigError, loadConfig, parseCodecKeys, type PayloadCodecKey } from '../../config.ts';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, PayloadCodecError, ensureCodecKeyFile, loadCodecKeys } from '../../temporal/codec.ts';

const MARKER = 'marker-7f3a9c-secret-value';
const key = (id: string): PayloadCodecKey => ({ id, key: randomBytes(32) });
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const payloadOf = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);

describe('AesGcmPayloadCodec', () => {
  const k1 = key('k1');

  it('round-trips payloads, hiding their data and their metadata', async () => {
    const codec = new AesGcmPayloadCodec([k1]);
    const original = [payloadOf({ script: `echo ${MARKER}` }), payloadOf(null), payloadOf(new Uint8Array([1, 2, 3]))];
    const encoded = await codec.encode(original);
    for (const payload of encoded) {
      expect(Object.keys(payload.metadata!).sort()).toEqual([KEY_ID_METADATA, 'encoding'].sort());
      expect(text(payload.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
      expect(text(payload.metadata![KEY_ID_METADATA])).toBe('k1');
      expect(Buffer.from(payload.data!).includes(MARKER)).toBe(false);
      expect(Buffer.from(payload.data!).includes('json/plain')).toBe(false);
    }
    const decoded = await codec.decode(encoded);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([{ script: `echo ${MARKER}` }, null, new Uint8Array([1, 2, 3])]);
  });

  it('uses a fresh IV for every payload: the same value encrypts differently', async () => {
    const codec = new AesGcmPayloadCodec([k1]);
    const [a, b] = await codec.encode([payloadOf(MARKER), payloadOf(MARKER)]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('passes payloads it did not write through unchanged (a CLI --input)', async () => {
    const codec = new AesGcmPayloadCodec([k1]);
    const plain = [payloadOf({ dependencies: ['mysql'] }), { metadata: {}, data: new Uint8Array([7]) }];
    expect(await codec.decode(plain)).toEqual(plain);
  });

  it('rotates: a new first key encrypts, the old one still decodes what it wrote', async () => {
    const before = new AesGcmPayloadCodec([k1]);
    const written = await before.encode([payloadOf(MARKER)]);
    const k2 = key('k2');
    const after = new AesGcmPayloadCodec([k2, k1]);
    expect(after.keyId).toBe('k2');
    expect(defaultPayloadConverter.fromPayload((await after.decode(written))[0]!)).toBe(MARKER);
    const rewritten = await after.encode([payloadOf(MARKER)]);
    expect(text(rewritten[0]!.metadata![KEY_ID_METADATA])).toBe('k2');
    await expect(before.decode(rewritten)).rejects.toThrow(/key "k2", which is not configured/);
  });

  it('names an unknown key ID in its error', async () => {
    const written = await new AesGcmPayloadCodec([key('retired-2024')]).encode([payloadOf(MARKER)]);
    const error = await new AesGcmPayloadCodec([k1]).decode(written).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadCodecError);
    expect((error as Error).message).toContain('"retired-2024"');
  });

  it('refuses altered ciphertext, and a different key under the same ID', async () => {
    const codec = new AesGcmPayloadCodec([k1]);
    const [payload] = await codec.encode([payloadOf(MARKER)]);
    const data = Buffer.from(payload!.data!);
    data[20]! ^= 0x01;
    await expect(codec.decode([{ ...payload!, data }])).rejects.toThrow(/does not authenticate/);
    await expect(new AesGcmPayloadCodec([key('k1')]).decode([payload!])).rejects.toThrow(/does not authenticate/);
    await expect(codec.decode([{ ...payload!, data: new Uint8Array(5) }])).rejects.toThrow(/too short/);
  });
});

describe('codec keys from configuration', () => {
  const b64 = () => randomBytes(32).toString('base64');

  it('reads PAYLOAD_CODEC_KEYS, the first key first', () => {
    const [a, b] = [b64(), b64()];
    const config = loadConfig({ PAYLOAD_CODEC_KEYS: `new:${a}, old:${b}` });
    expect(config.payloadCodec.keys.map((k) => [k.id, k.key.toString('base64')])).toEqual([['new', a], ['old', b]]);
    expect(loadCodecKeys(config)).toBe(config.payloadCodec.keys);
  });

  it.each([
    ['no ID', `:${randomBytes(32).toString('base64')}`],
    ['a short key', `k1:${randomBytes(16).toString('base64')}`],
    ['no separator', 'justtext'],
    ['an ID with a space', `a b:${randomBytes(32).toString('base64')}`],
  ])('refuses %s, naming the setting', (_what, value) => {
    expect(() => loadConfig({ PAYLOAD_CODEC_KEYS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ PAYLOAD_CODEC_KEYS: value })).toThrow(/PAYLOAD_CODEC_KEYS/);
  });

  it('refuses an ID given twice', () => {
    expect(() => parseCodecKeys(`a:${b64()},a:${b64()}`, 'X')).toThrow(/"a" twice/);
  });

  it('writes a key file (0600, one key) when none exists and no keys are set, and reads it', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'codec-keys-'));
    const config = loadConfig({ FLEET_DATA_DIR: dataDir });
    expect(() => loadCodecKeys(config)).toThrow(/No payload codec keys/);
    expect(ensureCodecKeyFile(config)).toBe(join(dataDir, 'codec.keys'));
    expect(statSync(config.payloadCodec.keyFile).mode & 0o777).toBe(0o600);
    const keys = loadCodecKeys(config);
    expect(keys).toHaveLength(1);
    expect(keys[0]!.key).toHaveLength(32);
    // A second call keeps the file: its key is what history was written with.
    const before = readFileSync(config.payloadCodec.keyFile, 'utf8');
    expect(ensureCodecKeyFile(config)).toBeUndefined();
    expect(readFileSync(config.payloadCodec.keyFile, 'utf8')).toBe(before);
  });

  it('writes no key file when PAYLOAD_CODEC_KEYS is set', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'codec-keys-'));
    expect(ensureCodecKeyFile(loadConfig({ FLEET_DATA_DIR: dataDir, PAYLOAD_CODEC_KEYS: `k:${b64()}` }))).toBeUndefined();
  });

  it('reads a rotated key file: the first line encrypts', () => {
    const keyFile = join(mkdtempSync(join(tmpdir(), 'codec-keys-')), 'keys');
    writeFileSync(keyFile, `# rotated\nk2:${b64()}\nk1:${b64()}\n`);
    const codec = new AesGcmPayloadCodec(loadCodecKeys(loadConfig({ PAYLOAD_CODEC_KEY_FILE: keyFile })));
    expect(codec.keyId).toBe('k2');
  });
});
