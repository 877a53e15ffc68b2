// Federation (DESIGN.md §7): the trusted peers, the replay cache of signed requests, the
// append-only federation log and, per peer, how far delivery and pulling have come.
import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('peers')
    .addColumn('fingerprint', 'text', (c) => c.primaryKey())
    .addColumn('pubkey', 'text', (c) => c.notNull())
    .addColumn('base_url', 'text', (c) => c.notNull().unique())
    .addColumn('nickname', 'text', (c) => c.notNull())
    .addColumn('trusted', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('trusted_for_moderation', 'boolean', (c) => c.notNull().defaultTo(false))
    // 'direct', 'proxy' (the global AXON_PROXY) or 'socks5' (proxy_url below).
    .addColumn('transport', 'text', (c) => c.notNull().defaultTo('direct'))
    .addColumn('proxy_url', 'text')
    // A key change the peer announced and no sysop has accepted yet.
    .addColumn('pending_pubkey', 'text')
    .addColumn('pending_fingerprint', 'text')
    // Per-peer limits; null means the instance default.
    .addColumn('max_attachment_bytes', 'bigint')
    .addColumn('bytes_per_day', 'bigint')
    .addColumn('objects_per_minute', 'integer')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('federation_nonces')
    .addColumn('key_fingerprint', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('seen_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('federation_nonces_pk', ['key_fingerprint', 'nonce'])
    .execute();
  await db.schema
    .createIndex('federation_nonces_seen')
    .on('federation_nonces')
    .column('seen_at')
    .execute();

  await db.schema
    .createTable('federation_log')
    .addColumn('seq', dialect === 'postgres' ? 'bigint' : 'integer', (c) =>
      dialect === 'postgres'
        ? c.primaryKey().generatedAlwaysAsIdentity()
        : c.primaryKey().autoIncrement(),
    )
    .addColumn('object_id', 'text', (c) => c.notNull().unique())
    .addColumn('type', 'text', (c) => c.notNull())
    // The federation_room_id the object belongs to (null for objects not tied to a board).
    .addColumn('room_id', 'text')
    // The peer it came from; null when this instance originated it.
    .addColumn('received_from', 'text')
    // The signed object (RFC 8785 JSON) and, beside it, its manifests (JSON, outside the signature).
    .addColumn('object', 'text', (c) => c.notNull())
    .addColumn('manifests', 'text')
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('federation_log_room_seq')
    .on('federation_log')
    .columns(['room_id', 'seq'])
    .execute();

  await db.schema
    .createTable('peer_delivery')
    .addColumn('peer_fingerprint', 'text', (c) => c.primaryKey())
    // Push: the highest log seq the peer acknowledged (everything at or below it is delivered).
    .addColumn('acked_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    // Pull: the peer's own cursor up to which this instance has pulled.
    .addColumn('pulled_cursor', 'text')
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull().defaultTo(0))
    // Lease: the process delivering to this peer now, and until when (one deliverer per peer).
    .addColumn('leased_by', 'text')
    .addColumn('leased_until', 'bigint')
    .addColumn('last_success_at', 'bigint')
    .addColumn('last_error_at', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('objects_out', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('bytes_out', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('objects_in', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('bytes_in', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('refused_in', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
}
