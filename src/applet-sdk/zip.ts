// Asset packages: a ZIP fetched with getAttachmentBlob, opened in the frame with the bounded
// reader axon-zip (the same code the instance hands to applets that list it in
// parameters.required_libraries). Applets built with the SDK get it bundled by this import.
import './libraries/axon-zip.js';
import type { ZipArchive, ZipLimits } from './libraries/axon-zip.js';

export type { ZipArchive, ZipEntry, ZipLimits } from './libraries/axon-zip.js';

/** Opens a ZIP archive held in memory; entries are inflated one at a time, on demand. */
export function openZip(
  data: Blob | ArrayBuffer | Uint8Array,
  limits?: ZipLimits,
): Promise<ZipArchive> {
  return globalThis.AxonZip.open(data, limits);
}

/** Each file of the archive as a blob: URL (for <img>, <audio>, loaders), by name. */
export async function assetUrls(zip: ZipArchive): Promise<Record<string, string>> {
  const urls: Record<string, string> = {};
  for (const entry of zip.entries) {
    if (!entry.dir) urls[entry.name] = URL.createObjectURL(await entry.blob());
  }
  return urls;
}
