// Federation limits kept where every process sees them: each peer's inbox window for its
// objects-per-minute limit (on its delivery row), and deletions that arrived before their
// message, kept (a bounded number per peer, for a while) until the message arrives.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // When the peer's current one-minute window began (ms), and the objects it sent in it.
  await db.schema
    .alterTable('peer_delivery')
    .addColumn('inbox_window_start', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('peer_delivery')
    .addColumn('inbox_window_objects', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('federation_pending_deletes')
    // The deletion object's id: the same deletion twice is one row.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('object_id', 'text', (c) => c.notNull())
    .addColumn('peer_fingerprint', 'text', (c) => c.notNull())
    .addColumn('author_fingerprint', 'text', (c) => c.notNull())
    // The signed deletion, as received (canonical JSON is recomputed when it is applied).
    .addColumn('object', 'text', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('federation_pending_deletes_object')
    .on('federation_pending_deletes')
    .column('object_id')
    .execute();
  await db.schema
    .createIndex('federation_pending_deletes_peer')
    .on('federation_pending_deletes')
    .columns(['peer_fingerprint', 'received_at'])
    .execute();
}
