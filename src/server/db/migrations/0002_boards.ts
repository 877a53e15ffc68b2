// Boards, messages (with full-text search per dialect), author pubkeys, private messages,
// reports and the moderation log.
import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../database.js';

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('boards')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_lower', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('is_realtime', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('federation_room_id', 'text', (c) => c.unique())
    .addColumn('trusted_peers', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('message_retention_days', 'integer')
    .addColumn('read_access', 'text', (c) => c.notNull().defaultTo('public'))
    .addColumn('post_access', 'text', (c) => c.notNull().defaultTo('members'))
    .addColumn('is_archived', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  // An author's key as it was when they posted: messages point here by fingerprint.
  await db.schema
    .createTable('pubkeys')
    .addColumn('fingerprint', 'text', (c) => c.primaryKey())
    .addColumn('pem', 'text', (c) => c.notNull())
    .addColumn('first_seen', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('messages')
    // seq orders messages (keyset pagination) and gives the SQLite FTS index a stable rowid.
    .addColumn('seq', dialect === 'postgres' ? 'bigint' : 'integer', (c) =>
      dialect === 'postgres'
        ? c.primaryKey().generatedAlwaysAsIdentity()
        : c.primaryKey().autoIncrement(),
    )
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('board_id', 'text', (c) => c.notNull().references('boards.id').onDelete('cascade'))
    .addColumn('board_ref', 'text', (c) => c.notNull())
    .addColumn('parent_id', 'text')
    .addColumn('thread_id', 'text', (c) => c.notNull())
    .addColumn('author_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('author_fingerprint', 'text', (c) => c.notNull().references('pubkeys.fingerprint'))
    .addColumn('author_nickname', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('attachments', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('signature', 'text', (c) => c.notNull())
    .addColumn('is_event', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('event_subject', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('messages_board_seq')
    .on('messages')
    .columns(['board_id', 'seq'])
    .execute();
  await db.schema
    .createIndex('messages_thread_seq')
    .on('messages')
    .columns(['thread_id', 'seq'])
    .execute();
  await db.schema
    .createIndex('messages_author')
    .on('messages')
    .columns(['author_fingerprint'])
    .execute();
  await db.schema.createIndex('messages_author_id').on('messages').columns(['author_id']).execute();
  await db.schema
    .createIndex('messages_board_created')
    .on('messages')
    .columns(['board_id', 'created_at'])
    .execute();

  if (dialect === 'sqlite') {
    await sql`CREATE VIRTUAL TABLE messages_fts USING fts5(
      subject, body, content='messages', content_rowid='seq', tokenize='unicode61 remove_diacritics 2'
    )`.execute(db);
    await sql`CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
      INSERT INTO messages_fts(rowid, subject, body) VALUES (new.seq, new.subject, new.body);
    END`.execute(db);
    await sql`CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
      INSERT INTO messages_fts(messages_fts, rowid, subject, body) VALUES ('delete', old.seq, old.subject, old.body);
    END`.execute(db);
    await sql`CREATE TRIGGER messages_fts_update AFTER UPDATE OF subject, body ON messages BEGIN
      INSERT INTO messages_fts(messages_fts, rowid, subject, body) VALUES ('delete', old.seq, old.subject, old.body);
      INSERT INTO messages_fts(rowid, subject, body) VALUES (new.seq, new.subject, new.body);
    END`.execute(db);
  } else {
    await sql`ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (
      setweight(to_tsvector('simple', subject), 'A') || setweight(to_tsvector('simple', body), 'B')
    ) STORED`.execute(db);
    await sql`CREATE INDEX messages_search ON messages USING gin (search)`.execute(db);
  }

  await db.schema
    .createTable('private_messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('sender_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('recipient_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('sender_fingerprint', 'text', (c) => c.notNull())
    .addColumn('sender_nickname', 'text', (c) => c.notNull())
    .addColumn('recipient_fingerprint', 'text', (c) => c.notNull())
    /** AES-256-GCM of {"subject","body"} under a per-message key, base64. */
    .addColumn('ciphertext', 'text', (c) => c.notNull())
    /** JSON {fingerprint: base64 RSA-OAEP(key)} for the recipient and the sender. */
    .addColumn('envelopes', 'text', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('read_at', 'bigint')
    .addColumn('sender_deleted', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('recipient_deleted', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await db.schema
    .createIndex('pm_recipient')
    .on('private_messages')
    .columns(['recipient_id', 'id'])
    .execute();
  await db.schema
    .createIndex('pm_sender')
    .on('private_messages')
    .columns(['sender_id', 'id'])
    .execute();

  await db.schema
    .createTable('reports')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('board_id', 'text', (c) => c.notNull())
    .addColumn('reporter_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('reason', 'text', (c) => c.notNull())
    /** What the message said when it was reported, JSON: the queue stays readable after a deletion. */
    .addColumn('snapshot', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('open'))
    .addColumn('resolved_by', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('resolution_note', 'text')
    .addColumn('resolved_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('reports_one_per_reporter', ['message_id', 'reporter_id'])
    .execute();
  await db.schema.createIndex('reports_status').on('reports').columns(['status', 'id']).execute();

  await db.schema
    .createTable('modlog')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('actor_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('actor_name', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}
