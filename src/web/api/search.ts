// Search over every board the reader may read: best matches first, matched words marked.
import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import { queryKeys } from './keys';
import type { Page, SearchHit } from './types';

export const SEARCH_PAGE_SIZE = 20;

export const fetchSearch = (q: string, cursor: string | undefined) =>
  api<Page<SearchHit>>('/api/search/', { query: { q, cursor, limit: SEARCH_PAGE_SIZE } });

/** The hits for `q` after `cursor`; nothing is asked while `q` is blank. */
export function useSearch(q: string, cursor: string | undefined) {
  return useQuery({
    queryKey: queryKeys.search(q, cursor),
    queryFn: () => fetchSearch(q, cursor),
    enabled: q.trim() !== '',
  });
}
