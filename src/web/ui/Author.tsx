// Who wrote something: avatar, nickname (a link to their profile) and the start of their key's
// fingerprint (nicknames are not unique). An author of another instance (`instance` set) is marked
// as such and links to the profile this instance keeps of them; their nickname already reads
// nickname@instance, so it never passes for a local name. An agent (a backend service of this
// instance) carries a "bot" badge.
import { Link } from 'react-router';
import { Avatar } from './Avatar';

/** The mark beside an agent's name, wherever its posts and events show. */
export function BotBadge() {
  return (
    <span
      className="border border-line px-1 text-xs text-amber"
      title="An agent: a program run by this instance, not a person"
    >
      bot
    </span>
  );
}

export function Author({
  nickname,
  fingerprint,
  instance = null,
  avatarUrl = null,
  isAgent = false,
}: {
  nickname: string;
  fingerprint: string;
  instance?: string | null;
  avatarUrl?: string | null;
  isAgent?: boolean;
}) {
  const key = (
    <span className="text-xs text-phosphor-dim" title={`key ${fingerprint}`}>
      [{fingerprint.slice(0, 8)}]
    </span>
  );
  const local = instance === null;
  return (
    <span>
      <span className="mr-1">
        <Avatar url={avatarUrl} name={nickname} size={20} />
      </span>
      <Link
        to={local ? `/people/${fingerprint}` : `/authors/${fingerprint}`}
        className="font-bold text-phosphor"
        aria-label={local ? undefined : `${nickname}, an author of the instance ${instance}`}
      >
        {nickname}
      </Link>{' '}
      {isAgent && <BotBadge />}
      {!local && <span className="border border-line px-1 text-xs text-amber">remote</span>} {key}
    </span>
  );
}
