// One report as a moderator works it: the reported message and who reported it, uphold or dismiss
// with a note, and the actions at hand — remove the post, ban its author — without typing a name.
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { queryKeys } from '../../api/keys';
import { banKey, banUser, resolveReport } from '../../api/moderation';
import type { Report } from '../../api/types';
import { Author } from '../../ui/Author';
import { Button, TextInput } from '../../ui/controls';
import { ErrorNotice } from '../../ui/feedback';
import { Markdown, Time } from '../../ui/text';
import { ActionForm, BanTerms, type DurationLabel, secondsOf, useAfterAction } from './forms';

/** What a ban of the reported author ends as, for the notice: who and until when. */
interface AuthorBan {
  who: string;
  until: string | null;
}

/**
 * Bans the reported message's author: their local account by name, or for a remote author their
 * key (content signed with it is refused here and from peers).
 */
function BanAuthorForm({ report }: { report: Report }) {
  const { snapshot } = report;
  const [reason, setReason] = useState(report.reason);
  const [duration, setDuration] = useState<DurationLabel>('7 days');
  const afterAction = useAfterAction();
  const ban = useMutation({
    mutationFn: async (): Promise<AuthorBan> => {
      const terms = { reason, duration_seconds: secondsOf(duration) };
      if (report.author_username !== null) {
        const banned = await banUser(report.author_username, terms);
        return { who: banned.username, until: banned.banned_until };
      }
      const banned = await banKey({ pubkey: snapshot.author_fingerprint, ...terms });
      return { who: snapshot.author_nickname, until: banned.expires_at };
    },
    onSuccess: () => afterAction(queryKeys.adminUsers, queryKeys.bannedKeys),
  });
  return (
    <ActionForm
      label={`Ban ${snapshot.author_nickname}`}
      heading
      className="mt-3 border border-line p-3"
      action={ban}
      submit={() => ban.mutate()}
      submitLabel="Ban the author"
      danger
      done={({ who, until }) => (
        <>
          {who} is banned{' '}
          {until === null ? (
            'for good'
          ) : (
            <>
              until <Time iso={until} />
            </>
          )}
          .
        </>
      )}
    >
      <p className="mb-2 text-sm text-phosphor-dim">
        {report.author_username !== null
          ? `Bans the account ${report.author_username}; its sessions end at once.`
          : 'A remote author: bans their key on this instance.'}
      </p>
      <BanTerms reason={reason} onReason={setReason} duration={duration} onDuration={setDuration} />
    </ActionForm>
  );
}

export function ReportCard({
  report,
  selected,
  onSelect,
  onResolved,
}: {
  report: Report;
  /** Whether the report is among those a bulk action will take (open reports only). */
  selected: boolean;
  onSelect: (selected: boolean) => void;
  onResolved: (r: Report) => void;
}) {
  const [deleteMessage, setDeleteMessage] = useState(false);
  const [note, setNote] = useState('');
  const [banning, setBanning] = useState(false);
  const resolve = useMutation({
    mutationFn: (decision: { action: 'uphold' | 'dismiss'; deleteMessage: boolean }) =>
      resolveReport(report.id, {
        action: decision.action,
        delete_message: decision.action === 'uphold' && decision.deleteMessage,
        note: note.trim() === '' ? null : note.trim(),
      }),
    onSuccess: onResolved,
  });
  const { snapshot } = report;
  const open = report.status === 'open';
  return (
    <article aria-label={`Report on “${snapshot.subject}”`} className="mb-3 border border-line p-3">
      <div className="flex items-start gap-2">
        {open && (
          <input
            type="checkbox"
            className="mt-1.5"
            aria-label={`Select the report on “${snapshot.subject}”`}
            checked={selected}
            onChange={(e) => onSelect(e.target.checked)}
          />
        )}
        <h3 className="min-w-0 break-words font-bold text-amber">{snapshot.subject}</h3>
      </div>
      <p className="text-sm text-phosphor-dim">
        by <Author nickname={snapshot.author_nickname} fingerprint={snapshot.author_fingerprint} />{' '}
        · reported <Time iso={report.created_at} />
        {report.reporter !== null && (
          <>
            {' '}
            by{' '}
            <strong className="text-phosphor">
              {report.reporter.nickname} ({report.reporter.username})
            </strong>
          </>
        )}
      </p>
      <p className="my-2">
        <span className="text-amber">Reason:</span> {report.reason}
      </p>
      <div className="my-2 max-h-64 overflow-y-auto border-l-4 border-line pl-3">
        <Markdown source={snapshot.body} />
      </div>
      <p className="text-sm">
        {report.message_exists ? (
          <Link to={`/messages/${report.message_id}`}>Open the message</Link>
        ) : (
          <span className="text-phosphor-dim">The message has been deleted.</span>
        )}
      </p>
      <div className="mt-3 flex flex-wrap gap-2">
        {open && report.message_exists && (
          <Button
            variant="danger"
            disabled={resolve.isPending}
            onClick={() => resolve.mutate({ action: 'uphold', deleteMessage: true })}
          >
            Remove the post
          </Button>
        )}
        <Button variant="plain" aria-expanded={banning} onClick={() => setBanning(!banning)}>
          {banning ? 'Keep the author' : 'Ban the author…'}
        </Button>
      </div>
      {banning && <BanAuthorForm report={report} />}
      {open ? (
        <form aria-label="Resolve report" className="mt-3" onSubmit={(e) => e.preventDefault()}>
          <label className="mb-2 flex items-center gap-2">
            <input
              type="checkbox"
              checked={deleteMessage}
              disabled={!report.message_exists}
              onChange={(e) => setDeleteMessage(e.target.checked)}
            />
            Delete the message (when upholding)
          </label>
          <TextInput
            label="Note"
            maxLength={500}
            value={note}
            onChange={(e) => setNote(e.target.value)}
            hint="Optional; kept with the decision and in the modlog."
          />
          <ErrorNotice error={resolve.error} />
          <div className="flex flex-wrap gap-2">
            <Button
              disabled={resolve.isPending}
              onClick={() => resolve.mutate({ action: 'uphold', deleteMessage })}
            >
              Uphold
            </Button>
            <Button
              variant="plain"
              disabled={resolve.isPending}
              onClick={() => resolve.mutate({ action: 'dismiss', deleteMessage: false })}
            >
              Dismiss
            </Button>
          </div>
        </form>
      ) : (
        <p className="mt-2 text-sm">
          <span className="uppercase text-amber">{report.status}</span>
          {report.resolved_at !== null && (
            <>
              {' '}
              <Time iso={report.resolved_at} />
            </>
          )}
          {report.resolution_note !== null && <> — {report.resolution_note}</>}
        </p>
      )}
    </article>
  );
}
