// Boards and messages as answers show them: shared by every module that answers with a board or a
// message (boards, chat), so none imports another's routes.
import type { z } from 'zod';
import { renderMarkdown } from '../../../shared/markdown.js';
import { can } from '../accounts/permissions.js';
import type { User } from '../accounts/user.js';
import type { BoardActivity } from './activity.js';
import type { Board } from './board.js';
import type { Message } from './messages.js';
import type {
  BoardActivity as BoardActivitySchema,
  BoardSchema,
  MessageInPage,
  MessageSchema,
} from './schema.js';

const iso = (ms: number) => new Date(ms).toISOString();

export function presentBoard(board: Board, viewer: User | null): z.output<typeof BoardSchema> {
  return {
    id: board.id,
    name: board.name,
    description: board.description,
    is_realtime: board.isRealtime,
    federation_room_id: board.federationRoomId,
    trusted_peers: board.trustedPeers,
    federation_home: board.federationHome,
    message_retention_days: board.messageRetentionDays,
    read_access: board.readAccess,
    post_access: board.postAccess,
    is_archived: board.isArchived,
    position: board.position,
    thread_order: board.threadOrder,
    can_post: can(viewer, 'post_to_board', { board }),
    created_at: iso(board.createdAt),
  };
}

/** A board's activity on the board list: counts and the latest post. */
export function presentActivity(a: BoardActivity): z.output<typeof BoardActivitySchema> {
  return {
    thread_count: a.threadCount,
    post_count: a.postCount,
    last_post:
      a.lastPost === null
        ? null
        : {
            id: a.lastPost.id,
            thread_id: a.lastPost.threadId,
            subject: a.lastPost.subject,
            author: { nickname: a.lastPost.nickname, fingerprint: a.lastPost.fingerprint },
            created_at: iso(a.lastPost.createdAt),
          },
  };
}

/** A message as a board page lists it: the text as written (clients render it with the shared
 * safe renderer, src/shared/markdown.ts), which keeps pages half the size. */
export function presentInPage(
  m: Message,
  avatars?: ReadonlyMap<string, string>,
): z.output<typeof MessageInPage> {
  return {
    id: m.id,
    board_id: m.boardId,
    parent_id: m.parentId,
    thread_id: m.threadId,
    subject: m.subject,
    body: m.body,
    author: {
      fingerprint: m.authorFingerprint,
      nickname: m.authorNickname,
      user_id: m.authorId,
      instance: m.authorInstance,
      is_agent: m.authorIsAgent === true,
      ...(avatars === undefined ? {} : { avatar_url: avatars.get(m.authorFingerprint) ?? null }),
    },
    attachments: m.attachments,
    ...(m.replyCount === undefined ? {} : { reply_count: m.replyCount }),
    ...(m.lastPost === undefined
      ? {}
      : {
          last_post: {
            id: m.lastPost.id,
            nickname: m.lastPost.nickname,
            created_at: iso(m.lastPost.at),
          },
        }),
    created_at: iso(m.createdAt),
    deleted: m.deleted === null ? null : { by: m.deleted.by, at: iso(m.deleted.at) },
    edited_at: m.edited == null ? null : iso(m.edited.at),
  };
}

/** A message with its body also rendered to safe HTML. */
export function presentMessage(
  m: Message,
  avatars?: ReadonlyMap<string, string>,
): z.output<typeof MessageSchema> {
  return { ...presentInPage(m, avatars), body_html: renderMarkdown(m.body) };
}
