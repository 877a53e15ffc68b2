// Foundation tables: users, sessions, the instance identity, ignored and banned pubkeys.
import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const binary = dialect === 'postgres' ? 'bytea' : 'blob';

  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('username_lower', 'text', (c) => c.notNull().unique())
    .addColumn('nickname', 'text', (c) => c.notNull())
    .addColumn('timezone', 'text', (c) => c.notNull())
    .addColumn('pubkey', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull().unique())
    .addColumn('password_kdf', 'text', (c) => c.notNull())
    .addColumn('password_verifier', 'text', (c) => c.notNull())
    .addColumn('private_key_by_password', 'text', (c) => c.notNull())
    .addColumn('private_key_by_recovery', 'text', (c) => c.notNull())
    .addColumn('avatar', binary)
    .addColumn('avatar_mime', 'text')
    .addColumn('avatar_hash', 'text')
    .addColumn('karma', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('is_sysop', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('is_moderator', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('is_agent', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('is_banned', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('banned_until', 'bigint')
    .addColumn('ban_reason', 'text')
    .addColumn('can_post', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('can_upload', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('private_key_by_session', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_user_id').on('sessions').column('user_id').execute();
  await db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at').execute();

  await db.schema
    .createTable('instance_identity')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('pubkey', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('private_key_sealed', 'text', (c) => c.notNull())
    .addColumn('nickname', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('ignored_pubkeys')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('ignored_pubkeys_pk', ['user_id', 'fingerprint'])
    .execute();

  await db.schema
    .createTable('banned_pubkeys')
    .addColumn('fingerprint', 'text', (c) => c.primaryKey())
    .addColumn('pubkey', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('banned_by', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .execute();
}
