// Writing a message or a reply, with attachments. The draft is kept until it is posted.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { queryKeys } from '../api/keys';
import { postMessage } from '../api/messages';
import type { Message, Upload } from '../api/types';
import { Button } from '../ui/controls';
import { useDraft } from '../ui/draft';
import { ErrorNotice } from '../ui/feedback';
import { LetterFields } from '../ui/LetterFields';
import { MarkdownPreview } from '../ui/MarkdownPreview';
import { withQuote } from '../ui/quote';

const BODY_MAX_BYTES = 64 * 1024;

export function MessageComposer({
  boardId,
  parent,
  onPosted,
  quote,
}: {
  boardId: string;
  parent?: { id: string; subject: string };
  onPosted: (message: Message) => void;
  /** A quote to add to the body (each new `n` adds it once), and the writer goes on below it. */
  quote?: { text: string; n: number } | undefined;
}) {
  const queryClient = useQueryClient();
  const replySubject =
    parent === undefined
      ? ''
      : parent.subject.startsWith('Re: ')
        ? parent.subject
        : `Re: ${parent.subject}`;
  const { draft, update, clear } = useDraft(`message:${boardId}:${parent?.id ?? 'new'}`, {
    subject: replySubject,
    body: '',
    attachments: [] as Upload[],
  });
  const [tooLong, setTooLong] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const quoted = useRef(0);
  useEffect(() => {
    if (quote === undefined || quote.n === quoted.current) return;
    quoted.current = quote.n;
    update('body', withQuote(draft.body, quote.text));
    const body = form.current?.querySelector('textarea');
    body?.focus();
    body?.scrollIntoView({ block: 'center' });
    // Only a new quote adds text; the draft's own changes must not add it again.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [quote]);
  const post = useMutation({
    mutationFn: () =>
      postMessage({
        board_id: boardId,
        subject: draft.subject,
        body: draft.body,
        ...(parent === undefined ? {} : { parent_id: parent.id }),
        attachments: draft.attachments.map((a) => a.content_hash),
      }),
    onSuccess: (message) => {
      clear();
      void queryClient.invalidateQueries({ queryKey: queryKeys.board(boardId) });
      void queryClient.invalidateQueries({ queryKey: queryKeys.threads });
      onPosted(message);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const over = new TextEncoder().encode(draft.body).length > BODY_MAX_BYTES;
    setTooLong(over);
    if (!over) post.mutate();
  };
  return (
    <form ref={form} onSubmit={submit} aria-label={parent === undefined ? 'New message' : 'Reply'}>
      <LetterFields
        draft={draft}
        update={update}
        bodyHint="Markdown: **bold**, *italic*, `code`, > quotes, - lists, [links](https://…)"
        bodyError={tooLong ? 'The message is longer than 64 KiB.' : undefined}
      />
      <MarkdownPreview source={draft.body} />
      <ErrorNotice error={post.error} />
      <Button type="submit" disabled={post.isPending}>
        {post.isPending ? 'Posting…' : parent === undefined ? 'Post' : 'Post reply'}
      </Button>
    </form>
  );
}
