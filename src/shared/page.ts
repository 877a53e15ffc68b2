// The shape of every list the API answers: a page of items and the cursor of the next page
// (null on the last one). Cursors are opaque keyset positions (src/server/http/pagination.ts).
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}
