// What sysops manage: every account with its roles and rights, and every board (archived ones
// too), created and changed here.
import { useQuery } from '@tanstack/react-query';
import { fetchBoards } from './boards';
import { api } from './client';
import { queryKeys } from './keys';
import { usePages } from './pages';
import type { AdminUser, Board, BoardInput, BoardPatch, Page, UserFlagsPatch } from './types';

const USERS_PAGE_SIZE = 50;

export const updateUserFlags = (username: string, flags: UserFlagsPatch) =>
  api<AdminUser>(`/api/admin/users/${encodeURIComponent(username)}/`, {
    method: 'PATCH',
    body: flags,
  });

export const createBoard = (board: BoardInput) =>
  api<Board>('/api/boards/', { method: 'POST', body: board });

export const updateBoard = (boardId: string, patch: BoardPatch) =>
  api<Board>(`/api/boards/${boardId}/`, { method: 'PATCH', body: patch });

export const fetchAdminUsers = (cursor?: string) =>
  api<Page<AdminUser>>('/api/admin/users/', { query: { cursor, limit: USERS_PAGE_SIZE } });

/** Accounts in sign-up order, a page at a time. */
export function useAdminUsers() {
  return usePages(queryKeys.adminUsers, fetchAdminUsers);
}

/** Every board, archived ones included. */
export function useAllBoards() {
  return useQuery({ queryKey: queryKeys.allBoards, queryFn: () => fetchBoards(true) });
}
