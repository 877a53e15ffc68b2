// The board list, in the sysop's display order, with how many threads hold posts a signed-in
// reader has not read.
import { Link } from 'react-router';
import { useBoards } from '../api/boards';
import { Empty, ErrorNotice, Loading } from '../ui/feedback';
import type { BoardListItem } from '../api/types';
import { Panel } from '../ui/Panel';
import { Time } from '../ui/text';
import { WhoIsOnline } from '../ui/WhoIsOnline';

/** "3 threads · 12 posts · last post by Bob at …", linking to that post. */
function BoardActivityLine({ activity }: { activity: BoardListItem['activity'] }) {
  const { thread_count: threads, post_count: posts, last_post: last } = activity;
  return (
    <p className="text-sm text-phosphor-dim">
      {threads} {threads === 1 ? 'thread' : 'threads'} · {posts} {posts === 1 ? 'post' : 'posts'}
      {last !== null && (
        <>
          {' '}
          · <Link to={`/messages/${last.id}`}>last post</Link> by{' '}
          {/* Local nicknames never hold "@": a remote author's (nickname@instance) has no profile here. */}
          {last.author.nickname.includes('@') ? (
            last.author.nickname
          ) : (
            <Link to={`/people/${last.author.fingerprint}`}>{last.author.nickname}</Link>
          )}{' '}
          at <Time iso={last.created_at} />
        </>
      )}
    </p>
  );
}

export function BoardsScreen() {
  const boards = useBoards();
  return (
    <>
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
                to={
                  board.is_realtime && board.name === 'AxonChat' ? '/chat' : `/boards/${board.id}`
                }
                className="text-lg font-bold"
              >
                {board.name}
              </Link>
              {board.is_realtime && <span className="ml-2 text-xs uppercase text-amber">live</span>}
              {(board.unread_threads ?? 0) > 0 && (
                <span className="ml-2 border border-amber px-1 text-xs text-amber">
                  {board.unread_threads} unread {board.unread_threads === 1 ? 'thread' : 'threads'}
                </span>
              )}
              {board.read_access !== 'public' && (
                <span className="ml-2 text-xs uppercase text-phosphor-dim">
                  {board.read_access} only
                </span>
              )}
              {board.description !== '' && (
                <p className="text-sm text-phosphor-dim">{board.description}</p>
              )}
              <BoardActivityLine activity={board.activity} />
            </li>
          ))}
        </ul>
      </Panel>
      <WhoIsOnline />
    </>
  );
}
