// The signed-in user's own account: the profile, read fresh from the server (a role granted since
// login shows at once) and mirrored into the session so the navigation follows; the changes a
// user makes to it (nickname, time zone, avatar, password).
import { useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { api } from './client';
import { queryKeys } from './keys';
import { sessionStore } from './session';
import type { PasswordChangeBody, Profile, ProfilePatch, RenewedSession } from './types';

export const fetchProfile = () => api<Profile>('/api/user/profile/');

export const saveProfile = (patch: ProfilePatch) =>
  api<Profile>('/api/user/profile/', { method: 'PATCH', body: patch });

/** Sends the image as it is, with its own content type; the server checks both. */
export const uploadAvatar = (image: File) =>
  api<Profile>('/api/user/avatar/', { method: 'PUT', raw: { body: image, type: image.type } });

export const removeAvatar = () => api<Profile>('/api/user/avatar/', { method: 'DELETE' });

/** Changes the password: every other session ends, and this one gets a new token. */
export const changePassword = (change: PasswordChangeBody) =>
  api<RenewedSession>('/api/user/password/', { method: 'POST', body: change });

export function useProfile() {
  const query = useQuery({ queryKey: queryKeys.profile, queryFn: fetchProfile });
  useEffect(() => {
    if (query.data !== undefined) sessionStore.updateUser(query.data);
  }, [query.data]);
  return query;
}
