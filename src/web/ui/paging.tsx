// Cursor-paged lists read a page at a time ("Load more"), and the column heads of their tables.
import { useInfiniteQuery, type InfiniteData } from '@tanstack/react-query';
import { api } from '../api/client';
import type { Page } from '../api/types';
import { Button } from './controls';

/** The pages of `path` read so far; each "Load more" reads the next `limit` items by cursor. */
export function usePagedList<T>(
  key: readonly unknown[],
  path: string,
  options: { query?: Record<string, string>; limit?: number } = {},
) {
  return useInfiniteQuery<
    Page<T>,
    Error,
    InfiniteData<Page<T>>,
    readonly unknown[],
    string | undefined
  >({
    queryKey: key,
    queryFn: ({ pageParam }) =>
      api<Page<T>>(path, {
        query: { ...options.query, cursor: pageParam, limit: options.limit ?? 25 },
      }),
    initialPageParam: undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

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
