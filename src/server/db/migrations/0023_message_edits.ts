// Edited messages: every signed version of a message is kept (its history, for its author and
// moderators), while the message row holds the latest one and the edit that signed it.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Both null while the message is as first posted; else the latest edit's time and object id
  // (the id is part of what the author signed, so the row's signature can be checked).
  await db.schema.alterTable('messages').addColumn('edited_at', 'bigint').execute();
  await db.schema.alterTable('messages').addColumn('edit_id', 'text').execute();

  // Version 1 is the message as first posted (edit_id null), then one row per edit in the order
  // they arrived here. A deleted message takes its history with it.
  await db.schema
    .createTable('message_versions')
    .addColumn('message_id', 'text', (c) =>
      c.notNull().references('messages.id').onDelete('cascade'),
    )
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('edit_id', 'text', (c) => c.unique())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('message_versions_pk', ['message_id', 'version'])
    .execute();
}
