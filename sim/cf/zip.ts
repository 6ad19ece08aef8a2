// Reads a zip archive's entries the way a Diego cell unpacks app bits: names, contents and, for
// entries written on Unix (version made by 3), the file mode from the external attributes. An entry
// from another host (MS-DOS, 0) has no mode, and is unpacked 0644: not executable.
import { inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  /** Unix permission bits (e.g. 0o755), or null when the archive stores none. */
  mode: number | null;
  data: Buffer;
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_FILE_HEADER = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;

/** The archive's entries, or null when the bytes are not a zip archive this reader understands. */
export function readZip(bytes: Buffer): ZipEntry[] | null {
  let end = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (bytes.readUInt32LE(i) === END_OF_CENTRAL_DIRECTORY) {
      end = i;
      break;
    }
  }
  if (end < 0) return null;
  const count = bytes.readUInt16LE(end + 10);
  let offset = bytes.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  try {
    for (let n = 0; n < count; n++) {
      if (bytes.readUInt32LE(offset) !== CENTRAL_FILE_HEADER) return null;
      const madeBy = bytes.readUInt16LE(offset + 4) >> 8;
      const method = bytes.readUInt16LE(offset + 10);
      const compressedSize = bytes.readUInt32LE(offset + 20);
      const nameLength = bytes.readUInt16LE(offset + 28);
      const extraLength = bytes.readUInt16LE(offset + 30);
      const commentLength = bytes.readUInt16LE(offset + 32);
      const external = bytes.readUInt32LE(offset + 38);
      const localOffset = bytes.readUInt32LE(offset + 42);
      const name = bytes.toString('utf8', offset + 46, offset + 46 + nameLength);
      if (bytes.readUInt32LE(localOffset) !== LOCAL_FILE_HEADER) return null;
      const dataStart = localOffset + 30 + bytes.readUInt16LE(localOffset + 26) + bytes.readUInt16LE(localOffset + 28);
      const raw = bytes.subarray(dataStart, dataStart + compressedSize);
      const data = method === 0 ? Buffer.from(raw) : method === 8 ? inflateRawSync(raw) : null;
      if (!data) return null;
      entries.push({ name, mode: madeBy === 3 ? (external >>> 16) & 0o7777 : null, data });
      offset += 46 + nameLength + extraLength + commentLength;
    }
  } catch {
    return null;
  }
  return entries;
}
