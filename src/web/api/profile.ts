// The signed-in user's profile, read fresh from the server (a role granted since login shows at
// once) and mirrored into the session so the navigation follows.
import { useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { api } from './client';
import { sessionStore } from './session';
import type { Profile } from './types';
import { queryKeys } from './keys';

export function useProfile() {
  const query = useQuery({
    queryKey: queryKeys.profile,
    queryFn: () => api<Profile>('/api/user/profile/'),
  });
  useEffect(() => {
    if (query.data !== undefined) sessionStore.updateUser(query.data);
  }, [query.data]);
  return query;
}
