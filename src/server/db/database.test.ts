// The data layer on SQLite and PostgreSQL: migrations, value types, constraints, transactions,
// the instance identity and session expiry behave the same on both.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAxon } from '../../test-support/axon-process.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test-support/databases.js';
import { deleteExpiredSessions } from '../modules/accounts/sessions.js';
import { toUser, USER_COLUMNS } from '../modules/accounts/user.js';
import { ensureInstanceIdentity, IdentitySecretMismatch } from '../modules/federation/identity.js';
import { openDatabase, type AxonDatabase } from './database.js';
import { isUniqueViolation } from './errors.js';
import { MIGRATION_NAMES, migrateToLatest } from './migrate.js';
import type { NewUser } from './schema.js';

const TABLES = [
  'banned_pubkeys',
  'boards',
  'ignored_pubkeys',
  'instance_identity',
  'messages',
  'modlog',
  'private_messages',
  'pubkeys',
  'reports',
  'sessions',
  'users',
  'applets',
  'room_presence',
  'room_state',
];

function newUser(id: string, overrides: Partial<NewUser> = {}): NewUser {
  return {
    id,
    username: id,
    username_lower: id.toLowerCase(),
    nickname: id,
    timezone: 'UTC',
    pubkey: 'pem',
    fingerprint: randomBytes(32).toString('hex'),
    password_kdf: '{}',
    password_verifier: 'v',
    private_key_by_password: 'x',
    private_key_by_recovery: 'y',
    avatar: null,
    avatar_mime: null,
    avatar_hash: null,
    banned_until: null,
    ban_reason: null,
    created_at: Date.now(),
    updated_at: Date.now(),
    ...overrides,
  };
}

describe.each(DIALECTS)('database on %s', (dialect) => {
  let test: TestDatabase;
  let database: AxonDatabase;

  beforeAll(async () => {
    test = await createTestDatabase(dialect);
    database = openDatabase(test.config);
  });
  afterAll(async () => {
    await database.close();
    await test.drop();
  });

  it('migrates once, even when two processes start together', async () => {
    const env = { DATABASE_URL: test.url, AXON_DATA_DIR: test.dir, LOG_LEVEL: 'warn' };
    const runs = await Promise.all([1, 2].map(() => runAxon(['migrate'], { env })));
    expect(runs.map((r) => r.code)).toEqual([0, 0]);
    const said = runs.map((r) => r.stdout.trim()).sort();
    expect(said).toEqual([`applied: ${MIGRATION_NAMES.join(', ')}`, 'database is up to date']);
    expect(await migrateToLatest(database)).toEqual([]);
    const tables = (await database.db.introspection.getTables()).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(TABLES));
  });

  it('reads booleans, times and counts back as the same JS values', async () => {
    const when = Date.UTC(2030, 0, 1, 12, 30, 15, 123);
    await database.db
      .insertInto('users')
      .values(newUser('typed', { is_sysop: true, is_banned: false, banned_until: when, karma: -3 }))
      .execute();
    const row = await database.db
      .selectFrom('users')
      .select(USER_COLUMNS)
      .where('id', '=', 'typed')
      .executeTakeFirstOrThrow();
    const user = toUser(row);
    expect(user).toMatchObject({
      isSysop: true,
      isBanned: false,
      canPost: true,
      karma: -3,
      bannedUntil: when,
    });
    expect(typeof row.banned_until).toBe('number');
    const filtered = await database.db
      .selectFrom('users')
      .select('id')
      .where('is_sysop', '=', true)
      .where('can_upload', '=', true)
      .execute();
    expect(filtered.map((r) => r.id)).toEqual(['typed']);
  });

  it('reports unique violations the same way', async () => {
    let caught: unknown;
    try {
      await database.db
        .insertInto('users')
        .values(newUser('Typed', { username_lower: 'typed' }))
        .execute();
    } catch (error) {
      caught = error;
    }
    expect(isUniqueViolation(caught)).toBe(true);
    expect(isUniqueViolation(new Error('other'))).toBe(false);
  });

  it('rolls a failed transaction back whole', async () => {
    await expect(
      database.db.transaction().execute(async (trx) => {
        await trx.insertInto('users').values(newUser('halfway')).execute();
        await trx
          .insertInto('users')
          .values(newUser('typed2', { username_lower: 'typed' }))
          .execute();
      }),
    ).rejects.toSatisfy(isUniqueViolation);
    const row = await database.db
      .selectFrom('users')
      .select('id')
      .where('id', '=', 'halfway')
      .executeTakeFirst();
    expect(row).toBeUndefined();
  });

  it('cascades a user deletion to their sessions and ignore list', async () => {
    await database.db.insertInto('users').values(newUser('leaver')).execute();
    await database.db
      .insertInto('sessions')
      .values({
        id_hash: 'h-leaver',
        user_id: 'leaver',
        private_key_by_session: 's',
        created_at: 1,
        expires_at: 2,
      })
      .execute();
    await database.db
      .insertInto('ignored_pubkeys')
      .values({ user_id: 'leaver', fingerprint: 'f', created_at: 1 })
      .execute();
    await database.db.deleteFrom('users').where('id', '=', 'leaver').execute();
    expect(
      await database.db
        .selectFrom('sessions')
        .selectAll()
        .where('user_id', '=', 'leaver')
        .execute(),
    ).toEqual([]);
    expect(
      await database.db
        .selectFrom('ignored_pubkeys')
        .selectAll()
        .where('user_id', '=', 'leaver')
        .execute(),
    ).toEqual([]);
  });

  it('deletes expired sessions and keeps live ones', async () => {
    const now = Date.now();
    await database.db
      .insertInto('sessions')
      .values([
        {
          id_hash: 'old',
          user_id: 'typed',
          private_key_by_session: 's',
          created_at: now - 10,
          expires_at: now - 1,
        },
        {
          id_hash: 'live',
          user_id: 'typed',
          private_key_by_session: 's',
          created_at: now,
          expires_at: now + 60_000,
        },
      ])
      .execute();
    expect(await deleteExpiredSessions(database.db, now)).toBe(1);
    const left = await database.db
      .selectFrom('sessions')
      .select('id_hash')
      .where('user_id', '=', 'typed')
      .execute();
    expect(left.map((r) => r.id_hash)).toEqual(['live']);
  });

  it('creates one instance identity even when two processes start at once, sealed under the secret', async () => {
    const sealKey = randomBytes(32);
    const [a, b] = await Promise.all([
      ensureInstanceIdentity(database, sealKey),
      ensureInstanceIdentity(database, sealKey),
    ]);
    expect(a.fingerprint).toBe(b.fingerprint);
    expect((await ensureInstanceIdentity(database, sealKey)).fingerprint).toBe(a.fingerprint);
    const rows = await database.db.selectFrom('instance_identity').selectAll().execute();
    expect(rows).toHaveLength(1);
    await expect(ensureInstanceIdentity(database, randomBytes(32))).rejects.toBeInstanceOf(
      IdentitySecretMismatch,
    );
  });
});
