// App bits for prototype pushes: `builtin:<name>` is a tiny generated zip (enough for the
// simulator, or a binary buildpack on a real foundation); anything else is a zip file under the
// configured bits directory.
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, normalize } from 'node:path';
import { crc32 } from 'node:zlib';
import { ApplicationFailure } from '@temporalio/activity';

/** A zip archive with the given files, stored without compression (no dependency needed). */
export function storedZip(files: Record<string, string>): Uint8Array<ArrayBuffer> {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
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
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
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
        [name]: `#!/bin/sh\n# ${name}: placeholder app pushed by fleet-runbooks\nexec sleep infinity\n`,
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
