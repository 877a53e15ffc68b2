// Private messages between instances (docs/federation.md, "Private messages"): which peer the other
// party of a message lives on, the sender's view of its delivery, the durable per-peer outbox of
// signed messages waiting for their recipient's instance, and the bounded cache of remote users'
// public keys. Every column holds ciphertext, keys or addresses: never a message's text.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // The peer the other party lives on (null: both are local users).
  await db.schema.alterTable('private_messages').addColumn('peer_fingerprint', 'text').execute();
  // A remote recipient's nickname, as its instance gave it with its key.
  await db.schema.alterTable('private_messages').addColumn('recipient_nickname', 'text').execute();
  // For a message sent to another instance: 'pending', 'delivered' or 'refused' (with the reason).
  await db.schema.alterTable('private_messages').addColumn('delivery_state', 'text').execute();
  await db.schema.alterTable('private_messages').addColumn('delivery_error', 'text').execute();

  await db.schema
    .createTable('pm_outbox')
    .addColumn('pm_id', 'text', (c) => c.primaryKey())
    .addColumn('peer_fingerprint', 'text', (c) => c.notNull())
    // The signed private_message object, as JSON: ciphertext and key envelopes only.
    .addColumn('object', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('leased_until', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('pm_outbox_peer')
    .on('pm_outbox')
    .columns(['peer_fingerprint', 'created_at'])
    .execute();
  await db.schema.createIndex('pm_outbox_due').on('pm_outbox').column('next_attempt_at').execute();

  await db.schema
    .createTable('remote_user_keys')
    .addColumn('peer_fingerprint', 'text', (c) => c.notNull())
    // The name asked for, lowercased: a username or a key fingerprint.
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('nickname', 'text', (c) => c.notNull())
    .addColumn('pubkey', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('fetched_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('remote_user_keys_pk', ['peer_fingerprint', 'name'])
    .execute();
  await db.schema
    .createIndex('remote_user_keys_fetched')
    .on('remote_user_keys')
    .column('fetched_at')
    .execute();
}
