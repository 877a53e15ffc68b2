// Content (attachments and media): the instance's upload limit, the media tokens that let an
// <img> or <video> read one content hash, and whether a remote message's attachment is here yet.
// Uploads and downloads with progress: transfers.ts.
import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import { queryKeys } from './keys';
import type { ContentState, MediaToken, UploadLimits } from './types';

export const issueMediaToken = (hash: string) =>
  api<MediaToken>(`/api/content/media_token/${hash}/`, { method: 'POST' });

export const fetchUploadLimits = () => api<UploadLimits>('/api/content/limits/');

/** The largest file this instance accepts, in bytes; undefined until it is known. */
export function useUploadLimit(): number | undefined {
  return useQuery({
    queryKey: queryKeys.contentLimits,
    queryFn: fetchUploadLimits,
    staleTime: Infinity,
  }).data?.max_upload_bytes;
}

export const fetchContentState = (hash: string) => api<ContentState>(`/api/content/state/${hash}/`);

/** How often an attachment still on its way from a peer is asked about again. */
const STATE_EVERY_MS = 3_000;
const onItsWay = (state: ContentState | undefined) =>
  state?.state === 'pending' || state?.state === 'unreachable' || state?.state === 'absent';

/**
 * The state here of an attachment of a message from a peer (complete, or how far its fetch is),
 * asked again while it is on its way; undefined until known, and when not `enabled`.
 */
export function useContentState(hash: string, enabled: boolean): ContentState | undefined {
  return useQuery({
    queryKey: queryKeys.contentState(hash),
    queryFn: () => fetchContentState(hash),
    enabled,
    refetchInterval: (query) => (onItsWay(query.state.data) ? STATE_EVERY_MS : false),
  }).data;
}
