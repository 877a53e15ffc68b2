// One conversation: the letters with one person in order (showing them marks them read), each
// saying which letter it answers; a reply written below answers a chosen letter and can quote it.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { queryKeys } from '../api/keys';
import { sendPrivateMessage, useConversation } from '../api/private-messages';
import { useSession } from '../api/session';
import type { ConversationParty, PrivateMessage } from '../api/types';
import { AttachmentList } from '../ui/AttachmentList';
import { Avatar } from '../ui/Avatar';
import { Button, TextArea, TextInput } from '../ui/controls';
import { Empty, ErrorNotice, Loading } from '../ui/feedback';
import { Panel } from '../ui/Panel';
import { Markdown, Time } from '../ui/text';
import { deliveryText, otherParty, partyAddress, partyName, quoteOf } from '../ui/pm-address';

const reSubject = (subject: string) => (subject.startsWith('Re: ') ? subject : `Re: ${subject}`);

/** A person's name, linked to their profile when they are a user of this instance. */
function PartyName({ party }: { party: ConversationParty }) {
  const name = partyName(party);
  return party.user_id === null ? (
    <strong title={`key ${party.fingerprint}`}>{name}</strong>
  ) : (
    <Link
      to={`/people/${party.fingerprint}`}
      className="font-bold"
      title={`key ${party.fingerprint}`}
    >
      {name}
    </Link>
  );
}

function Letter({
  m,
  answered,
  onReply,
  onQuote,
}: {
  m: PrivateMessage;
  /** The letter this one answers, when it is on the page; undefined when it is not. */
  answered: PrivateMessage | undefined;
  onReply: () => void;
  onQuote: () => void;
}) {
  const sender = { ...m.from, nickname: m.from.nickname };
  const delivery = deliveryText(m);
  return (
    <li id={`pm-${m.id}`} className="py-3" aria-label={`${partyName(sender)}: ${m.subject}`}>
      <p className="mb-1 flex flex-wrap items-center gap-x-2 text-sm text-phosphor-dim">
        <Avatar url={m.from.avatar_url} name={partyName(sender)} size={28} />
        <PartyName party={sender} />
        <Time iso={m.created_at} />
        <span>{m.signature_valid ? '✔ signed' : '✖ signature does not match'}</span>
      </p>
      {m.reply_to !== null && (
        <p className="mb-1 border-l-2 border-line pl-2 text-xs text-phosphor-dim">
          {answered === undefined ? (
            'In reply to an earlier letter'
          ) : (
            <>
              In reply to <a href={`#pm-${answered.id}`}>{answered.subject}</a>
            </>
          )}
        </p>
      )}
      <p className="font-bold wrap-anywhere">{m.readable ? m.subject : '(damaged message)'}</p>
      {m.readable ? (
        <Markdown source={m.body} />
      ) : (
        <p>This message is damaged and cannot be opened.</p>
      )}
      <AttachmentList attachments={m.attachments} />
      {delivery !== undefined && (
        <p
          className={`text-sm ${m.delivery?.state === 'refused' ? 'text-amber' : 'text-phosphor-dim'}`}
        >
          {delivery}
        </p>
      )}
      {m.readable && (
        <div className="mt-1 flex gap-3 text-sm">
          <button type="button" className="cursor-pointer underline" onClick={onReply}>
            Reply
          </button>
          <button type="button" className="cursor-pointer underline" onClick={onQuote}>
            Quote
          </button>
          <Link to={`/pm/${m.id}`}>Open</Link>
        </div>
      )}
    </li>
  );
}

export function ConversationScreen() {
  const { fingerprint = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const cursor = params.get('cursor') ?? undefined;
  const session = useSession();
  const queryClient = useQueryClient();
  const page = useConversation(fingerprint, cursor);
  const [answering, setAnswering] = useState<PrivateMessage | null>(null);
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('');
  const letters = page.data?.items ?? [];
  const newest = letters.at(-1);
  const party: ConversationParty | undefined =
    newest === undefined ? undefined : otherParty(newest, session?.user.id);
  const send = useMutation({
    mutationFn: () =>
      sendPrivateMessage({
        to: party === undefined ? fingerprint : partyAddress(party),
        subject:
          subject.trim() === '' && newest !== undefined ? reSubject(newest.subject) : subject,
        body,
        ...(answering === null ? {} : { reply_to: answering.id }),
      }),
    onSuccess: () => {
      setAnswering(null);
      setSubject('');
      setBody('');
      void queryClient.invalidateQueries({ queryKey: queryKeys.privateMessages });
    },
  });
  const answer = (m: PrivateMessage, quote: boolean) => {
    setAnswering(m);
    setSubject(reSubject(m.subject));
    if (quote) setBody((b) => `${quoteOf(m.body)}${b}`);
    document.querySelector<HTMLTextAreaElement>('form[aria-label="Reply"] textarea')?.focus();
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    send.mutate();
  };
  if (page.isPending) return <Loading what="Opening the conversation" />;
  if (page.error !== null) return <ErrorNotice error={page.error} />;
  const title = party === undefined ? `[${fingerprint.slice(0, 8)}]` : partyName(party);
  return (
    <Panel
      headingLevel={1}
      title={
        <span className="flex items-center gap-2">
          {party !== undefined && <Avatar url={party.avatar_url} name={title} size={32} />}
          Conversation with {title}
        </span>
      }
      actions={<Link to="/pm">All conversations</Link>}
    >
      <p className="mb-2 text-xs text-phosphor-dim">
        Sealed end to end: only you and {party === undefined ? 'them' : <PartyName party={party} />}{' '}
        can open these letters.
      </p>
      {page.data.next_cursor !== null && (
        <button
          type="button"
          className="mb-2 cursor-pointer underline"
          onClick={() => setParams({ cursor: page.data.next_cursor! })}
        >
          ← Earlier letters
        </button>
      )}
      {letters.length === 0 && <Empty>No letters with this person yet.</Empty>}
      <ol aria-label="Letters" className="divide-y divide-line">
        {letters.map((m) => (
          <Letter
            key={m.id}
            m={m}
            answered={letters.find((a) => a.id === m.reply_to)}
            onReply={() => answer(m, false)}
            onQuote={() => answer(m, true)}
          />
        ))}
      </ol>
      {cursor !== undefined && (
        <button
          type="button"
          className="mt-2 cursor-pointer underline"
          onClick={() => setParams({})}
        >
          Latest letters →
        </button>
      )}
      <form onSubmit={submit} aria-label="Reply" className="mt-4 border-t border-line pt-3">
        {answering !== null && (
          <div className="mb-2 border-l-2 border-amber pl-2 text-sm" aria-label="Answering">
            <p>
              Answering <strong>{answering.subject}</strong> of <Time iso={answering.created_at} />{' '}
              <button
                type="button"
                className="cursor-pointer underline"
                onClick={() => setAnswering(null)}
              >
                Cancel
              </button>
            </p>
            <p className="line-clamp-2 text-phosphor-dim wrap-anywhere">{answering.body}</p>
          </div>
        )}
        <TextInput
          label="Subject"
          maxLength={255}
          placeholder={newest === undefined ? '' : reSubject(newest.subject)}
          value={subject}
          onChange={(e) => setSubject(e.target.value)}
        />
        <TextArea
          label="Message"
          required
          rows={5}
          value={body}
          onChange={(e) => setBody(e.target.value)}
        />
        <ErrorNotice error={send.error} />
        <Button type="submit" disabled={send.isPending || (newest === undefined && subject === '')}>
          {send.isPending ? 'Sealing and sending…' : 'Send'}
        </Button>
      </form>
    </Panel>
  );
}
