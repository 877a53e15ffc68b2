// The controls of paged lists: "Load more" for cursor-paged ones (their pages are read by
// src/web/api/pages.ts), numbered pages for boards and threads, and the column heads of tables.
import { Link } from 'react-router';
import { Button } from './controls';

export function LoadMore({
  list,
}: {
  list: { hasNextPage: boolean; isFetchingNextPage: boolean; fetchNextPage: () => unknown };
}) {
  if (!list.hasNextPage) return null;
  return (
    <Button
      variant="plain"
      className="mt-3"
      disabled={list.isFetchingNextPage}
      onClick={() => void list.fetchNextPage()}
    >
      {list.isFetchingNextPage ? 'Loading…' : 'Load more'}
    </Button>
  );
}

/** A table's head row: one column heading per name, those in `right` aligned right. */
export function ColumnHeads({
  names,
  right = [],
}: {
  names: readonly string[];
  right?: readonly string[];
}) {
  return (
    <thead className="uppercase text-amber">
      <tr className="border-b border-line">
        {names.map((name) => (
          <th key={name} scope="col" className={right.includes(name) ? 'p-1 text-right' : 'p-1'}>
            {name}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** The page numbers shown around the current one (with the first and the last always). */
const NEARBY = 2;

/**
 * Numbered pages: first, previous, the numbers near this page, next and last, each a link made
 * by `href`. The current page is marked for assistive technology; nothing shows for one page.
 */
export function PageNumbers({
  page,
  pageCount,
  href,
  label = 'Pages',
}: {
  page: number;
  pageCount: number;
  href: (page: number) => string;
  label?: string;
}) {
  if (pageCount <= 1) return null;
  const numbers: number[] = [];
  for (let n = Math.max(1, page - NEARBY); n <= Math.min(pageCount, page + NEARBY); n++)
    numbers.push(n);
  const step = (to: number, text: string, name: string) =>
    to < 1 || to > pageCount || to === page ? (
      <span className="text-phosphor-dim" aria-hidden="true">
        {text}
      </span>
    ) : (
      <Link to={href(to)} aria-label={name}>
        {text}
      </Link>
    );
  return (
    <nav aria-label={label} className="my-3 flex flex-wrap items-center gap-2 text-sm">
      {step(1, '« First', 'First page')}
      {step(page - 1, '‹ Previous', 'Previous page')}
      {numbers[0]! > 1 && <span aria-hidden="true">…</span>}
      {numbers.map((n) =>
        n === page ? (
          <span key={n} aria-current="page" className="border border-phosphor px-1 font-bold">
            {n}
          </span>
        ) : (
          <Link key={n} to={href(n)} aria-label={`Page ${n}`} className="px-1">
            {n}
          </Link>
        ),
      )}
      {numbers.at(-1)! < pageCount && <span aria-hidden="true">…</span>}
      {step(page + 1, 'Next ›', 'Next page')}
      {step(pageCount, `Last (${pageCount}) »`, `Last page, ${pageCount}`)}
    </nav>
  );
}
