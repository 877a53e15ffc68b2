// Editing one's own message, and reading a message's versions (its author and moderators).
import { useInfiniteQuery } from '@tanstack/react-query';
import type { z } from 'zod';
import type * as edits from '../../server/modules/boards/edit-schema';
import { api } from './client';
import type { Message } from './types';

export type MessageEdit = z.input<typeof edits.MessageEditInput>;
export type MessageVersionPage = z.output<typeof edits.MessageVersionPage>;
export type MessageVersion = MessageVersionPage['items'][number];

/** Signs and stores a new version of the caller's own message; answers the message as it is now. */
export const editMessage = (messageId: string, edit: MessageEdit) =>
  api<Message>(`/api/messages/${messageId}/`, { method: 'PATCH', body: edit });

const fetchVersions = (messageId: string, cursor: string | undefined) =>
  api<MessageVersionPage>(`/api/messages/${messageId}/versions/`, { query: { cursor } });

/**
 * A message's versions, oldest first; each "load more" reads the next page. Keyed by the time of
 * its latest edit too, so a new edit reads them afresh.
 */
export function useVersions(messageId: string, editedAt: string | null) {
  return useInfiniteQuery({
    queryKey: ['versions', messageId, editedAt],
    queryFn: ({ pageParam }) => fetchVersions(messageId, pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}
