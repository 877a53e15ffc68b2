// The federation log's objects (DESIGN.md §7) beyond the foundation tables: which instance a
// remote author's message came through, the author of each log entry (profile updates go to the
// peers of boards that author posted on), and the remote authors' latest signed profiles.
import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  // null for a local author; else the nickname of the peer the message came from.
  await db.schema.alterTable('messages').addColumn('author_instance', 'text').execute();
  await db.schema.alterTable('federation_log').addColumn('author_fingerprint', 'text').execute();
  await db.schema
    .createIndex('federation_log_author')
    .on('federation_log')
    .columns(['author_fingerprint', 'seq'])
    .execute();
  await db.schema
    .createTable('remote_authors')
    .addColumn('fingerprint', 'text', (c) => c.primaryKey())
    .addColumn('nickname', 'text', (c) => c.notNull())
    .addColumn('instance', 'text', (c) => c.notNull())
    .addColumn('avatar', dialect === 'postgres' ? 'bytea' : 'blob')
    .addColumn('avatar_mime', 'text')
    .addColumn('avatar_hash', 'text')
    // created_at of the profile object applied last: an older update arriving late changes nothing.
    .addColumn('profile_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}
