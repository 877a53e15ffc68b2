// How the private-message screens name the two parties: `nickname@instance` for a user of another
// instance, the nickname (or the key's start) for a local one; and the address a reply goes to.
import type { ConversationParty, PrivateMessage } from '../api/types';

export const senderName = (m: PrivateMessage) =>
  m.from.instance === null ? m.from.nickname : `${m.from.nickname}@${m.from.instance}`;

export function recipientName(m: PrivateMessage): string {
  const name = m.to.nickname ?? `[${m.to.fingerprint.slice(0, 8)}]`;
  return m.to.instance === null ? name : `${name}@${m.to.instance}`;
}

/** Where a reply goes: the sender's key, at its instance when it lives on another. */
export const replyAddress = (m: PrivateMessage) =>
  m.from.instance === null ? m.from.fingerprint : `${m.from.fingerprint}@${m.from.instance}`;

/** A letter to another instance: whether it got there. */
export function deliveryText(m: PrivateMessage): string | undefined {
  const d = m.delivery;
  if (d === null) return undefined;
  if (d.state === 'pending') return `waiting to reach ${m.to.instance ?? 'the instance'}`;
  if (d.state === 'delivered') return `delivered to ${m.to.instance ?? 'the instance'}`;
  return `refused by ${m.to.instance ?? 'the instance'}: ${d.error ?? 'no reason given'}`;
}

/**
 * Where a private message to a board message's author goes: their key, at their instance for a
 * remote author (shown as `nickname@instance`); undefined for a remote author of unknown instance.
 */
export function authorAddress(author: {
  fingerprint: string;
  nickname: string;
  user_id: string | null;
}): string | undefined {
  if (author.user_id !== null) return author.fingerprint;
  const at = author.nickname.lastIndexOf('@');
  return at < 0 ? undefined : `${author.fingerprint}@${author.nickname.slice(at + 1)}`;
}

/** The other person of a conversation as the screens name them. */
export function partyName(party: ConversationParty): string {
  const name = party.nickname ?? `[${party.fingerprint.slice(0, 8)}]`;
  return party.instance === null ? name : `${name}@${party.instance}`;
}

/** Where a letter to the other person of a conversation goes: their key, at their instance. */
export const partyAddress = (party: ConversationParty) =>
  party.instance === null ? party.fingerprint : `${party.fingerprint}@${party.instance}`;

/** The other person of a letter, seen by `me` (the sender's view: the recipient). */
export const otherParty = (m: PrivateMessage, me: string | undefined): ConversationParty =>
  m.from.user_id === me ? m.to : m.from;

/** A Markdown quotation of a letter's text, for a reply that answers it. */
export const quoteOf = (body: string) =>
  `${body
    .split('\n')
    .map((line) => `> ${line}`)
    .join('\n')}\n\n`;
