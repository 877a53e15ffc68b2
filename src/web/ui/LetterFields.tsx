// The fields a board message and a private message share: subject, Markdown body, attachments.
import type { ReactNode } from 'react';
import type { Upload } from '../api/types';
import { AttachmentPicker } from './AttachmentPicker';
import { TextArea, TextInput } from './controls';

export interface Letter {
  subject: string;
  body: string;
  attachments: Upload[];
}

export function LetterFields({
  draft,
  update,
  bodyHint,
  bodyError,
}: {
  draft: Letter;
  /** The draft's field setter (useDraft's update), for drafts that hold more than a letter too. */
  update: {
    (field: 'subject' | 'body', value: string): void;
    (field: 'attachments', value: Upload[]): void;
  };
  bodyHint?: ReactNode;
  bodyError?: string | undefined;
}) {
  return (
    <>
      <TextInput
        label="Subject"
        required
        maxLength={255}
        value={draft.subject}
        onChange={(e) => update('subject', e.target.value)}
      />
      <TextArea
        label="Message"
        required
        hint={bodyHint}
        error={bodyError}
        value={draft.body}
        onChange={(e) => update('body', e.target.value)}
      />
      <AttachmentPicker
        attached={draft.attachments}
        onChange={(list) => update('attachments', list)}
      />
    </>
  );
}
