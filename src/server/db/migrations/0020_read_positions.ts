// Where each signed-in reader stopped reading each thread: the seq of the latest post they have
// seen. Unread markers and "jump to first unread" compare it with the thread's posts, local and
// remote alike. A row goes with its reader and with its thread's opening post.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('read_positions')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('thread_id', 'text', (c) =>
      c.notNull().references('messages.id').onDelete('cascade'),
    )
    .addColumn('read_seq', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('read_positions_pk', ['user_id', 'thread_id'])
    .execute();
  // Deleting a thread's opening post finds its readers' rows by thread.
  await db.schema
    .createIndex('read_positions_thread')
    .on('read_positions')
    .column('thread_id')
    .execute();
}
