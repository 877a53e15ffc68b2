// Messages and threads: a thread a page at a time (oldest first, each signature checked), posting
// a message or a reply, and deleting one.
import { useInfiniteQuery } from '@tanstack/react-query';
import { api } from './client';
import { queryKeys } from './keys';
import type { DeletedMessage, Message, MessagePost, Thread } from './types';

/** A message with the page of its thread after `cursor` (undefined: the first page). */
export const fetchThread = (messageId: string, cursor: string | undefined) =>
  api<Thread>(`/api/messages/${messageId}/`, { query: { cursor } });

export const postMessage = (message: MessagePost) =>
  api<Message>('/api/messages/', { method: 'POST', body: message });

/**
 * Deletes a message; a moderator deleting someone else's gives a reason for the modlog. An opening
 * post with replies stays as a tombstone (`tombstone: true`) and its thread stays in place.
 */
export const deleteMessage = (messageId: string, reason?: string) =>
  api<DeletedMessage>(`/api/messages/${messageId}/`, {
    method: 'DELETE',
    query: reason === undefined ? {} : { reason },
  });

/** The thread of a message; each "load more" reads its next page. */
export function useThread(messageId: string) {
  return useInfiniteQuery({
    queryKey: queryKeys.thread(messageId),
    queryFn: ({ pageParam }) => fetchThread(messageId, pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}
