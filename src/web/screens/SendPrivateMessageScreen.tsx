// Writing a private message to a username, a key fingerprint or name@instance (a user of a trusted
// instance), with attachments (local letters only).
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { sendPrivateMessage } from '../api/private-messages';
import type { Upload } from '../api/types';
import { Button, TextInput } from '../ui/controls';
import { PRIVATE_DRAFT, useDraft } from '../ui/draft';
import { ErrorNotice } from '../ui/feedback';
import { LetterFields } from '../ui/LetterFields';
import { Panel } from '../ui/Panel';
import { queryKeys } from '../api/keys';

export function SendPrivateMessageScreen() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const presetTo = params.get('to') ?? '';
  // Reply on one letter: the letter answered goes with it (sealed), as in a conversation.
  const replyTo = params.get('reply_to') ?? undefined;
  const { draft, update, clear } = useDraft(`${PRIVATE_DRAFT}${presetTo}`, {
    to: presetTo,
    subject: params.get('subject') ?? '',
    body: '',
    attachments: [] as Upload[],
  });
  const send = useMutation({
    mutationFn: () =>
      sendPrivateMessage({
        to: draft.to.trim(),
        subject: draft.subject,
        body: draft.body,
        attachments: draft.attachments.map((a) => a.content_hash),
        ...(replyTo === undefined ? {} : { reply_to: replyTo }),
      }),
    onSuccess: (pm) => {
      clear();
      void queryClient.invalidateQueries({ queryKey: queryKeys.privateMessages });
      navigate(`/pm/${pm.id}`);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    send.mutate();
  };
  return (
    <Panel headingLevel={1} title="Write a private message">
      <form onSubmit={submit} aria-label="Private message">
        <TextInput
          label="To"
          hint="A username, the 64-hex fingerprint of their key, or name@instance for someone on a trusted instance"
          required
          maxLength={320}
          value={draft.to}
          onChange={(e) => update('to', e.target.value)}
        />
        <LetterFields draft={draft} update={update} />
        <ErrorNotice error={send.error} />
        <Button type="submit" disabled={send.isPending}>
          {send.isPending ? 'Sealing and sending…' : 'Send'}
        </Button>
      </form>
    </Panel>
  );
}
