// Authors of other instances: the profile this instance keeps for one (their latest signed one).
import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import { queryKeys } from './keys';
import type { RemoteAuthor } from './types';

export const fetchRemoteAuthor = (fingerprint: string) =>
  api<RemoteAuthor>(`/api/remote_authors/${fingerprint}/`);

export function useRemoteAuthor(fingerprint: string) {
  return useQuery({
    queryKey: queryKeys.remoteAuthor(fingerprint),
    queryFn: () => fetchRemoteAuthor(fingerprint),
  });
}
