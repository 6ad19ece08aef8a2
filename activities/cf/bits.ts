// App bits for prototype pushes: `builtin:<name>` is a tiny generated zip (a Procfile and an
// executable script that sleeps: staged by binary_buildpack, kept up by a `process` health check);
// anything else is a zip file under the configured bits directory.
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, normalize } from 'node:path';
import { crc32 } from 'node:zlib';
import { ApplicationFailure } from '@temporalio/activity';

/** A file of a zip archive: its text, or its text and Unix mode (default 0644). */
export type ZipFile = string | { text: string; mode: number };

/** "Version made by": Unix (3) in the high byte, zip spec 2.0 in the low one, so readers take the mode. */
const MADE_BY_UNIX = (3 << 8) | 20;
const REGULAR_FILE = 0o100000;

/**
 * A zip archive with the given files, stored without compression (no dependency needed). Entries
 * are marked as made on Unix with their mode in the external attributes, so an unzip on a Diego
 * cell keeps a script's exec bit (the cf CLI fixes modes for the same reason).
 */
export function storedZip(files: Record<string, ZipFile>): Uint8Array<ArrayBuffer> {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, file] of Object.entries(files)) {
    const { text, mode } = typeof file === 'string' ? { text: file, mode: 0o644 } : file;
    const nameBytes = Buffer.from(name, 'utf8');
    const data = Buffer.from(text, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(MADE_BY_UNIX, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(((REGULAR_FILE | mode) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  const zip = Buffer.concat([...locals, ...centrals, end]);
  return new Uint8Array(zip.buffer.slice(zip.byteOffset, zip.byteOffset + zip.length) as ArrayBuffer);
}

export function createBitsReader(bitsDir: string) {
  return async (reference: string): Promise<Uint8Array<ArrayBuffer>> => {
    const builtin = /^builtin:([a-z0-9-]+)$/.exec(reference);
    if (builtin) {
      const name = builtin[1]!;
      return storedZip({
        Procfile: `web: ./${name}\n`,
        // Listens on no port: the kind's health check must be `process` (the default for builtin bits).
        [name]: { text: `#!/bin/sh\n# ${name}: placeholder app pushed by fleet-runbooks\nexec sleep infinity\n`, mode: 0o755 },
      });
    }
    if (isAbsolute(reference) || normalize(reference).startsWith('..')) {
      throw ApplicationFailure.nonRetryable(`Bits ${reference} must be a file name under the bits directory`, 'InvalidBits');
    }
    try {
      return new Uint8Array(await readFile(join(bitsDir, reference)));
    } catch {
      throw ApplicationFailure.nonRetryable(`Bits ${reference} not found in ${bitsDir}`, 'InvalidBits');
    }
  };
}
