// AxonChat: reading events by cursor (a long poll when `wait` is given), posting a line, and who
// is here.
import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import { queryKeys } from './keys';
import type { ChatEvent, ChatPost, ChatRead, EventBatch, Presence } from './types';

/** How often the list of who is here is read again: someone who leaves is gone within seconds. */
const PRESENCE_EVERY_MS = 5_000;

export const readChatEvents = (query: ChatRead, signal?: AbortSignal) =>
  api<EventBatch>('/api/chat/read_events/', { query, signal });

export const postChatLine = (line: ChatPost) =>
  api<ChatEvent>('/api/chat/post/', { method: 'POST', body: line });

/** Who has been in AxonChat lately. */
export const fetchPresence = () => api<Presence>('/api/chat/presence/');

/** Off the list of who is here at once; sent as the tab closes too, so it must outlive the page. */
export const leaveChat = () =>
  api<{ left: true }>('/api/chat/presence/', { method: 'DELETE', keepalive: true });

export function usePresence() {
  return useQuery({
    queryKey: queryKeys.presence,
    queryFn: fetchPresence,
    refetchInterval: PRESENCE_EVERY_MS,
  });
}
