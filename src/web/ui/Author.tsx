// Who wrote something: nickname and the start of their key's fingerprint (nicknames are not unique).
// An author of another instance (`instance` set) is marked as such and links to their profile
// here; their nickname already reads nickname@instance, so it never passes for a local name.
// An agent (a backend service of this instance) carries a "bot" badge.
import { Link } from 'react-router';

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
  if (instance === null) {
    return (
      <span>
        <strong className="text-phosphor">{nickname}</strong> {isAgent && <BotBadge />} {key}
      </span>
    );
  }
  return (
    <span>
      {avatarUrl !== null && (
        <img src={avatarUrl} alt="" width={20} height={20} className="mr-1 inline align-middle" />
      )}
      <Link
        to={`/authors/${fingerprint}`}
        className="font-bold text-phosphor"
        aria-label={`${nickname}, an author of the instance ${instance}`}
      >
        {nickname}
      </Link>{' '}
      <span className="border border-line px-1 text-xs text-amber">remote</span> {key}
    </span>
  );
}
