// Content (attachments and media): the instance's upload limit and the media tokens that let an
// <img> or <video> read one content hash. Uploads and downloads with progress: transfers.ts.
import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import { queryKeys } from './keys';
import type { MediaToken, UploadLimits } from './types';

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
