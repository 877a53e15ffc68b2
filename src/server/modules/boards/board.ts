// The Board as services see it.
import type { Selectable } from 'kysely';
import type { BoardsTable } from '../../db/schema.js';
import type { AccessLevel, BoardAccess } from '../accounts/permissions.js';
import { channelName } from '../realtime/channels.js';

export interface Board extends BoardAccess {
  id: string;
  name: string;
  description: string;
  isRealtime: boolean;
  federationRoomId: string | null;
  trustedPeers: string[];
  /** The peer whose board created the shared room (its single writer); null: this instance. */
  federationHome: string | null;
  messageRetentionDays: number | null;
  position: number;
  /** How its threads are listed: by latest post ('activity') or by opening post ('created'). */
  threadOrder: ThreadOrder;
  /** The last event number given out on the board. */
  eventSeq: number;
  createdAt: number;
  updatedAt: number;
}

export type ThreadOrder = 'activity' | 'created';

export function toBoard(row: Selectable<BoardsTable>): Board {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    isRealtime: Boolean(row.is_realtime),
    federationRoomId: row.federation_room_id,
    trustedPeers: JSON.parse(row.trusted_peers) as string[],
    federationHome: row.federation_home ?? null,
    messageRetentionDays: row.message_retention_days,
    readAccess: row.read_access as AccessLevel,
    postAccess: row.post_access as AccessLevel,
    isArchived: Boolean(row.is_archived),
    position: row.position,
    threadOrder: row.thread_order === 'created' ? 'created' : 'activity',
    eventSeq: row.event_seq,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The `board` value a message's signed object carries: the federation room when there is one. */
export const boardRef = (board: Board) => board.federationRoomId ?? board.id;

/** The event hub channel of a board: posts, deletions and changes are announced on it. */
export const boardChannel = (boardId: string) => channelName({ kind: 'board', boardId });
