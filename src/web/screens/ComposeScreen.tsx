// A new thread on a board.
import { useQuery } from '@tanstack/react-query';
import { useNavigate, useParams } from 'react-router';
import { api } from '../api/client';
import type { Board } from '../api/types';
import { ErrorNotice } from '../ui/feedback';
import { Panel } from '../ui/Panel';
import { MessageComposer } from './MessageComposer';
import { queryKeys } from '../api/keys';

export function ComposeScreen() {
  const { boardId = '' } = useParams();
  const navigate = useNavigate();
  const board = useQuery({
    queryKey: queryKeys.board(boardId),
    queryFn: () => api<Board>(`/api/boards/${boardId}/`),
  });
  return (
    <Panel headingLevel={1} title={`New thread${board.data ? ` on ${board.data.name}` : ''}`}>
      <ErrorNotice error={board.error} />
      <MessageComposer boardId={boardId} onPosted={(m) => navigate(`/messages/${m.id}`)} />
    </Panel>
  );
}
