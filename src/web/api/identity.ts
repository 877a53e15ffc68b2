// This instance's identity (GET /api/federation/identity/): its key, fingerprint and name. It
// changes only when the sysop rotates the key, so it is read once per visit.
import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import { queryKeys } from './keys';
import type { Identity } from './types';

export const fetchIdentity = () => api<Identity>('/api/federation/identity/');

export function useIdentity() {
  return useQuery({
    queryKey: queryKeys.identity,
    queryFn: fetchIdentity,
    staleTime: Infinity,
  });
}
