// A user's public profile: avatar, nickname, role, join date, post count and their latest posts
// on boards the reader may read, with a way to write to them.
import { Link, useParams } from 'react-router';
import { usePerson } from '../api/people';
import { useSession } from '../api/session';
import { Avatar } from '../ui/Avatar';
import { Empty, ErrorNotice, Loading } from '../ui/feedback';
import { Panel } from '../ui/Panel';
import { Fingerprint, Time } from '../ui/text';

export function PersonScreen() {
  const { fingerprint = '' } = useParams();
  const session = useSession();
  const person = usePerson(fingerprint);
  if (person.isPending) return <Loading what="Loading the profile" />;
  if (person.error !== null) return <ErrorNotice error={person.error} />;
  const p = person.data;
  const self = session?.user.fingerprint === p.fingerprint;
  return (
    <>
      <Panel
        headingLevel={1}
        title={p.nickname}
        actions={
          session !== null && !self ? (
            <Link
              to={`/pm/with/${p.fingerprint}`}
              className="border border-phosphor px-2 text-sm uppercase no-underline"
            >
              Send a private message
            </Link>
          ) : undefined
        }
      >
        <div className="flex flex-wrap items-start gap-4">
          <Avatar url={p.avatar_url} name={p.nickname} size={96} />
          <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-sm">
            <dt className="text-phosphor-dim">Role</dt>
            <dd>{p.role}</dd>
            <dt className="text-phosphor-dim">Joined</dt>
            <dd>
              <Time iso={p.joined_at} />
            </dd>
            <dt className="text-phosphor-dim">Posts</dt>
            <dd>{p.post_count}</dd>
            <dt className="text-phosphor-dim">Key</dt>
            <dd>
              <Fingerprint value={p.fingerprint} />
            </dd>
          </dl>
        </div>
      </Panel>
      <Panel title="Recent posts">
        {p.recent_posts.length === 0 && <Empty>No posts you can read.</Empty>}
        <ol aria-label="Recent posts" className="divide-y divide-line">
          {p.recent_posts.map((post) => (
            <li key={post.id} className="py-2">
              <Link to={`/messages/${post.id}`} className="wrap-anywhere">
                {post.subject}
              </Link>
              <p className="text-sm text-phosphor-dim">
                in <Link to={`/boards/${post.board_id}`}>{post.board_name}</Link> ·{' '}
                <Time iso={post.created_at} />
              </p>
            </li>
          ))}
        </ol>
      </Panel>
    </>
  );
}
