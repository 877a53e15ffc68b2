// Federated moderation: every FederatedAction a peer sent here, applied or refused, with what a
// local moderator needs to reverse an applied one (the state it changed, as it was).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('federated_actions')
    // The action object's id: a second delivery of it is a duplicate, never applied again.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('peer_fingerprint', 'text', (c) => c.notNull())
    .addColumn('peer_nickname', 'text', (c) => c.notNull())
    .addColumn('moderator_fingerprint', 'text', (c) => c.notNull())
    .addColumn('moderator_nickname', 'text', (c) => c.notNull())
    // delete_message, ban_pubkey, unban_pubkey or correct_profile.
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    // 'applied', 'refused' or 'reversed'.
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('refusal', 'text')
    // The signed object, canonical JSON.
    .addColumn('object', 'text', (c) => c.notNull())
    // JSON: what the action changed, as it was before (null when refused).
    .addColumn('previous', 'text')
    .addColumn('reversed_by', 'text')
    .addColumn('reversed_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('federated_actions_created')
    .on('federated_actions')
    .columns(['created_at', 'id'])
    .execute();
}
