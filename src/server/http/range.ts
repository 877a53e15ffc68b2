// HTTP byte ranges (RFC 9110 §14): the one Range form Axon serves, for local content and for the
// blobs peers fetch.
import type { ByteRange } from '../../bitsync/index.js';

/** One byte range from a Range header; undefined means "send everything" (absent, multi, malformed). */
export function parseRange(
  header: string | undefined,
  size: number,
): ByteRange | 'unsatisfiable' | undefined {
  const match = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null) return undefined;
  const [, from, to] = match;
  if (from === '' && to === '') return undefined;
  let start: number;
  let end: number;
  if (from === '') {
    const suffix = Number(to);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(from);
    end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
    if (Number(to) < start && to !== '') return undefined;
  }
  if (size === 0 || start >= size) return 'unsatisfiable';
  return { start, end };
}
