// Notifications: what a signed-in user is told of (replies to their posts, replies in threads they
// watch, mentions, private messages), the threads they chose to watch or leave, and a per-user
// version that every change of what they are told moves (the live feed's cursor).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('notifications')
    // UUIDv7: sorts by creation, so it is the list's order and cursor.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    // 'reply', 'thread_reply', 'mention' or 'private_message'.
    .addColumn('kind', 'text', (c) => c.notNull())
    // A deleted message or letter takes its notifications with it.
    .addColumn('message_id', 'text', (c) => c.references('messages.id').onDelete('cascade'))
    .addColumn('private_message_id', 'text', (c) =>
      c.references('private_messages.id').onDelete('cascade'),
    )
    .addColumn('board_id', 'text')
    .addColumn('thread_id', 'text')
    .addColumn('actor_fingerprint', 'text', (c) => c.notNull())
    // As shown: `nickname@instance` for a remote author.
    .addColumn('actor_nickname', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    // The message's subject; empty for a private message (the server cannot read its subject).
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('read_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('notifications_user')
    .on('notifications')
    .columns(['user_id', 'id'])
    .execute();
  await db.schema
    .createIndex('notifications_message')
    .on('notifications')
    .column('message_id')
    .execute();
  await db.schema
    .createIndex('notifications_private_message')
    .on('notifications')
    .column('private_message_id')
    .execute();

  // A user's own choice on a thread; without a row, a user watches the threads they opened.
  await db.schema
    .createTable('thread_watches')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('thread_id', 'text', (c) => c.notNull())
    .addColumn('watching', 'boolean', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('thread_watches_pk', ['user_id', 'thread_id'])
    .execute();
  await db.schema
    .createIndex('thread_watches_thread')
    .on('thread_watches')
    .columns(['thread_id', 'watching'])
    .execute();

  // Moves with every change of what the user is told (a notification, a read mark, a role).
  await db.schema
    .createTable('notification_versions')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('version', 'bigint', (c) => c.notNull())
    .execute();
}
