// A new thread on a board.
import { useNavigate, useParams } from 'react-router';
import { useBoard } from '../api/boards';
import { ErrorNotice } from '../ui/feedback';
import { Panel } from '../ui/Panel';
import { MessageComposer } from './MessageComposer';

export function ComposeScreen() {
  const { boardId = '' } = useParams();
  const navigate = useNavigate();
  const board = useBoard(boardId);
  return (
    <Panel headingLevel={1} title={`New thread${board.data ? ` on ${board.data.name}` : ''}`}>
      <ErrorNotice error={board.error} />
      <MessageComposer boardId={boardId} onPosted={(m) => navigate(`/messages/${m.id}`)} />
    </Panel>
  );
}
