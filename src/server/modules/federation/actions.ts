// Federated moderation (DESIGN.md §7): a FederatedAction — delete a message, ban or unban a key,
// correct a remote author's profile — signed by the acting moderator's key and vouched for by the
// moderator's instance, which sends it. A receiver applies one only when the sending peer is
// trusted for moderation and is the moderator's own instance; every other is recorded as refused
// (modlog and federated_actions) and changes nothing. Local moderators list them and reverse the
// applied ones.
import type { KeyObject } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { canonicalJson, signObject } from '../../../crypto/signing.js';
import type { AxonDatabase } from '../../db/database.js';
import type {
  DatabaseSchema,
  FederatedActionStatus,
  FederatedActionsTable,
} from '../../db/schema.js';
import { conflict, fieldError, notFound } from '../../http/errors.js';
import { decodeCursor, toPage, type Page } from '../../http/pagination.js';
import { notifyOtherProcesses, type EventHub } from '../../services/event-hub.js';
import { assertCan } from '../accounts/permissions.js';
import type { User } from '../accounts/user.js';
import type { MessageService } from '../boards/messages.js';
import { BANS_CHANNEL } from '../moderation/banned-pubkeys.js';
import { channelName } from '../realtime/channels.js';
import { recordModAction, type Actor } from '../moderation/modlog.js';
import type { ActionObject } from './objects.js';
import { sharedBoardsOf, type FederationLog } from './log.js';

export interface ActionSender {
  fingerprint: string;
  nickname: string;
}

export interface ActionResult {
  id: string;
  status: 'accepted' | 'duplicate' | 'refused';
  reason?: string;
}

export interface FederatedActionView {
  id: string;
  peer: { fingerprint: string; nickname: string };
  moderator: { fingerprint: string; nickname: string };
  kind: string;
  target: string;
  reason: string;
  status: FederatedActionStatus;
  refusal: string | null;
  reversedBy: string | null;
  reversedAt: number | null;
  createdAt: number;
}

/** What an applied action changed, as it was: enough to put it back. */
type Previous =
  | { kind: 'delete_message'; message: Record<string, unknown>; refs: Record<string, unknown>[] }
  | { kind: 'ban_pubkey' | 'unban_pubkey'; ban: Record<string, unknown> | null }
  | { kind: 'correct_profile'; profile: Record<string, unknown> };

/** The object a moderator's action becomes, signed with the moderator's session key. */
export function signAction(
  moderator: Pick<User, 'pubkey' | 'nickname'>,
  key: KeyObject,
  instance: string,
  action: ActionObject['action'],
  reason: string,
): ActionObject {
  return signObject(
    {
      type: 'action',
      id: uuidv7(),
      action,
      reason,
      instance,
      author: { pubkey: moderator.pubkey, nickname: moderator.nickname },
      created_at: new Date().toISOString(),
    },
    key,
  ) as ActionObject;
}

/** An action that concerns the whole instance rather than one board's message. */
export type InstanceAction = Exclude<ActionObject['action'], { kind: 'delete_message' }>;

/**
 * Inside the caller's transaction, last (the log's lock): a local moderator's instance-wide
 * action signed and appended to the log with no room, so it goes to every peer that shares a
 * board with this instance (log.ts). Returns what to call after the commit (wakes delivery).
 */
export type InstanceActionLogger = (
  trx: Kysely<DatabaseSchema>,
  moderator: User,
  key: KeyObject,
  action: InstanceAction,
  reason: string,
) => Promise<(() => void) | undefined>;

export function instanceActionLogger(
  log: FederationLog,
  instanceFingerprint: string,
): InstanceActionLogger {
  return async (trx, moderator, key, action, reason) => {
    const object = signAction(moderator, key, instanceFingerprint, action, reason);
    const seq = await log.append(trx, {
      object,
      roomId: null,
      authorFingerprint: moderator.fingerprint,
      receivedFrom: null,
    });
    return seq === undefined ? undefined : () => log.announce(seq);
  };
}

export interface ProfileCorrection {
  fingerprint: string;
  nickname: string;
  clearAvatar: boolean;
  reason: string;
}

const targetOf = (a: ActionObject['action']) =>
  a.kind === 'delete_message' ? a.message_id : a.fingerprint;

const toView = (r: Selectable<FederatedActionsTable>): FederatedActionView => ({
  id: r.id,
  peer: { fingerprint: r.peer_fingerprint, nickname: r.peer_nickname },
  moderator: { fingerprint: r.moderator_fingerprint, nickname: r.moderator_nickname },
  kind: r.kind,
  target: r.target,
  reason: r.reason,
  status: r.status,
  refusal: r.refusal,
  reversedBy: r.reversed_by,
  reversedAt: r.reversed_at === null ? null : Number(r.reversed_at),
  createdAt: Number(r.created_at),
});

class Refusal extends Error {}

export class FederatedActions {
  constructor(
    private readonly database: AxonDatabase,
    private readonly messages: MessageService,
    private readonly hub: EventHub,
    private readonly logInstanceAction?: InstanceActionLogger,
  ) {}

  private get db(): Kysely<DatabaseSchema> {
    return this.database.db;
  }

  /**
   * Applies or refuses one action whose moderator signature was checked (objects.ts). Either
   * way it is recorded once: a second delivery of the same id is a duplicate and changes nothing,
   * even after a local moderator reversed it.
   */
  async apply(
    peer: ActionSender,
    object: ActionObject,
    moderatorFingerprint: string,
  ): Promise<ActionResult> {
    if (await this.known(this.db, object.id)) return { id: object.id, status: 'duplicate' };
    const actor: Actor = { id: null, name: `${object.author.nickname}@${peer.nickname}` };
    const details = {
      peer: peer.nickname,
      peer_fingerprint: peer.fingerprint,
      federated_action: object.id,
    };
    const record = (trx: Kysely<DatabaseSchema>, status: FederatedActionStatus, extra: object) =>
      trx
        .insertInto('federated_actions')
        .values({
          id: object.id,
          peer_fingerprint: peer.fingerprint,
          peer_nickname: peer.nickname,
          moderator_fingerprint: moderatorFingerprint,
          moderator_nickname: object.author.nickname,
          kind: object.action.kind,
          target: targetOf(object.action),
          reason: object.reason,
          status,
          refusal: null,
          object: canonicalJson(object),
          previous: null,
          reversed_by: null,
          reversed_at: null,
          created_at: Date.now(),
          ...extra,
        })
        .execute();
    let boardId: string | undefined;
    try {
      await this.db.transaction().execute(async (trx) => {
        await this.vouched(trx, peer, object, moderatorFingerprint);
        const applied = await this.applyInside(trx, peer, object, actor, details);
        boardId = applied.boardId;
        await record(trx, 'applied', { previous: JSON.stringify(applied.previous) });
      });
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      await this.db.transaction().execute(async (trx) => {
        await record(trx, 'refused', { refusal: error.message });
        await recordModAction(trx, {
          actor,
          action: 'refuse_federated_action',
          targetType: object.action.kind,
          targetId: targetOf(object.action),
          reason: error.message,
          details: { ...details, their_reason: object.reason },
        });
      });
      return { id: object.id, status: 'refused', reason: error.message };
    }
    if (boardId !== undefined) this.messages.announce(boardId);
    if (object.action.kind === 'ban_pubkey' || object.action.kind === 'unban_pubkey') {
      this.hub.publish(BANS_CHANNEL, 0);
    }
    return { id: object.id, status: 'accepted' };
  }

  private async known(db: Kysely<DatabaseSchema>, id: string): Promise<boolean> {
    const row = await db
      .selectFrom('federated_actions')
      .select('id')
      .where('id', '=', id)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** The rule: the sender is trusted for moderation and is the moderator's own instance. */
  private async vouched(
    trx: Kysely<DatabaseSchema>,
    peer: ActionSender,
    object: ActionObject,
    moderatorFingerprint: string,
  ): Promise<void> {
    const row = await trx
      .selectFrom('peers')
      .select('trusted_for_moderation')
      .where('fingerprint', '=', peer.fingerprint)
      .executeTakeFirst();
    if (!row?.trusted_for_moderation) throw new Refusal('peer not trusted for moderation');
    if (object.instance !== peer.fingerprint) {
      throw new Refusal("action relayed: only the moderator's own instance vouches for it");
    }
    const banned = await trx
      .selectFrom('banned_pubkeys')
      .select('expires_at')
      .where('fingerprint', '=', moderatorFingerprint)
      .executeTakeFirst();
    if (banned !== undefined && (banned.expires_at === null || banned.expires_at > Date.now())) {
      throw new Refusal('moderator banned here');
    }
  }

  private async applyInside(
    trx: Kysely<DatabaseSchema>,
    peer: ActionSender,
    object: ActionObject,
    actor: Actor,
    details: Record<string, unknown>,
  ): Promise<{ previous: Previous; boardId?: string }> {
    const action = object.action;
    switch (action.kind) {
      case 'delete_message': {
        const message = await trx
          .selectFrom('messages')
          .selectAll()
          .where('id', '=', action.message_id)
          .executeTakeFirst();
        if (message === undefined || message.deleted_at !== null) {
          throw new Refusal('message unknown here');
        }
        const shared = await sharedBoardsOf(trx, peer.fingerprint);
        if (!shared.some((b) => b.id === message.board_id)) {
          throw new Refusal('board not shared with the sender');
        }
        const refs = await trx
          .selectFrom('content_refs')
          .selectAll()
          .where('kind', '=', 'message')
          .where('ref_id', '=', message.id)
          .execute();
        await this.messages.remove(trx, message.id, message.board_id, {
          log: {
            actor,
            reason: object.reason,
            details: { ...details, author: message.author_fingerprint, subject: message.subject },
          },
        });
        return {
          previous: { kind: 'delete_message', message, refs },
          boardId: message.board_id,
        };
      }
      case 'ban_pubkey': {
        if (await this.isLocalUser(trx, action.fingerprint)) {
          throw new Refusal('the key of a local user');
        }
        const ban = await this.banRow(trx, action.fingerprint);
        const known = await trx
          .selectFrom('pubkeys')
          .select('pem')
          .where('fingerprint', '=', action.fingerprint)
          .executeTakeFirst();
        const row = {
          fingerprint: action.fingerprint,
          pubkey: known?.pem ?? null,
          reason: object.reason,
          banned_by: null,
          created_at: Date.now(),
          expires_at: action.expires_at === null ? null : Date.parse(action.expires_at),
        };
        await trx.deleteFrom('banned_pubkeys').where('fingerprint', '=', row.fingerprint).execute();
        await trx.insertInto('banned_pubkeys').values(row).execute();
        await this.logBan(trx, 'ban_pubkey', actor, object.reason, action.fingerprint, details);
        return { previous: { kind: 'ban_pubkey', ban: ban ?? null } };
      }
      case 'unban_pubkey': {
        const ban = await this.banRow(trx, action.fingerprint);
        if (ban === undefined) throw new Refusal('key not banned here');
        await trx
          .deleteFrom('banned_pubkeys')
          .where('fingerprint', '=', action.fingerprint)
          .execute();
        await this.logBan(trx, 'unban_pubkey', actor, object.reason, action.fingerprint, details);
        return { previous: { kind: 'unban_pubkey', ban } };
      }
      case 'correct_profile': {
        if (await this.isLocalUser(trx, action.fingerprint)) {
          throw new Refusal('author is a local user');
        }
        const profile = await trx
          .selectFrom('remote_authors')
          .selectAll()
          .where('fingerprint', '=', action.fingerprint)
          .executeTakeFirst();
        if (profile === undefined) throw new Refusal('author unknown here');
        await trx
          .updateTable('remote_authors')
          .set({
            nickname: action.nickname,
            ...(action.clear_avatar ? { avatar: null, avatar_mime: null, avatar_hash: null } : {}),
            updated_at: Date.now(),
          })
          .where('fingerprint', '=', action.fingerprint)
          .execute();
        await recordModAction(trx, {
          actor,
          action: 'correct_profile',
          targetType: 'pubkey',
          targetId: action.fingerprint,
          reason: object.reason,
          details: { ...details, nickname: action.nickname, clear_avatar: action.clear_avatar },
        });
        const avatar =
          profile.avatar === null ? null : Buffer.from(profile.avatar).toString('base64');
        return { previous: { kind: 'correct_profile', profile: { ...profile, avatar } } };
      }
    }
  }

  private async isLocalUser(trx: Kysely<DatabaseSchema>, fingerprint: string): Promise<boolean> {
    const row = await trx
      .selectFrom('users')
      .select('id')
      .where('fingerprint', '=', fingerprint)
      .executeTakeFirst();
    return row !== undefined;
  }

  private banRow(trx: Kysely<DatabaseSchema>, fingerprint: string) {
    return trx
      .selectFrom('banned_pubkeys')
      .selectAll()
      .where('fingerprint', '=', fingerprint)
      .executeTakeFirst();
  }

  private async logBan(
    trx: Kysely<DatabaseSchema>,
    action: 'ban_pubkey' | 'unban_pubkey',
    actor: Actor,
    reason: string,
    fingerprint: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    await recordModAction(trx, {
      actor,
      action,
      targetType: 'pubkey',
      targetId: fingerprint,
      reason,
      details,
    });
    await notifyOtherProcesses(trx, this.database.dialect, BANS_CHANNEL, 0);
  }

  /**
   * A local moderator corrects a remote author's profile here (nickname, avatar dropped) and
   * sends the correction to the peers as a FederatedAction; those trusting this instance for
   * moderation apply it to their copy. The author's next signed profile update replaces it.
   */
  async correctProfile(by: User, key: KeyObject, input: ProfileCorrection): Promise<void> {
    assertCan(by, 'moderate');
    const after = await this.db.transaction().execute(async (trx) => {
      if (await this.isLocalUser(trx, input.fingerprint)) {
        throw fieldError('body.fingerprint', 'is the key of a local user: edit their account');
      }
      const profile = await trx
        .selectFrom('remote_authors')
        .select('fingerprint')
        .where('fingerprint', '=', input.fingerprint)
        .executeTakeFirst();
      if (profile === undefined) throw notFound('remote author');
      await trx
        .updateTable('remote_authors')
        .set({
          nickname: input.nickname,
          ...(input.clearAvatar ? { avatar: null, avatar_mime: null, avatar_hash: null } : {}),
          updated_at: Date.now(),
        })
        .where('fingerprint', '=', input.fingerprint)
        .execute();
      await recordModAction(trx, {
        actor: { id: by.id, name: by.username },
        action: 'correct_profile',
        targetType: 'pubkey',
        targetId: input.fingerprint,
        reason: input.reason,
        details: { nickname: input.nickname, clear_avatar: input.clearAvatar },
      });
      return this.logInstanceAction?.(
        trx,
        by,
        key,
        {
          kind: 'correct_profile',
          fingerprint: input.fingerprint,
          nickname: input.nickname,
          clear_avatar: input.clearAvatar,
        },
        input.reason,
      );
    });
    after?.();
  }

  /** The actions peers sent, newest first, for moderators. */
  async list(
    by: User,
    query: { cursor?: string | undefined; limit: number },
  ): Promise<Page<FederatedActionView>> {
    assertCan(by, 'moderate');
    let q = this.db
      .selectFrom('federated_actions')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(query.limit + 1);
    if (query.cursor !== undefined) {
      const [before] = decodeCursor(query.cursor, ['s']);
      q = q.where('id', '<', before as string);
    }
    return toPage(await q.execute(), query.limit, (r) => [r.id], toView);
  }

  /**
   * Puts back what an applied action changed, here only (the peer is not told): the message as
   * it was, the ban as it was before, the profile as it was. Logged as the moderator's own action.
   */
  async reverse(by: User, id: string, reason: string): Promise<FederatedActionView> {
    assertCan(by, 'moderate');
    let boardId: string | undefined;
    const row = await this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('federated_actions')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      if (row === undefined) throw notFound('federated action');
      if (row.status !== 'applied' || row.previous === null) {
        throw conflict('ACTION_NOT_APPLIED', `this action is ${row.status}, not applied`);
      }
      const previous = JSON.parse(row.previous) as Previous;
      boardId = await this.restore(trx, previous, row.target);
      const now = Date.now();
      const reversed = await trx
        .updateTable('federated_actions')
        .set({ status: 'reversed', reversed_by: by.id, reversed_at: now })
        .where('id', '=', id)
        .where('status', '=', 'applied')
        .returningAll()
        .executeTakeFirst();
      if (reversed === undefined) throw conflict('ACTION_NOT_APPLIED', 'reversed already');
      await recordModAction(trx, {
        actor: { id: by.id, name: by.username },
        action: 'reverse_federated_action',
        targetType: row.kind,
        targetId: row.target,
        reason,
        details: {
          peer: row.peer_nickname,
          peer_fingerprint: row.peer_fingerprint,
          federated_action: id,
        },
      });
      return reversed;
    });
    if (boardId !== undefined) this.messages.announce(boardId);
    if (row.kind === 'ban_pubkey' || row.kind === 'unban_pubkey') this.hub.publish(BANS_CHANNEL, 0);
    return toView(row);
  }

  private async restore(
    trx: Kysely<DatabaseSchema>,
    previous: Previous,
    target: string,
  ): Promise<string | undefined> {
    switch (previous.kind) {
      case 'delete_message': {
        const m = previous.message as unknown as Selectable<DatabaseSchema['messages']>;
        const standing = await trx
          .selectFrom('messages')
          .select(['id', 'deleted_at'])
          .where('id', '=', m.id)
          .executeTakeFirst();
        if (standing !== undefined) {
          // The opening post stayed as a tombstone for its replies: its text comes back.
          await trx
            .updateTable('messages')
            .set({ body: m.body, attachments: m.attachments, deleted_at: null, deleted_by: null })
            .where('id', '=', m.id)
            .execute();
        } else {
          const { event_seq } = await trx
            .updateTable('boards')
            .set((eb) => ({ event_seq: eb('event_seq', '+', 1) }))
            .where('id', '=', m.board_id)
            .returning('event_seq')
            .executeTakeFirstOrThrow();
          await trx
            .insertInto('messages')
            .values({
              id: m.id,
              board_id: m.board_id,
              board_ref: m.board_ref,
              parent_id: m.parent_id,
              thread_id: m.thread_id,
              author_id: m.author_id,
              author_fingerprint: m.author_fingerprint,
              author_nickname: m.author_nickname,
              author_instance: m.author_instance,
              subject: m.subject,
              body: m.body,
              attachments: m.attachments,
              signature: m.signature,
              is_event: Boolean(m.is_event),
              event_subject: m.event_subject,
              board_seq: event_seq,
              created_at: Number(m.created_at),
              // The edit its signature is over (its earlier versions went with the deletion).
              edited_at: m.edited_at == null ? null : Number(m.edited_at),
              edit_id: m.edit_id ?? null,
            })
            .execute();
        }
        for (const ref of previous.refs) {
          await trx
            .insertInto('content_refs')
            .values(ref as unknown as Selectable<DatabaseSchema['content_refs']>)
            .onConflict((oc) => oc.doNothing())
            .execute();
        }
        await notifyOtherProcesses(
          trx,
          this.database.dialect,
          channelName({ kind: 'board', boardId: m.board_id }),
          0,
        );
        return m.board_id;
      }
      case 'ban_pubkey':
      case 'unban_pubkey': {
        await trx.deleteFrom('banned_pubkeys').where('fingerprint', '=', target).execute();
        if (previous.ban !== null) {
          const ban = previous.ban as unknown as Selectable<DatabaseSchema['banned_pubkeys']>;
          await trx
            .insertInto('banned_pubkeys')
            .values({
              ...ban,
              created_at: Number(ban.created_at),
              expires_at: ban.expires_at === null ? null : Number(ban.expires_at),
            })
            .execute();
        }
        await notifyOtherProcesses(trx, this.database.dialect, BANS_CHANNEL, 0);
        return undefined;
      }
      case 'correct_profile': {
        const p = previous.profile as unknown as Selectable<DatabaseSchema['remote_authors']>;
        await trx
          .updateTable('remote_authors')
          .set({
            nickname: p.nickname,
            avatar: p.avatar === null ? null : Buffer.from(String(p.avatar), 'base64'),
            avatar_mime: p.avatar_mime,
            avatar_hash: p.avatar_hash,
            updated_at: Date.now(),
          })
          .where('fingerprint', '=', target)
          .execute();
        return undefined;
      }
    }
  }
}
