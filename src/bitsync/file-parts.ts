// Writing a blob or spool segment that is held in parts (nonce, ciphertext, tag) with one gathered
// write, so the parts are never joined into a copy first.
import type { FileHandle } from 'node:fs/promises';

/** Appends every part at the handle's position, looping over short writes. */
export async function writeParts(handle: FileHandle, parts: readonly Uint8Array[]): Promise<void> {
  let remaining = parts.filter((part) => part.length > 0);
  while (remaining.length > 0) {
    let { bytesWritten } = await handle.writev(remaining);
    const rest: Uint8Array[] = [];
    for (const part of remaining) {
      if (bytesWritten >= part.length) bytesWritten -= part.length;
      else {
        rest.push(part.subarray(bytesWritten));
        bytesWritten = 0;
      }
    }
    remaining = rest;
  }
}

export const partsLength = (parts: readonly Uint8Array[]): number =>
  parts.reduce((total, part) => total + part.length, 0);
