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
import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import { open, seal } from '../../../crypto/aead.js';
import { signObject, verifyObject } from '../../../crypto/signing.js';
import type { AxonDatabase } from '../../db/database.js';
import type { DatabaseSchema } from '../../db/schema.js';
import { fieldError, forbidden, notFound } from '../../http/errors.js';
import { decodeCursor, toPage, type Page } from '../../http/pagination.js';
import { assertCan } from '../accounts/permissions.js';
import { actorFor } from '../moderation/banned-pubkeys.js';
import { rememberPubkey } from '../accounts/known-pubkeys.js';
import type { AttachmentRef, ContentService } from '../content/service.js';
import type { Session } from '../accounts/sessions.js';
import { USER_COLUMNS, toUser, type User } from '../accounts/user.js';

export interface PrivateMessage {
  id: string;
  from: { fingerprint: string; nickname: string; userId: string | null };
  to: { fingerprint: string; userId: string | null };
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
    };
    return {
      subject: String(opened.subject),
      body: String(opened.body),
      attachments: Array.isArray(opened.attachments) ? opened.attachments : [],
    };
  } catch {
    return undefined;
  }
}

export class PrivateMessageService {
  constructor(
    private readonly database: AxonDatabase,
    private readonly content: ContentService,
  ) {}

  private get db(): Kysely<DatabaseSchema> {
    return this.database.db;
  }

  /** Sends to a local user named by username or key fingerprint. */
  async send(
    session: Session,
    input: { to: string; subject: string; body: string; attachments?: readonly string[] },
  ): Promise<PrivateMessage> {
    const sender = session.user;
    assertCan(await actorFor(this.db, sender), 'send_private_message', {}, () =>
      forbidden('this account may not send messages', 'POSTING_DISABLED'),
    );
    const recipient = await this.findRecipient(input.to);
    if (recipient === undefined)
      throw fieldError('body.to', 'no user with that username or fingerprint');

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
      Buffer.from(JSON.stringify({ subject: input.subject, body: input.body, attachments })),
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
    const { signature } = signObject(
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
    await this.db.transaction().execute(async (trx) => {
      // A recipient who ignores the sender's key never gets it: it is sent (the sender is not told,
      // so ignoring cannot be probed) but lands already deleted from the recipient's box.
      const ignored = await trx
        .selectFrom('ignored_pubkeys')
        .select('user_id')
        .where('user_id', '=', recipient.id)
        .where('fingerprint', '=', sender.fingerprint)
        .executeTakeFirst();
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
          signature,
          created_at: createdAt,
          recipient_deleted: ignored !== undefined,
        })
        .execute();
    });
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
    return {
      id: row.id,
      from: {
        fingerprint: row.sender_fingerprint,
        nickname: row.sender_nickname,
        userId: row.sender_id,
      },
      to: { fingerprint: row.recipient_fingerprint, userId: row.recipient_id },
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
      .selectAll('pm')
      .select('pubkeys.pem as sender_pem');
  }

  findRow(id: string) {
    return this.rows().where('pm.id', '=', id).executeTakeFirst();
  }

  private async findRecipient(to: string): Promise<User | undefined> {
    const value = to.trim();
    const row = await this.db
      .selectFrom('users')
      .select(USER_COLUMNS)
      .where(
        /^[0-9a-fA-F]{64}$/.test(value) ? 'fingerprint' : 'username_lower',
        '=',
        value.toLowerCase(),
      )
      .executeTakeFirst();
    return row === undefined ? undefined : toUser(row);
  }
}
