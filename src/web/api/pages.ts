// Cursor-paged lists read a page at a time ("Load more"): each resource module names its list's
// key and how to fetch one page; this keeps the pages read so far under that key.
import { useInfiniteQuery, type InfiniteData } from '@tanstack/react-query';
import type { Page } from './types';

/** Reads the page after `cursor` (undefined: the first page). */
export type PageReader<T> = (cursor: string | undefined) => Promise<Page<T>>;

export function usePages<T>(key: readonly unknown[], read: PageReader<T>) {
  return useInfiniteQuery<
    Page<T>,
    Error,
    InfiniteData<Page<T>>,
    readonly unknown[],
    string | undefined
  >({
    queryKey: key,
    queryFn: ({ pageParam }) => read(pageParam),
    initialPageParam: undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}
