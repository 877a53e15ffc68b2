// The types of axon-zip.js (a classic script that sets globalThis.AxonZip).
export interface ZipLimits {
  /** At most this many entries (10,000). */
  entries?: number;
  /** No entry larger than this, inflated (256 MiB). */
  entryBytes?: number;
  /** All entries together, inflated (512 MiB). */
  totalBytes?: number;
}

export interface ZipEntry {
  name: string;
  dir: boolean;
  size: number;
  compressedSize: number;
  /** The bytes, checked against the entry's size and CRC-32. */
  bytes(): Promise<Uint8Array>;
  /** A Blob of the bytes, typed from the name's extension unless `type` is given. */
  blob(type?: string): Promise<Blob>;
  text(): Promise<string>;
}

export interface ZipArchive {
  entries: ZipEntry[];
  files: Record<string, ZipEntry>;
  file(name: string): ZipEntry | null;
}

export interface AxonZip {
  open(data: Blob | ArrayBuffer | Uint8Array, limits?: ZipLimits): Promise<ZipArchive>;
  typeOf(name: string): string;
}

declare global {
  var AxonZip: AxonZip;
}
