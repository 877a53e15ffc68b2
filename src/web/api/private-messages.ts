// Private messages: conversations, the inbox and the outbox a page at a time, the unread count,
// one message (opening it marks it read), sending and deleting.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { queryKeys } from './keys';
import type {
  Box,
  BoxPage,
  ConversationList,
  ConversationPage,
  PrivateMessage,
  PrivateMessagePost,
} from './types';

export const BOX_PAGE_SIZE = 25;
/** How often a letter waiting for another instance is read again, until it is delivered. */
const PENDING_EVERY_MS = 2000;

export const fetchBox = (box: Box, cursor: string | undefined, limit = BOX_PAGE_SIZE) =>
  api<BoxPage>('/api/private_messages/', { query: { box, cursor, limit } });

export const fetchPrivateMessage = (id: string) =>
  api<PrivateMessage>(`/api/private_messages/${id}/`);

export const sendPrivateMessage = (message: PrivateMessagePost) =>
  api<PrivateMessage>('/api/private_messages/', { method: 'POST', body: message });

export async function deletePrivateMessage(id: string): Promise<void> {
  await api(`/api/private_messages/${id}/`, { method: 'DELETE' });
}

export const fetchConversations = (cursor: string | undefined) =>
  api<ConversationList>('/api/private_messages/conversations/', {
    query: { cursor, limit: BOX_PAGE_SIZE },
  });

export const fetchConversation = (fingerprint: string, cursor: string | undefined) =>
  api<ConversationPage>(`/api/private_messages/conversations/${fingerprint}/`, {
    query: { cursor, limit: BOX_PAGE_SIZE },
  });

export function useConversations(cursor: string | undefined) {
  return useQuery({
    queryKey: queryKeys.conversations(cursor),
    queryFn: () => fetchConversations(cursor),
  });
}

/** One conversation; showing it marks the received letters read, so the count is read again. */
export function useConversation(fingerprint: string, cursor: string | undefined) {
  const queryClient = useQueryClient();
  return useQuery({
    queryKey: queryKeys.conversation(fingerprint, cursor),
    queryFn: async () => {
      const page = await fetchConversation(fingerprint, cursor);
      void queryClient.invalidateQueries({ queryKey: queryKeys.unread });
      return page;
    },
    refetchInterval: (query) =>
      query.state.data?.items.some((m) => m.delivery?.state === 'pending')
        ? PENDING_EVERY_MS
        : false,
  });
}

export function useBox(box: Box, cursor: string | undefined) {
  return useQuery({ queryKey: queryKeys.box(box, cursor), queryFn: () => fetchBox(box, cursor) });
}

/**
 * How many received messages are unread (the smallest page of the inbox carries the count); read
 * again when the live feed (notifications.ts) tells of a new letter, and after reading one.
 */
export function useUnreadCount(): number {
  const query = useQuery({
    queryKey: queryKeys.unread,
    queryFn: () => fetchBox('inbox', undefined, 1),
  });
  return query.data?.unread ?? 0;
}

/** One message; reading it marks it read, so the unread count is read again. */
export function usePrivateMessage(id: string) {
  const queryClient = useQueryClient();
  return useQuery({
    queryKey: queryKeys.privateMessage(id),
    queryFn: async () => {
      const message = await fetchPrivateMessage(id);
      void queryClient.invalidateQueries({ queryKey: queryKeys.unread });
      return message;
    },
    refetchInterval: (query) =>
      query.state.data?.delivery?.state === 'pending' ? PENDING_EVERY_MS : false,
  });
}
