// The federated object an edit of a message is (docs/federation.md, "Objects"): the new subject
// and body of the message `object_id`, signed by the message's author like the message itself.
import type { Message } from './messages.js';
import { signedNickname } from './messages.js';

/** The edit that signed the text a message holds now, rebuilt from the stored message. */
export function editObject(
  m: Pick<
    Message,
    'id' | 'subject' | 'body' | 'signature' | 'authorNickname' | 'authorInstance'
  > & {
    edited?: { id: string; at: number } | null;
  },
  authorPem: string,
): Record<string, unknown> & { signature: string } {
  const edit = m.edited!;
  return {
    type: 'edit',
    id: edit.id,
    object_id: m.id,
    subject: m.subject,
    body: m.body,
    // The nickname the message was signed with, so every version names its author alike.
    author: { pubkey: authorPem, nickname: signedNickname(m) },
    created_at: new Date(edit.at).toISOString(),
    signature: m.signature,
  };
}
