// People: a user's public profile by key fingerprint, and who is online in the realtime rooms.
import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import { queryKeys } from './keys';
import type { OnlineList, PersonProfile } from './types';

/** How often "who's online" is read again (presence lasts a minute). */
const ONLINE_EVERY_MS = 30_000;

export const fetchPerson = (fingerprint: string) =>
  api<PersonProfile>(`/api/people/${fingerprint}/`);

export const fetchOnline = () => api<OnlineList>('/api/people/online/');

export function usePerson(fingerprint: string) {
  return useQuery({
    queryKey: queryKeys.person(fingerprint),
    queryFn: () => fetchPerson(fingerprint),
  });
}

export function useOnline() {
  return useQuery({
    queryKey: queryKeys.online,
    queryFn: fetchOnline,
    refetchInterval: ONLINE_EVERY_MS,
  });
}
