// Private messages, end-to-end between two users' keys: the subject and body are sealed under a
// fresh AES-256-GCM key, which is wrapped (RSA-OAEP-SHA256) for the recipient and for the sender.
// The database holds no plaintext; only a session of one of the two parties can open a message.
import {
  constants,
  createPublicKey,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import type { ExpressionBuilder, Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { open, seal } from '../../../crypto/aead.js';
import { signObject, verifyObject } from '../../../crypto/signing.js';
import type { AxonDatabase } from '../../db/database.js';
import type { DatabaseSchema, PmDeliveryState, PrivateMessagesTable } from '../../db/schema.js';
import { AppError, fieldError, forbidden, notFound } from '../../http/errors.js';
import { decodeCursor, toPage, type Page } from '../../http/pagination.js';
import { assertCan } from '../accounts/permissions.js';
import { actorFor } from '../moderation/banned-pubkeys.js';
import { rememberPubkey } from '../accounts/known-pubkeys.js';
import type { AttachmentRef, ContentService } from '../content/service.js';
import type { Session } from '../accounts/sessions.js';
import { USER_COLUMNS, toUser } from '../accounts/user.js';
import { OUTBOX_PER_PEER_MAX, type PrivateMessageDelivery } from './delivery.js';
import { findPeer, ignores, parseAddress, type LetterHook, type RemoteKeys } from './remote.js';

/** One side of a letter. `instance`: the nickname of the peer a remote party lives on; null for a
 * local one, whose avatar hash is read from their account (a remote party's is not known here). */
export interface Party {
  fingerprint: string;
  nickname: string | null;
  userId: string | null;
  instance: string | null;
  avatarHash: string | null;
}

export interface PrivateMessage {
  id: string;
  from: Party & { nickname: string };
  to: Party;
  /** The letter of the same conversation this one answers (sealed inside, like the text). */
  replyTo: string | null;
  /** For a message sent to another instance: whether that instance has taken it. */
  delivery: { state: PmDeliveryState; error: string | null } | null;
  subject: string;
  body: string;
  attachments: AttachmentRef[];
  createdAt: number;
  readAt: number | null;
  /** False when the stored ciphertext or envelope fails to open (damaged or tampered with). */
  readable: boolean;
  signatureValid: boolean;
}

export type Box = 'inbox' | 'outbox';

const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const;
const aad = (id: string) => Buffer.from(`axon-private-message-v1:${id}`);

type Row = Awaited<ReturnType<PrivateMessageService['findRow']>> & object;

/**
 * Unwraps the message key and opens the ciphertext; undefined when either fails, so one damaged
 * message shows as unreadable instead of breaking the whole box.
 */
function openSealed(session: Session, envelope: string, row: { id: string; ciphertext: string }) {
  try {
    const key = privateDecrypt(
      { key: session.privateKey(), ...OAEP },
      Buffer.from(envelope, 'base64'),
    );
    const opened = JSON.parse(
      open(key, Buffer.from(row.ciphertext, 'base64'), aad(row.id)).toString('utf8'),
    ) as {
      subject: string;
      body: string;
      attachments?: AttachmentRef[];
      reply_to?: unknown;
    };
    return {
      subject: String(opened.subject),
      body: String(opened.body),
      attachments: Array.isArray(opened.attachments) ? opened.attachments : [],
      replyTo: typeof opened.reply_to === 'string' ? opened.reply_to : null,
    };
  } catch {
    return undefined;
  }
}

export class PrivateMessageService {
  /** Told of each letter a local recipient gets, sent here or from a peer (notifications). */
  onLetter: LetterHook | undefined;

  constructor(
    private readonly database: AxonDatabase,
    private readonly content: ContentService,
    /** Sending to other instances; without it, `name@instance` is refused. */
    private readonly remote?: { keys: RemoteKeys; delivery: PrivateMessageDelivery },
  ) {}

  private get db(): Kysely<DatabaseSchema> {
    return this.database.db;
  }

  /**
   * Sends to a local user named by username or key fingerprint, or to `name@instance`: a user of a
   * trusted peer (by its nickname or host), whose key is asked of that peer; the signed message
   * then waits in the outbox until the peer takes it.
   */
  async send(
    session: Session,
    input: {
      to: string;
      subject: string;
      body: string;
      attachments?: readonly string[];
      reply_to?: string | undefined;
    },
  ): Promise<PrivateMessage> {
    const sender = session.user;
    assertCan(await actorFor(this.db, sender), 'send_private_message', {}, () =>
      forbidden('this account may not send messages', 'POSTING_DISABLED'),
    );
    const recipient = await this.findRecipient(input.to);
    if (recipient.remote !== undefined && (input.attachments ?? []).length > 0) {
      throw fieldError(
        'body.attachments',
        'attachments cannot be sent to another instance: send them on a shared board',
      );
    }
    if (input.reply_to !== undefined) {
      await this.assertAnswers(session, input.reply_to, recipient.fingerprint);
    }
    const attachments = await this.content.resolveOwnUploads(
      sender,
      input.attachments ?? [],
      'body.attachments',
    );
    const id = uuidv7();
    const createdAt = Date.now();
    const key = randomBytes(32);
    const ciphertext = seal(
      key,
      // What a reply answers is sealed with the text: the server learns only who talks with whom.
      Buffer.from(
        JSON.stringify({
          subject: input.subject,
          body: input.body,
          attachments,
          ...(input.reply_to === undefined ? {} : { reply_to: input.reply_to }),
        }),
      ),
      aad(id),
    ).toString('base64');
    const envelopes: Record<string, string> = {};
    for (const party of [recipient, sender]) {
      envelopes[party.fingerprint] = publicEncrypt(
        { key: createPublicKey(party.pubkey), ...OAEP },
        key,
      ).toString('base64');
    }
    // The federated form: the ciphertext and envelopes are what the sender signs.
    const object = signObject(
      {
        type: 'private_message',
        id,
        from: { pubkey: sender.pubkey, nickname: sender.nickname },
        to: recipient.fingerprint,
        ciphertext,
        envelopes,
        created_at: new Date(createdAt).toISOString(),
      },
      session.privateKey(),
    );
    const remote = recipient.remote;
    const after = await this.db.transaction().execute(async (trx) => {
      // A recipient who ignores the sender's key never gets it: it is sent (the sender is not told,
      // so ignoring cannot be probed) but lands already deleted from the recipient's box.
      const ignored =
        recipient.id !== null && (await ignores(trx, recipient.id, sender.fingerprint));
      await rememberPubkey(trx, sender.fingerprint, sender.pubkey);
      await this.content.addRefs(trx, 'private_message', id, attachments);
      await trx
        .insertInto('private_messages')
        .values({
          id,
          sender_id: sender.id,
          recipient_id: recipient.id,
          sender_fingerprint: sender.fingerprint,
          sender_nickname: sender.nickname,
          recipient_fingerprint: recipient.fingerprint,
          ciphertext,
          envelopes: JSON.stringify(envelopes),
          signature: object.signature,
          created_at: createdAt,
          recipient_deleted: ignored,
          peer_fingerprint: remote?.peer ?? null,
          recipient_nickname: remote?.nickname ?? null,
          delivery_state: remote === undefined ? null : 'pending',
        })
        .execute();
      if (remote !== undefined) await enqueue(trx, remote.peer, object, createdAt);
      return recipient.id === null || ignored
        ? undefined
        : await this.onLetter?.(trx, {
            id,
            recipientId: recipient.id,
            sender: {
              fingerprint: sender.fingerprint,
              nickname: sender.nickname,
              userId: sender.id,
            },
            createdAt,
          });
    });
    after?.();
    if (remote !== undefined) this.remote?.delivery.wake();
    return this.present(session, (await this.findRow(id))!);
  }

  /** Newest first; each message opened with the reader's session key. */
  async list(
    session: Session,
    box: Box,
    query: { cursor?: string | undefined; limit: number },
  ): Promise<Page<PrivateMessage>> {
    const me = session.user.id;
    let q = this.rows()
      .where(box === 'inbox' ? 'pm.recipient_id' : 'pm.sender_id', '=', me)
      .where(box === 'inbox' ? 'pm.recipient_deleted' : 'pm.sender_deleted', '=', false)
      .orderBy('pm.id', 'desc')
      .limit(query.limit + 1);
    if (query.cursor !== undefined)
      q = q.where('pm.id', '<', decodeCursor(query.cursor, ['s'])[0] as string);
    const rows = await q.execute();
    return toPage(
      rows,
      query.limit,
      (r) => [r.id],
      (r) => this.present(session, r),
      // The answer carries the body rendered to HTML too: escaping grows a character to 6 at most.
      (m) => Buffer.byteLength(JSON.stringify(m)) + 6 * m.body.length,
    );
  }

  /**
   * The caller's conversations, the latest first: letters grouped by the other party's key (all
   * the server knows of a letter besides its sealed text), each with its newest letter opened and
   * the number of received letters in it still unread.
   */
  async conversations(
    session: Session,
    query: { cursor?: string | undefined; limit: number },
  ): Promise<Page<Conversation>> {
    const me = session.user.id;
    const mine = this.db
      .selectFrom('private_messages as pm')
      .where((eb) => visibleToUser(eb, me))
      .select((eb) => [
        'pm.id',
        eb
          .case()
          .when('pm.sender_id', '=', me)
          .then(eb.ref('pm.recipient_fingerprint'))
          .else(eb.ref('pm.sender_fingerprint'))
          .end()
          .as('party'),
        eb
          .case()
          .when(
            eb.and([
              eb('pm.recipient_id', '=', me),
              eb('pm.recipient_deleted', '=', false),
              eb('pm.read_at', 'is', null),
            ]),
          )
          .then(1)
          .else(0)
          .end()
          .as('unread'),
      ])
      .as('mine');
    let q = this.db
      .selectFrom(mine)
      .select((eb) => [
        eb.fn.max('mine.id').as('last_id'),
        eb.fn.sum<number | string>('mine.unread').as('unread'),
      ])
      .groupBy('mine.party')
      .orderBy('last_id', 'desc')
      .limit(query.limit + 1);
    if (query.cursor !== undefined) {
      const [before] = decodeCursor(query.cursor, ['s']) as [string];
      q = q.having((eb) => eb.fn.max('mine.id'), '<', before);
    }
    const groups = await q.execute();
    const rows = new Map(
      groups.length === 0
        ? []
        : (
            await this.rows()
              .where(
                'pm.id',
                'in',
                groups.map((g) => g.last_id),
              )
              .execute()
          ).map((r) => [r.id, r]),
    );
    return toPage(
      groups,
      query.limit,
      (g) => [g.last_id],
      (g) => {
        const row = rows.get(g.last_id)!;
        const last = this.present(session, row);
        return {
          party: row.sender_id === me ? last.to : last.from,
          last,
          unread: Number(g.unread),
        };
      },
      (c) => Buffer.byteLength(JSON.stringify(c)) + 6 * c.last.body.length,
    );
  }

  /**
   * The letters between the caller and the holder of `fingerprint`, a page at a time from the
   * newest (items oldest first; next_cursor goes back in time). The received letters shown are
   * marked read, as opening each would.
   */
  async conversation(
    session: Session,
    fingerprint: string,
    query: { cursor?: string | undefined; limit: number },
  ): Promise<Page<PrivateMessage>> {
    const me = session.user.id;
    let q = this.rows()
      .where((eb) => visibleToUser(eb, me))
      .where((eb) =>
        eb.or([
          eb.and([eb('pm.sender_id', '=', me), eb('pm.recipient_fingerprint', '=', fingerprint)]),
          eb.and([eb('pm.recipient_id', '=', me), eb('pm.sender_fingerprint', '=', fingerprint)]),
        ]),
      )
      .orderBy('pm.id', 'desc')
      .limit(query.limit + 1);
    if (query.cursor !== undefined)
      q = q.where('pm.id', '<', decodeCursor(query.cursor, ['s'])[0] as string);
    const page = toPage(
      await q.execute(),
      query.limit,
      (r) => [r.id],
      (r) => this.present(session, r),
      (m) => Buffer.byteLength(JSON.stringify(m)) + 6 * m.body.length,
    );
    const unread = page.items.filter((m) => m.readable && m.to.userId === me && m.readAt === null);
    if (unread.length > 0) {
      const readAt = Date.now();
      await this.db
        .updateTable('private_messages')
        .set({ read_at: readAt })
        .where(
          'id',
          'in',
          unread.map((m) => m.id),
        )
        .where('recipient_id', '=', me)
        .execute();
      for (const m of unread) m.readAt = readAt;
    }
    return { items: page.items.reverse(), next_cursor: page.next_cursor };
  }

  /** A reply answers a letter the sender can see, of their conversation with the recipient. */
  private async assertAnswers(session: Session, id: string, recipient: string): Promise<void> {
    const me = session.user.id;
    const row = await this.findRow(id);
    if (row === undefined || !this.visibleTo(row, me)) {
      throw fieldError('body.reply_to', 'no letter of yours has that id');
    }
    const party = row.sender_id === me ? row.recipient_fingerprint : row.sender_fingerprint;
    if (party !== recipient) {
      throw fieldError('body.reply_to', 'answers a letter of a conversation with someone else');
    }
  }

  /** Opens one message; the recipient's first read marks it read. */
  async read(session: Session, id: string): Promise<PrivateMessage> {
    const row = await this.findRow(id);
    if (row === undefined || !this.visibleTo(row, session.user.id))
      throw notFound('private message');
    // Opened before it is marked read: a message that cannot be opened stays unread.
    const message = this.present(session, row);
    if (message.readable && row.recipient_id === session.user.id && row.read_at === null) {
      const readAt = Date.now();
      await this.db
        .updateTable('private_messages')
        .set({ read_at: readAt })
        .where('id', '=', id)
        .execute();
      return { ...message, readAt };
    }
    return message;
  }

  /** Removes it from the caller's box; the row goes when both parties have deleted it. */
  async delete(session: Session, id: string): Promise<void> {
    const row = await this.findRow(id);
    const me = session.user.id;
    if (row === undefined || !this.visibleTo(row, me)) throw notFound('private message');
    await this.db.transaction().execute(async (trx) => {
      if (row.sender_id === me) {
        await trx
          .updateTable('private_messages')
          .set({ sender_deleted: true })
          .where('id', '=', id)
          .execute();
      }
      if (row.recipient_id === me) {
        await trx
          .updateTable('private_messages')
          .set({ recipient_deleted: true })
          .where('id', '=', id)
          .execute();
      }
      await trx
        .deleteFrom('private_messages')
        .where('id', '=', id)
        .where((eb) =>
          eb.and([
            eb.or([eb('sender_deleted', '=', true), eb('sender_id', 'is', null)]),
            eb.or([eb('recipient_deleted', '=', true), eb('recipient_id', 'is', null)]),
          ]),
        )
        .execute();
    });
  }

  async unreadCount(userId: string): Promise<number> {
    const row = await this.db
      .selectFrom('private_messages')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('recipient_id', '=', userId)
      .where('recipient_deleted', '=', false)
      .where('read_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  private visibleTo(row: Row, userId: string): boolean {
    return (
      (row.sender_id === userId && !row.sender_deleted) ||
      (row.recipient_id === userId && !row.recipient_deleted)
    );
  }

  private present(session: Session, row: Row): PrivateMessage {
    const me = session.user;
    const envelopes = JSON.parse(row.envelopes) as Record<string, string>;
    const envelope = envelopes[me.fingerprint];
    if (envelope === undefined) throw forbidden('this message was not sealed for your key');
    const opened = openSealed(session, envelope, row);
    const signed = {
      type: 'private_message',
      id: row.id,
      from: { pubkey: row.sender_pem ?? '', nickname: row.sender_nickname },
      to: row.recipient_fingerprint,
      ciphertext: row.ciphertext,
      envelopes,
      created_at: new Date(row.created_at).toISOString(),
      signature: row.signature,
    };
    // The peer's nickname now; its fingerprint's start should the peer have been removed since.
    const instance =
      row.peer_fingerprint === null
        ? null
        : (row.peer_nickname ?? `[${row.peer_fingerprint.slice(0, 8)}]`);
    // A message sent to another instance has a delivery state; one received from there has none.
    const received = row.peer_fingerprint !== null && row.delivery_state === null;
    return {
      id: row.id,
      from: {
        fingerprint: row.sender_fingerprint,
        nickname: row.sender_nickname,
        userId: row.sender_id,
        instance: received ? instance : null,
        avatarHash: row.sender_avatar_hash,
      },
      to: {
        fingerprint: row.recipient_fingerprint,
        userId: row.recipient_id,
        nickname: row.recipient_nickname ?? row.recipient_local_nickname,
        instance: received ? null : instance,
        avatarHash: row.recipient_avatar_hash,
      },
      replyTo: opened?.replyTo ?? null,
      delivery:
        row.delivery_state === null
          ? null
          : { state: row.delivery_state, error: row.delivery_error },
      subject: opened?.subject ?? '',
      body: opened?.body ?? '',
      attachments: opened?.attachments ?? [],
      readable: opened !== undefined,
      createdAt: row.created_at,
      readAt: row.read_at,
      signatureValid: row.sender_pem !== null && verifyObject(signed, row.sender_pem),
    };
  }

  private rows() {
    return this.db
      .selectFrom('private_messages as pm')
      .leftJoin('pubkeys', 'pubkeys.fingerprint', 'pm.sender_fingerprint')
      .leftJoin('peers', 'peers.fingerprint', 'pm.peer_fingerprint')
      .leftJoin('users as recipient', 'recipient.id', 'pm.recipient_id')
      .leftJoin('users as sender', 'sender.id', 'pm.sender_id')
      .selectAll('pm')
      .select([
        'pubkeys.pem as sender_pem',
        'peers.nickname as peer_nickname',
        'recipient.nickname as recipient_local_nickname',
        'recipient.avatar_hash as recipient_avatar_hash',
        'sender.avatar_hash as sender_avatar_hash',
      ]);
  }

  findRow(id: string) {
    return this.rows().where('pm.id', '=', id).executeTakeFirst();
  }

  /** A local user, or a remote one by `name@instance` (their key asked of the instance). */
  private async findRecipient(to: string): Promise<Recipient> {
    const value = to.trim();
    const address = parseAddress(value);
    if (address !== undefined) {
      if (this.remote === undefined) {
        throw fieldError('body.to', 'this server does not send to other instances');
      }
      const peer = await findPeer(this.db, address.instance);
      if (peer === undefined) {
        throw fieldError('body.to', `no trusted instance "${address.instance}" here`);
      }
      const key = await this.remote.keys.lookup(peer, address.name);
      return {
        id: null,
        pubkey: key.pubkey,
        fingerprint: key.fingerprint,
        remote: { peer: peer.fingerprint, nickname: key.nickname },
      };
    }
    const row = await this.db
      .selectFrom('users')
      .select(USER_COLUMNS)
      .where(
        /^[0-9a-fA-F]{64}$/.test(value) ? 'fingerprint' : 'username_lower',
        '=',
        value.toLowerCase(),
      )
      .executeTakeFirst();
    if (row === undefined) throw fieldError('body.to', 'no user with that username or fingerprint');
    const user = toUser(row);
    return { id: user.id, pubkey: user.pubkey, fingerprint: user.fingerprint };
  }
}

/** A conversation: the other party, the newest letter and how many received ones are unread. */
export interface Conversation {
  party: Party;
  last: PrivateMessage;
  unread: number;
}

/** Letters in the user's boxes: sent and not deleted by them, or received and not deleted. */
function visibleToUser(
  eb: ExpressionBuilder<DatabaseSchema & { pm: PrivateMessagesTable }, 'pm'>,
  me: string,
) {
  return eb.or([
    eb.and([eb('pm.sender_id', '=', me), eb('pm.sender_deleted', '=', false)]),
    eb.and([eb('pm.recipient_id', '=', me), eb('pm.recipient_deleted', '=', false)]),
  ]);
}

interface Recipient {
  /** The local user's id; null for a user of another instance. */
  id: string | null;
  pubkey: string;
  fingerprint: string;
  remote?: { peer: string; nickname: string };
}

/** Queues the signed message for its recipient's instance, within the per-peer bound. */
async function enqueue(
  trx: Kysely<DatabaseSchema>,
  peer: string,
  object: Record<string, unknown>,
  now: number,
): Promise<void> {
  const waiting = await trx
    .selectFrom('pm_outbox')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('peer_fingerprint', '=', peer)
    .executeTakeFirstOrThrow();
  if (Number(waiting.n) >= OUTBOX_PER_PEER_MAX) {
    throw new AppError(
      503,
      'SERVER_BUSY',
      `${OUTBOX_PER_PEER_MAX} messages already wait for that instance; try again later`,
    );
  }
  await trx
    .insertInto('pm_outbox')
    .values({
      pm_id: String(object.id),
      peer_fingerprint: peer,
      object: JSON.stringify(object),
      next_attempt_at: now,
      leased_until: null,
      last_error: null,
      created_at: now,
    })
    .execute();
}
