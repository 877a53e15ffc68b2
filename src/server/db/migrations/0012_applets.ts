// Applets grow their code and configuration: the BitSync content hash of their code, parameters
// (JSON), debug mode, the MIME types they open, and an approval status. Applets registered before
// this migration were registered by sysops and stay approved. Each (applet, user) may keep one
// BitSync object of data, and one high-score entry.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('applets').addColumn('code_hash', 'text').execute();
  await db.schema
    .alterTable('applets')
    .addColumn('parameters', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
  await db.schema
    .alterTable('applets')
    .addColumn('is_debug_mode', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await db.schema
    .alterTable('applets')
    .addColumn('handles_mime_types', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute();
  await db.schema
    .alterTable('applets')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('approved'))
    .execute();

  await db.schema
    .createTable('applet_data')
    .addColumn('applet_id', 'text', (c) => c.notNull().references('applets.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('applet_data_pk', ['applet_id', 'user_id'])
    .execute();
  await db.schema
    .createTable('high_scores')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('applet_id', 'text', (c) => c.notNull().references('applets.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('score', 'bigint', (c) => c.notNull())
    .addColumn('wins', 'bigint', (c) => c.notNull())
    .addColumn('losses', 'bigint', (c) => c.notNull())
    .addColumn('draws', 'bigint', (c) => c.notNull())
    .addColumn('level', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('high_scores_applet_user', ['applet_id', 'user_id'])
    .execute();
  await db.schema
    .createIndex('high_scores_rank')
    .on('high_scores')
    .columns(['applet_id', 'score'])
    .execute();
}
