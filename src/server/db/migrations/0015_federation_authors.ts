// What federation part two keeps: the instance a relayed object was first posted on (as the peer
// that relayed it vouches), the backfill of a board's history older than its sharing (a durable,
// resumable job per board), and the key-change notices a restored instance owes its peers.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // null for an object made here; else the nickname of the instance it was made on.
  await db.schema.alterTable('federation_log').addColumn('origin', 'text').execute();

  // One job per board: its messages with seq in (next_seq, until_seq] go to the log, in order.
  await db.schema
    .createTable('federation_backfill')
    .addColumn('board_id', 'text', (c) => c.primaryKey())
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('next_seq', 'bigint', (c) => c.notNull())
    .addColumn('until_seq', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  // After `axon restore --new-identity`: one signed notice per peer, sent until it is answered.
  await db.schema
    .createTable('key_change_notices')
    .addColumn('peer_fingerprint', 'text', (c) => c.primaryKey())
    .addColumn('notice', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('sent_at', 'bigint')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .execute();
}
