// AxonChat: reading events by cursor (a long poll when `wait` is given), posting a line, and who
// is here.
import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import { queryKeys } from './keys';
import type { ChatEvent, ChatPost, ChatRead, EventBatch, Presence } from './types';

/** How often the list of who is here is read again. */
const PRESENCE_EVERY_MS = 15_000;

export const readChatEvents = (query: ChatRead, signal?: AbortSignal) =>
  api<EventBatch>('/api/chat/read_events/', { query, signal });

export const postChatLine = (line: ChatPost) =>
  api<ChatEvent>('/api/chat/post/', { method: 'POST', body: line });

/** Who has been in AxonChat lately. */
export const fetchPresence = () => api<Presence>('/api/chat/presence/');

export function usePresence() {
  return useQuery({
    queryKey: queryKeys.presence,
    queryFn: fetchPresence,
    refetchInterval: PRESENCE_EVERY_MS,
  });
}
