// Attachments across instances (DESIGN.md §7): which content each chunk belongs to (so a peer's
// chunk request can be checked against the boards shared with it) and the durable jobs that fetch
// the chunks of content a peer announced.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('content_chunks')
    .addColumn('chunk_hash', 'text', (c) => c.notNull())
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('content_chunks_pk', ['chunk_hash', 'content_hash'])
    .execute();
  await db.schema
    .createIndex('content_chunks_content')
    .on('content_chunks')
    .column('content_hash')
    .execute();
  // Content stored before this migration: its chunks, read from the manifests.
  const manifests = await sql<{
    content_hash: string;
    manifest: string;
  }>`SELECT content_hash, manifest FROM manifests`.execute(db);
  for (const row of manifests.rows) {
    const chunks = (JSON.parse(row.manifest) as { chunks: string[] }).chunks;
    for (const chunk of chunks) {
      await sql`INSERT INTO content_chunks (chunk_hash, content_hash) VALUES (${chunk}, ${row.content_hash})`.execute(
        db,
      );
    }
  }

  await db.schema
    .createTable('remote_fetches')
    .addColumn('content_hash', 'text', (c) => c.primaryKey())
    // The manifest as the peer sent it (envelopes merged in after a rekey); it joins the manifests
    // table only once every chunk is stored and the whole verified.
    .addColumn('manifest', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    // The peer that announced it first, and every trusted peer that announced it (JSON array):
    // the places its chunks may be fetched from.
    .addColumn('origin_peer', 'text', (c) => c.notNull())
    .addColumn('source_peers', 'text', (c) => c.notNull())
    // pending | unreachable | failed | refused | complete
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('chunks_total', 'integer', (c) => c.notNull())
    .addColumn('chunks_done', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('bytes_fetched', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    // The process fetching it now, and until when (one fetcher per content).
    .addColumn('leased_by', 'text')
    .addColumn('leased_until', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('remote_fetches_due')
    .on('remote_fetches')
    .columns(['state', 'next_attempt_at'])
    .execute();
  await db.schema
    .createIndex('remote_fetches_origin')
    .on('remote_fetches')
    .columns(['origin_peer', 'created_at'])
    .execute();
}
