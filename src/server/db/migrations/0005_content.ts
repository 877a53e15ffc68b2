// Content: BitSync manifests (one per content_hash: dedup), uploaded attachments, and what refers
// to each content (messages, private messages, applets), which decides who may read it.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('manifests')
    .addColumn('content_hash', 'text', (c) => c.primaryKey())
    .addColumn('manifest', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('attachments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('content_hash', 'text', (c) => c.notNull().references('manifests.content_hash'))
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('mime_type', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('uploader_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('attachments_hash')
    .on('attachments')
    .columns(['content_hash', 'uploader_id'])
    .execute();

  await db.schema
    .createTable('content_refs')
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('ref_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('content_refs_pk', ['content_hash', 'kind', 'ref_id'])
    .execute();
  await db.schema
    .createIndex('content_refs_ref')
    .on('content_refs')
    .columns(['kind', 'ref_id'])
    .execute();
}
