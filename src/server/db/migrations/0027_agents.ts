// Agents (accounts that are backend services): the key each one signs with, sealed under the
// instance secret; their API tokens, stored only as hashes with the boards and applets they may
// post to; and whether a message's author was an agent, so readers see a bot as one.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('agent_keys')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    // AES-256-GCM under a key derived from the instance secret, bound to the agent's id.
    .addColumn('private_key_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('agent_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    // Lowercase hex SHA-256 of the token's secret: the token itself is shown once, never stored.
    .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
    .addColumn('label', 'text', (c) => c.notNull())
    // JSON arrays of board ids and applet ids the token may post to.
    .addColumn('boards', 'text', (c) => c.notNull())
    .addColumn('applets', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('last_used_at', 'bigint')
    .execute();
  await db.schema.createIndex('agent_tokens_user').on('agent_tokens').column('user_id').execute();
  await db.schema
    .alterTable('messages')
    .addColumn('author_is_agent', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
}
