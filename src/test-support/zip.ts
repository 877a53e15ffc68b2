// ZIP archives made byte by byte for tests (stored or deflated entries, no data descriptors), with
// ways to make them wrong: a directory that lies about sizes or CRCs, flags, a changed end record.
import { crc32, deflateRawSync } from 'node:zlib';

export interface FileSpec {
  name: string;
  data: Buffer;
  method?: 0 | 8;
  /** Overrides of what the directory says (to make damaged archives). */
  size?: number;
  crc?: number;
  flags?: number;
}

/** A ZIP archive of `files`, as any zip tool writes one (no data descriptors). */
export function zip(files: FileSpec[], tweak?: (eocd: Buffer) => void): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const method = f.method ?? 8;
    const body = method === 8 ? deflateRawSync(f.data) : f.data;
    const name = Buffer.from(f.name, 'utf8');
    const crc = f.crc ?? crc32(f.data);
    const size = f.size ?? f.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(f.flags ?? 0x800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(f.flags ?? 0x800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(files.length, 8);
  eocd.writeUInt16LE(files.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  tweak?.(eocd);
  return Buffer.concat([...locals, cd, eocd]);
}
