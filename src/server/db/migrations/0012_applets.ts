// Applets grow their code and configuration: the BitSync content hash of their code, parameters
// (JSON), debug mode, the MIME types they open, and an approval status. Applets registered before
// this migration were registered by sysops and stay approved.
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
}
