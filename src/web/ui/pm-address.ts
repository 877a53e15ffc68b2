// How the private-message screens name the two parties: `nickname@instance` for a user of another
// instance, the nickname (or the key's start) for a local one; and the address a reply goes to.
import type { PrivateMessage } from '../api/types';

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
