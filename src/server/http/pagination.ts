// Opaque keyset cursors: base64url JSON of the last row's sort key. Lists never skip or repeat
// rows inserted while a client pages, and a malformed cursor is a 400 naming the field.
import { z } from 'zod';
import type { Page } from '../../shared/page.js';
import { fieldError } from './errors.js';

export type { Page } from '../../shared/page.js';

export type CursorKey = ReadonlyArray<string | number>;

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** Decodes a cursor whose parts have the given types ('s' string, 'n' number). */
export function decodeCursor(
  cursor: string,
  shape: ReadonlyArray<'s' | 'n'>,
): Array<string | number> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw fieldError('query.cursor', 'is not a cursor this server issued', 'INVALID_CURSOR');
  }
  const valid =
    Array.isArray(parsed) &&
    parsed.length === shape.length &&
    parsed.every((part, i) =>
      shape[i] === 'n' ? Number.isSafeInteger(part) : typeof part === 'string',
    );
  if (!valid)
    throw fieldError('query.cursor', 'is not a cursor this server issued', 'INVALID_CURSOR');
  return parsed as Array<string | number>;
}

/**
 * What one page of any list may hold, as JSON of its items: a list of large items (private
 * messages, reports with their snapshots) stops before it and resumes by cursor.
 */
export const LIST_PAGE_BYTES = 1024 * 1024;

/**
 * Builds a page from limit+1 fetched rows: the extra row only proves there is a next page. Stops
 * before the items pass LIST_PAGE_BYTES (see toBoundedPage); `sizeOf` weighs an item when its
 * answer grows past its JSON (a body rendered to HTML as well).
 */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  key: (row: R) => CursorKey,
  present: (row: R) => T,
  sizeOf?: (item: T) => number,
): Page<T> {
  return toBoundedPage(rows, limit, LIST_PAGE_BYTES, key, present, sizeOf);
}

/** A page with each item presented for the answer, its cursor unchanged: every list's shape. */
export const mapPage = <R, T>(page: Page<R>, present: (item: R) => T): Page<T> => ({
  // One argument only: a presenter's optional second parameter must not receive map's index.
  items: page.items.map((item) => present(item)),
  next_cursor: page.next_cursor,
});

/** The zod form of a page, for a list route's response schema. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), next_cursor: z.string().nullable() });

/**
 * Like toPage, but also stops before the presented items pass `maxBytes` of JSON (the first item
 * always goes in), so a page of large items stays bounded; the cursor then resumes after it.
 */
export function toBoundedPage<R, T>(
  rows: R[],
  limit: number,
  maxBytes: number,
  key: (row: R) => CursorKey,
  present: (row: R) => T,
  sizeOf: (item: T) => number = (item) => Buffer.byteLength(JSON.stringify(item)),
): Page<T> {
  const items: T[] = [];
  let bytes = 0;
  let last: R | undefined;
  // Presented one at a time: rows past the bound are never presented (decrypted, rendered).
  for (const row of rows.slice(0, limit)) {
    const item = present(row);
    bytes += sizeOf(item);
    if (items.length > 0 && bytes > maxBytes) break;
    items.push(item);
    last = row;
  }
  return {
    items,
    next_cursor: items.length < rows.length && last !== undefined ? encodeCursor(key(last)) : null,
  };
}
