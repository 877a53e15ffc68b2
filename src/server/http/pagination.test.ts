// Every list page (users, modlog, reports, private messages, bans…) goes through toPage: it stops
// before LIST_PAGE_BYTES of items, resumes by cursor, and presents no row past the bound.
import { describe, expect, it } from 'vitest';
import { decodeCursor, LIST_PAGE_BYTES, toPage } from './pagination.js';

describe('toPage', () => {
  const rows = Array.from({ length: 11 }, (_, i) => ({ id: `m${i}`, text: 'x'.repeat(300_000) }));

  it('stops before the byte bound, with a cursor after the last item it kept', () => {
    let presented = 0;
    const page = toPage(
      rows,
      10,
      (r) => [r.id],
      (r) => (presented++, r),
    );
    expect(page.items.map((i) => i.id)).toEqual(['m0', 'm1', 'm2']);
    expect(JSON.stringify(page.items).length).toBeLessThan(LIST_PAGE_BYTES);
    expect(decodeCursor(page.next_cursor!, ['s'])).toEqual(['m2']);
    // The fourth item was weighed and left out; nothing after it was presented.
    expect(presented).toBe(4);
  });

  it('always keeps the first item, and weighs items as the caller says', () => {
    const huge = [{ id: 'big', text: 'x'.repeat(LIST_PAGE_BYTES + 1) }, ...rows.slice(0, 2)];
    expect(
      toPage(
        huge,
        10,
        (r) => [r.id],
        (r) => r,
      ).items.map((i) => i.id),
    ).toEqual(['big']);
    const weighed = toPage(
      rows.slice(0, 3),
      10,
      (r) => [r.id],
      (r) => r,
      () => LIST_PAGE_BYTES / 2,
    );
    expect(weighed.items).toHaveLength(2);
  });

  it('ends without a cursor when every row fits', () => {
    const small = rows.slice(0, 2).map((r) => ({ id: r.id }));
    expect(
      toPage(
        small,
        10,
        (r) => [r.id],
        (r) => r,
      ),
    ).toEqual({ items: small, next_cursor: null });
  });
});
