// Editing a post in its thread: the author's edit form (with a preview), and the "edited" mark,
// which opens the post's versions for its author and moderators.
import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { editMessage, useVersions } from '../api/edits';
import type { VerifiedMessage } from '../api/types';
import { Button, TextArea, TextInput } from '../ui/controls';
import { ErrorNotice, Loading } from '../ui/feedback';
import { MarkdownPreview } from '../ui/MarkdownPreview';
import { Markdown, Time } from '../ui/text';

const BODY_MAX_BYTES = 64 * 1024;

export function EditForm({
  message,
  onDone,
}: {
  message: VerifiedMessage;
  /** Called after a save (true) or a cancel (false). */
  onDone: (saved: boolean) => void;
}) {
  const [subject, setSubject] = useState(message.subject);
  const [body, setBody] = useState(message.body);
  const [tooLong, setTooLong] = useState(false);
  const save = useMutation({
    mutationFn: () => editMessage(message.id, { subject, body }),
    onSuccess: () => onDone(true),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const over = new TextEncoder().encode(body).length > BODY_MAX_BYTES;
    setTooLong(over);
    if (!over) save.mutate();
  };
  return (
    <form onSubmit={submit} aria-label="Edit this message" className="mt-2">
      <TextInput
        label="Subject"
        required
        maxLength={255}
        value={subject}
        onChange={(e) => setSubject(e.target.value)}
      />
      <TextArea
        label="Message"
        required
        error={tooLong ? 'The message is longer than 64 KiB.' : undefined}
        value={body}
        onChange={(e) => setBody(e.target.value)}
      />
      <MarkdownPreview source={body} />
      <p className="mb-2 text-xs text-phosphor-dim">
        Saving signs the new version with your key. Your earlier versions stay visible to you and to
        moderators.
      </p>
      <ErrorNotice error={save.error} />
      <div className="flex gap-2">
        <Button type="submit" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : 'Save changes'}
        </Button>
        <Button variant="plain" onClick={() => onDone(false)}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

/** Every version of a post, oldest first, each with its signature check. */
export function VersionHistory({ message }: { message: VerifiedMessage }) {
  const versions = useVersions(message.id, message.edited_at);
  if (versions.isPending) return <Loading what="Loading the versions" />;
  if (versions.error !== null) return <ErrorNotice error={versions.error} />;
  const items = versions.data.pages.flatMap((page) => page.items);
  return (
    <section aria-label="Versions" className="mt-2 border border-dashed border-line p-3">
      <ol className="flex flex-col gap-3">
        {items.map((v) => (
          <li key={v.version} aria-label={`Version ${v.version}`}>
            <p className="text-xs text-phosphor-dim">
              Version {v.version}
              {v.version === 1 ? ' (as first posted)' : ''} · <Time iso={v.created_at} /> ·{' '}
              {v.signature_valid ? '✔ signed' : '✖ signature does not match'}
              {v.current ? ' · shown now' : ''}
            </p>
            <p className="font-bold text-amber wrap-anywhere">{v.subject}</p>
            <Markdown source={v.body} />
          </li>
        ))}
      </ol>
      {versions.hasNextPage && (
        <Button
          variant="plain"
          className="mt-2 text-xs"
          disabled={versions.isFetchingNextPage}
          onClick={() => void versions.fetchNextPage()}
        >
          {versions.isFetchingNextPage ? 'Loading…' : 'More versions'}
        </Button>
      )}
    </section>
  );
}

/**
 * "edited <time>" beside a post its author changed; for its author and moderators a button that
 * opens its versions (VersionHistory, shown by the post).
 */
export function EditedMark({
  message,
  history,
}: {
  message: VerifiedMessage;
  /** Given to the author and moderators: whether the versions show, and the toggle. */
  history?: { open: boolean; toggle: () => void } | undefined;
}) {
  if (message.edited_at === null) return null;
  const mark = (
    <>
      edited <Time iso={message.edited_at} />
    </>
  );
  return (
    <>
      {' · '}
      {history !== undefined ? (
        <button
          type="button"
          className="cursor-pointer underline"
          aria-expanded={history.open}
          onClick={history.toggle}
        >
          {mark}
          <span className="sr-only"> (versions)</span>
        </button>
      ) : (
        <span>{mark}</span>
      )}
    </>
  );
}
