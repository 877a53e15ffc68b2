// The profile of an author of another instance: shown as nickname@instance with their avatar and
// key, and said plainly to be no user of this instance.
import { useParams } from 'react-router';
import { useRemoteAuthor } from '../api/remote-authors';
import { ErrorNotice, Loading } from '../ui/feedback';
import { Panel } from '../ui/Panel';
import { Fingerprint, Time } from '../ui/text';

export function RemoteAuthorScreen() {
  const { fingerprint = '' } = useParams();
  const author = useRemoteAuthor(fingerprint);
  if (author.isPending) return <Loading what="Loading the author" />;
  if (author.error !== null) return <ErrorNotice error={author.error} />;
  const a = author.data;
  return (
    <Panel title={a.display_name}>
      <div className="flex flex-wrap items-start gap-4">
        {a.avatar_url !== null && (
          <img
            src={a.avatar_url}
            alt={`Avatar of ${a.display_name}`}
            width={96}
            height={96}
            className="border border-line"
          />
        )}
        <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-sm">
          <dt className="text-phosphor-dim">Nickname</dt>
          <dd>{a.nickname}</dd>
          <dt className="text-phosphor-dim">Instance</dt>
          <dd>{a.instance}</dd>
          <dt className="text-phosphor-dim">Key</dt>
          <dd>
            <Fingerprint value={a.fingerprint} />
          </dd>
          <dt className="text-phosphor-dim">Bio</dt>
          <dd>{a.bio ?? '—'}</dd>
          <dt className="text-phosphor-dim">Profile</dt>
          <dd>
            {a.profile_at === null ? 'no profile update received' : <Time iso={a.profile_at} />}
          </dd>
          <dt className="text-phosphor-dim">Messages here</dt>
          <dd>{a.message_count}</dd>
        </dl>
      </div>
      <p className="mt-3 text-sm text-amber">
        A remote author: an identity of the instance {a.instance}, not a user of this BBS.
      </p>
    </Panel>
  );
}
