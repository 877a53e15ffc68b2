// Messages and threads: a thread by numbered page (oldest first, each signature checked), posting
// a message or a reply, deleting one, and a signed-in reader's read positions.
import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import { queryKeys } from './keys';
import type {
  DeletedMessage,
  MarkedRead,
  Message,
  MessagePost,
  ReadPositionList,
  Thread,
} from './types';

/** Posts on one page of a thread. */
export const THREAD_PAGE_SIZE = 20;

/** A message with one page of its thread: page N, or ('message') the page that holds it. */
export const fetchThreadPage = (messageId: string, page: number | 'message') =>
  api<Thread>(`/api/messages/${messageId}/`, { query: { page, limit: THREAD_PAGE_SIZE } });

/** Marks a thread read through one of its posts (a read position only moves forward). */
export const markRead = (messageId: string) =>
  api<MarkedRead>(`/api/messages/${messageId}/read/`, { method: 'PUT' });

/** Of these threads, those with posts the signed-in reader has not read. */
export const fetchReadPositions = (threadIds: readonly string[]) =>
  api<ReadPositionList>('/api/read-positions/', { query: { threads: threadIds.join(',') } });

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

/** One page of the thread of a message. */
export function useThreadPage(messageId: string, page: number | 'message') {
  return useQuery({
    queryKey: queryKeys.threadPage(messageId, page),
    queryFn: () => fetchThreadPage(messageId, page),
  });
}

/** Unread posts of these threads, for a signed-in reader (nothing is asked otherwise). */
export function useReadPositions(threadIds: readonly string[], signedIn: boolean) {
  return useQuery({
    queryKey: queryKeys.readPositions(threadIds),
    queryFn: () => fetchReadPositions(threadIds),
    enabled: signedIn && threadIds.length > 0,
  });
}
