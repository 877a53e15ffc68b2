// "Who's online" outside chat: the people seen lately in the live rooms the reader may read, with
// their avatars, linked to their profiles (a peer's user is named as their instance reported).
import { useOnline } from '../api/people';
import { Link } from 'react-router';
import { Avatar } from './Avatar';
import { Panel } from './Panel';

export function WhoIsOnline() {
  const online = useOnline();
  if (online.data === undefined) return null;
  const people = online.data.items;
  return (
    <Panel title={`Who's online (${people.length}${online.data.truncated ? '+' : ''})`}>
      {people.length === 0 ? (
        <p className="text-sm text-phosphor-dim">Nobody is in the live rooms right now.</p>
      ) : (
        <ul aria-label="Who's online" className="flex flex-wrap gap-x-4 gap-y-2">
          {people.map((p) => (
            <li
              key={p.user_id ?? `remote:${p.nickname}`}
              className="flex items-center gap-1"
              title={`in ${p.rooms.map((r) => r.name).join(', ')}`}
            >
              <Avatar url={p.avatar_url} name={p.nickname} size={20} />
              {p.fingerprint === null ? (
                <span>{p.nickname}</span>
              ) : (
                <Link to={`/people/${p.fingerprint}`}>{p.nickname}</Link>
              )}
            </li>
          ))}
        </ul>
      )}
      <p className="mt-2 text-xs text-phosphor-dim">Seen in a live room within the last minute.</p>
    </Panel>
  );
}
