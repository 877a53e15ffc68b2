// The forum's own state on messages and boards: tombstones left by deleted opening posts (who
// deleted, when) so a thread keeps its replies, and per-user read positions in threads.
import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('messages').addColumn('deleted_at', 'bigint').execute();
  // 'author' or 'moderator'; null while the message stands.
  await db.schema.alterTable('messages').addColumn('deleted_by', 'text').execute();

  await db.schema
    .createTable('read_positions')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('thread_id', 'text', (c) => c.notNull())
    // The seq of the last message of the thread the user has seen.
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('read_positions_pk', ['user_id', 'thread_id'])
    .execute();
}
