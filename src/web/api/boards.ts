// Boards as readers see them: the list in display order, one board, and a board's messages (or
// thread starters) by numbered page.
import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import { queryKeys } from './keys';
import type { Board, BoardList, BoardPage } from './types';

export const BOARD_PAGE_SIZE = 25;

export const fetchBoards = (includeArchived = false) =>
  api<BoardList>('/api/boards/', { query: { include_archived: includeArchived || undefined } });

export const fetchBoard = (boardId: string) => api<Board>(`/api/boards/${boardId}/`);

/** A numbered page of a board, newest first: thread starters with reply counts, or every message. */
export const fetchBoardPage = (boardId: string, page: number, all: boolean) =>
  api<BoardPage>(`/api/boards/${boardId}/messages/`, {
    query: { page, limit: BOARD_PAGE_SIZE, threads: !all },
  });

/** The boards this reader may read (archived ones left out). */
export function useBoards() {
  return useQuery({ queryKey: queryKeys.boards, queryFn: () => fetchBoards() });
}

export function useBoard(boardId: string) {
  return useQuery({ queryKey: queryKeys.board(boardId), queryFn: () => fetchBoard(boardId) });
}

export function useBoardPage(boardId: string, page: number, all: boolean) {
  return useQuery({
    queryKey: queryKeys.boardMessages(boardId, page, all),
    queryFn: () => fetchBoardPage(boardId, page, all),
  });
}
