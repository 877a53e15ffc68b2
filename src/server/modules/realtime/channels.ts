// The realtime channels, typed: what is announced on the event hub and how its name is spelled.
// Everything that publishes or listens (boards, chat, rooms, bans, sessions, the federation log and
// its deliverers) names channels through here, never by string prefixes of its own.

export type Channel =
  /** Posts, deletions and changes of a board (seq: its event number, 0 for other changes). */
  | { kind: 'board'; boardId: string }
  /** A shared room's state moved to version seq. */
  | { kind: 'room'; roomKey: string }
  /** The banned pubkeys changed. */
  | { kind: 'bans' }
  /** Retention deleted messages. */
  | { kind: 'retention' }
  /** One session ended (logout). */
  | { kind: 'session'; idHash: string }
  /** Every session of a user ended, or the user was banned. */
  | { kind: 'user'; userId: string }
  /** The federation log grew to seq (delivery wakes on it; no page changes). */
  | { kind: 'federation' }
  /** A private message from another instance was stored for the user (seq: when, in ms). */
  | { kind: 'mail'; userId: string };

export function channelName(channel: Channel): string {
  switch (channel.kind) {
    case 'board':
      return `board:${channel.boardId}`;
    case 'room':
      return `room:${channel.roomKey}`;
    case 'session':
      return `session:${channel.idHash}`;
    case 'user':
      return `user:${channel.userId}`;
    case 'mail':
      return `mail:${channel.userId}`;
    case 'bans':
    case 'retention':
    case 'federation':
      return channel.kind;
  }
}

/** The channel a name spells; undefined for a name this version does not know ('*', wakeAll). */
export function parseChannel(name: string): Channel | undefined {
  const colon = name.indexOf(':');
  if (colon < 0) {
    return name === 'bans' || name === 'retention' || name === 'federation'
      ? { kind: name }
      : undefined;
  }
  const rest = name.slice(colon + 1);
  switch (name.slice(0, colon)) {
    case 'board':
      return { kind: 'board', boardId: rest };
    case 'room':
      return { kind: 'room', roomKey: rest };
    case 'session':
      return { kind: 'session', idHash: rest };
    case 'user':
      return { kind: 'user', userId: rest };
    case 'mail':
      return { kind: 'mail', userId: rest };
    default:
      return undefined;
  }
}
