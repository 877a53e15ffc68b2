// Writing a blob that is held in parts (nonce, ciphertext, tag) with one gathered
// write, so the parts are never joined into a copy first.
import type { FileHandle } from 'node:fs/promises';

/** What is left of `parts` once a gathered write took its first `written` bytes. */
export function unwritten<T extends Uint8Array>(parts: readonly T[], written: number): T[] {
  const rest: T[] = [];
  for (const part of parts) {
    if (written >= part.length) written -= part.length;
    else {
      rest.push(part.subarray(written) as T);
      written = 0;
    }
  }
  return rest;
}

/** Appends every part at the handle's position, looping over short writes. */
export async function writeParts(handle: FileHandle, parts: readonly Uint8Array[]): Promise<void> {
  for (let remaining = unwritten(parts, 0); remaining.length > 0;) {
    const { bytesWritten } = await handle.writev(remaining);
    remaining = unwritten(remaining, bytesWritten);
  }
}

export const partsLength = (parts: readonly Uint8Array[]): number =>
  parts.reduce((total, part) => total + part.length, 0);
