// The board list, in the sysop's display order.
import { Link } from 'react-router';
import { useBoards } from '../api/boards';
import { Empty, ErrorNotice, Loading } from '../ui/feedback';
import { Panel } from '../ui/Panel';

export function BoardsScreen() {
  const boards = useBoards();
  return (
    <Panel title="Message boards" headingLevel={1}>
      {boards.isPending && <Loading what="Loading boards" />}
      <ErrorNotice error={boards.error} />
      {boards.data?.items.length === 0 && (
        <Empty>No boards yet. A sysop creates them under Admin.</Empty>
      )}
      <ul className="divide-y divide-line">
        {boards.data?.items.map((board) => (
          <li key={board.id} className="py-2">
            <Link
              to={board.is_realtime && board.name === 'AxonChat' ? '/chat' : `/boards/${board.id}`}
              className="text-lg font-bold"
            >
              {board.name}
            </Link>
            {board.is_realtime && <span className="ml-2 text-xs uppercase text-amber">live</span>}
            {board.read_access !== 'public' && (
              <span className="ml-2 text-xs uppercase text-phosphor-dim">
                {board.read_access} only
              </span>
            )}
            {board.description !== '' && (
              <p className="text-sm text-phosphor-dim">{board.description}</p>
            )}
          </li>
        ))}
      </ul>
    </Panel>
  );
}
