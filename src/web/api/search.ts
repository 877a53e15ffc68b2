// Search over every board the reader may read: best matches first, matched words marked, narrowed
// by board, author and days.
import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import { queryKeys } from './keys';
import type { Page, SearchHit } from './types';

export const SEARCH_PAGE_SIZE = 20;

/** What narrows a search: a board id, an author's nickname or key, days YYYY-MM-DD. */
export interface SearchFilters {
  board?: string | undefined;
  author?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

export const fetchSearch = (q: string, filters: SearchFilters, cursor: string | undefined) =>
  api<Page<SearchHit>>('/api/search/', {
    query: { q, ...filters, cursor, limit: SEARCH_PAGE_SIZE },
  });

/** The hits for `q` after `cursor`; nothing is asked while `q` is blank. */
export function useSearch(q: string, filters: SearchFilters, cursor: string | undefined) {
  return useQuery({
    queryKey: queryKeys.search(q, filters, cursor),
    queryFn: () => fetchSearch(q, filters, cursor),
    enabled: q.trim() !== '',
  });
}
