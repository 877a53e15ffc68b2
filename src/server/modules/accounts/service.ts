// Accounts: registration, login, sessions, profiles, passwords, recovery, bans. Transport-neutral:
// HTTP routes and the CLI call the same functions, and every command is one transaction.
import { createHash, type KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { z } from 'zod';
import { IntegrityError } from '../../../crypto/aead.js';
import { AVATAR_MAX_BYTES } from '../../../shared/accounts.js';
import { generateRsaKeyPair } from '../../../crypto/keys.js';
import type { AxonDatabase } from '../../db/database.js';
import type { DatabaseSchema, UserUpdate } from '../../db/schema.js';
import { isUniqueViolation } from '../../db/errors.js';
import {
  AppError,
  conflict,
  forbidden,
  notFound,
  parseInput,
  unauthorized,
} from '../../http/errors.js';
import { decodeCursor, toPage, type Page } from '../../http/pagination.js';
import { openPrivateKey, sealPrivateKey } from './key-vault.js';
import {
  burnPasswordCheck,
  derivePasswordKeys,
  newPasswordKdf,
  type PasswordKdf,
  type PasswordKeys,
  parseKdf,
  verifierMatches,
} from './passwords.js';
import { recordModAction, type Actor } from '../moderation/modlog.js';
import { actorFor, rankedUser } from '../moderation/banned-pubkeys.js';
import { accountBanned } from './ban-notice.js';
import { assertCan, isBanActive } from './permissions.js';
import { newRecoveryKey, parseRecoveryKey, recoveryKek } from './recovery-key.js';
import {
  LoginBody,
  PasswordChangeBody,
  ProfilePatch,
  RecoverBody,
  RegisterBody,
} from './schema.js';
import {
  revokeAllSessions,
  revokeSession,
  type IssuedSession,
  type Session,
  type SessionTokens,
} from './sessions.js';
import type { Realtime } from '../realtime/realtime.js';
import type { WorkBudget } from '../../work-budget.js';
import { USER_COLUMNS, toUser, type User } from './user.js';

export interface Roles {
  isSysop?: boolean;
  isModerator?: boolean;
}

/** The roles and rights a sysop may grant or take away; absent ones stay as they are. */
export interface UserFlags {
  isModerator?: boolean | undefined;
  canPost?: boolean | undefined;
  canUpload?: boolean | undefined;
}

const USER_FLAGS = [
  { key: 'isModerator', column: 'is_moderator', name: 'moderator' },
  { key: 'canPost', column: 'can_post', name: 'posting' },
  { key: 'canUpload', column: 'can_upload', name: 'uploading' },
] as const;

export interface SignedIn {
  user: User;
  session: IssuedSession;
}

export interface Registered extends SignedIn {
  /** Shown to the user once; only its sealed copy of the private key is stored. */
  recoveryKey: string;
}

export interface Avatar {
  bytes: Buffer;
  mime: string;
  hash: string;
}

const INVALID_CREDENTIALS = () =>
  unauthorized('the username or password is wrong', 'INVALID_CREDENTIALS');

export type ProfileListener = (
  trx: Kysely<DatabaseSchema>,
  userId: string,
  signer: KeyObject,
) => Promise<(() => void) | undefined>;

export class AccountService {
  constructor(
    private readonly database: AxonDatabase,
    private readonly tokens: SessionTokens,
    /** Bounds the Argon2id runs and key generations in flight and waiting (503 past it). */
    readonly work: WorkBudget,
    /** Told when sessions end, so open streams and long polls end with them. */
    private readonly realtime?: Realtime,
  ) {}

  /**
   * Told of a nickname or avatar change inside its transaction, with the key of the session that
   * made it (the federation module signs a profile update with it); returns what to do after the
   * commit.
   */
  profileChanged: ProfileListener | undefined;

  /**
   * Told, inside the transaction, that a user's roles or rights changed (their signed-in tabs are
   * told at once: notifications' live feed); returns what to do after the commit.
   */
  rolesChanged: ((trx: Kysely<DatabaseSchema>, userId: string) => Promise<() => void>) | undefined;

  /** One profile change and its listener in one transaction, then the user as it is now. */
  private async changeProfile(
    userId: string,
    set: UserUpdate,
    signer: KeyObject | undefined,
  ): Promise<User> {
    const after = await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('users').set(set).where('id', '=', userId).execute();
      if (signer === undefined || this.profileChanged === undefined) return undefined;
      return this.profileChanged(trx, userId, signer);
    });
    after?.();
    return this.getUser(userId);
  }

  /** One Argon2id run inside the work budget. */
  private stretch(password: string, kdf: PasswordKdf): Promise<PasswordKeys> {
    return this.work.run(() => derivePasswordKeys(password, kdf));
  }

  private get db() {
    return this.database.db;
  }

  /** Self-service sign-up: the account and its first session, in one transaction. */
  async register(input: z.input<typeof RegisterBody>): Promise<Registered> {
    const created = await this.insertAccount(input, {}, true);
    return { ...created, session: created.session! };
  }

  /** An operator's account creation (CLI): roles may be given, no session is opened. */
  async createAccount(
    input: z.input<typeof RegisterBody>,
    roles: Roles,
  ): Promise<{ user: User; recoveryKey: string }> {
    const { user, recoveryKey } = await this.insertAccount(input, roles, false);
    return { user, recoveryKey };
  }

  private async insertAccount(
    input: z.input<typeof RegisterBody>,
    roles: Roles,
    openSession: boolean,
  ): Promise<{ user: User; recoveryKey: string; session: IssuedSession | undefined }> {
    const { username, password, nickname, timezone } = parseInput(RegisterBody, input);
    if (await this.findRow(username)) throw usernameTaken(username);

    // Slow work (key generation, Argon2id) happens before the transaction opens.
    // Both take one slot of the work budget, so a full line refuses before either is spent.
    const kdf = newPasswordKdf();
    const [pair, { verifier, kek }] = await this.work.run(async () => {
      const generated = await generateRsaKeyPair();
      return [generated, await derivePasswordKeys(password, kdf)] as const;
    });
    const recovery = newRecoveryKey();
    const id = uuidv7();
    const now = Date.now();
    const minted = openSession ? await this.tokens.mint(id, pair.privateKeyDer) : undefined;
    try {
      const session = await this.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('users')
          .values({
            id,
            username,
            username_lower: username.toLowerCase(),
            nickname: nickname ?? username,
            timezone: timezone ?? 'UTC',
            pubkey: pair.publicKey,
            fingerprint: pair.fingerprint,
            password_kdf: JSON.stringify(kdf),
            password_verifier: verifier.toString('base64'),
            private_key_by_password: sealPrivateKey(kek, id, 'password', pair.privateKeyDer),
            private_key_by_recovery: sealPrivateKey(
              recoveryKek(recovery.bytes),
              id,
              'recovery',
              pair.privateKeyDer,
            ),
            avatar: null,
            avatar_mime: null,
            avatar_hash: null,
            banned_until: null,
            ban_reason: null,
            is_sysop: roles.isSysop ?? false,
            is_moderator: roles.isModerator ?? false,
            created_at: now,
            updated_at: now,
          })
          .execute();
        return minted === undefined ? undefined : this.tokens.store(trx, minted);
      });
      return { user: await this.getUser(id), session, recoveryKey: recovery.display };
    } catch (error) {
      if (isUniqueViolation(error)) throw usernameTaken(username);
      throw error;
    }
  }

  async login(input: z.input<typeof LoginBody>): Promise<SignedIn> {
    const { username, password } = parseInput(LoginBody, input);
    const row = await this.findRow(username);
    if (row === undefined) {
      await this.work.run(() => burnPasswordCheck(password));
      throw INVALID_CREDENTIALS();
    }
    const { verifier, kek } = await this.stretch(password, parseKdf(row.password_kdf));
    const user = toUser(row);
    // An agent has no password (accounts/agents.ts): it acts only through its API tokens.
    if (user.isAgent || !verifierMatches(row.password_verifier, verifier))
      throw INVALID_CREDENTIALS();
    assertNotBanned(user);
    const der = openPrivateKey(kek, user.id, 'password', row.private_key_by_password);
    const session = await this.tokens.issue(this.db, user.id, der);
    return { user, session };
  }

  async logout(session: Session): Promise<void> {
    await revokeSession(this.db, session.idHash);
    await this.realtime?.announce({ kind: 'session', idHash: session.idHash });
  }

  async changePassword(
    session: Session,
    input: z.input<typeof PasswordChangeBody>,
  ): Promise<IssuedSession> {
    const { current_password, new_password } = parseInput(PasswordChangeBody, input);
    const row = await this.findRow(session.user.username);
    if (row === undefined) throw INVALID_CREDENTIALS();
    const current = await this.stretch(current_password, parseKdf(row.password_kdf));
    if (!verifierMatches(row.password_verifier, current.verifier)) {
      throw new AppError(403, 'WRONG_PASSWORD', 'current_password: is not the current password', {
        fields: [{ field: 'body.current_password', message: 'is not the current password' }],
      });
    }
    const der = openPrivateKey(current.kek, row.id, 'password', row.private_key_by_password);
    return this.replacePassword(row.id, new_password, der);
  }

  /** Sets a new password with the recovery key; the old recovery key is spent and a new one issued. */
  async recover(input: z.input<typeof RecoverBody>): Promise<Registered> {
    const { username, recovery_key, new_password } = parseInput(RecoverBody, input);
    const failed = () =>
      unauthorized('the username or recovery key is wrong', 'INVALID_RECOVERY_KEY');
    const bytes = parseRecoveryKey(recovery_key);
    const row = await this.findRow(username);
    if (bytes === undefined || row === undefined) throw failed();
    let der: Buffer;
    try {
      der = openPrivateKey(recoveryKek(bytes), row.id, 'recovery', row.private_key_by_recovery);
    } catch (error) {
      if (error instanceof IntegrityError) throw failed();
      throw error;
    }
    assertNotBanned(toUser(row));
    if (toUser(row).isAgent) throw failed();
    const recovery = newRecoveryKey();
    const session = await this.replacePassword(row.id, new_password, der, recovery.bytes);
    return { user: await this.getUser(row.id), session, recoveryKey: recovery.display };
  }

  /** Re-seals the private key under a new password (and recovery key), ending every session. */
  private async replacePassword(
    userId: string,
    newPassword: string,
    der: Buffer,
    newRecovery?: Buffer,
  ): Promise<IssuedSession> {
    const kdf = newPasswordKdf();
    const { verifier, kek } = await this.stretch(newPassword, kdf);
    const minted = await this.tokens.mint(userId, der);
    const issued = await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('users')
        .set({
          password_kdf: JSON.stringify(kdf),
          password_verifier: verifier.toString('base64'),
          private_key_by_password: sealPrivateKey(kek, userId, 'password', der),
          ...(newRecovery === undefined
            ? {}
            : {
                private_key_by_recovery: sealPrivateKey(
                  recoveryKek(newRecovery),
                  userId,
                  'recovery',
                  der,
                ),
              }),
          updated_at: Date.now(),
        })
        .where('id', '=', userId)
        .execute();
      await revokeAllSessions(trx, userId);
      return this.tokens.store(trx, minted);
    });
    await this.realtime?.announce({ kind: 'user', userId });
    return issued;
  }

  async getUser(id: string): Promise<User> {
    const row = await this.db
      .selectFrom('users')
      .select(USER_COLUMNS)
      .where('id', '=', id)
      .executeTakeFirst();
    if (row === undefined) throw notFound('user');
    return toUser(row);
  }

  async getUserByUsername(username: string): Promise<User> {
    const row = await this.findRow(username);
    if (row === undefined) throw notFound(`user ${username}`);
    return toUser(row);
  }

  /** `signer`: the session's key, so a nickname change reaches the peers that saw the author. */
  async updateProfile(
    userId: string,
    input: z.input<typeof ProfilePatch>,
    signer?: KeyObject,
  ): Promise<User> {
    const patch = parseInput(ProfilePatch, input);
    return this.changeProfile(
      userId,
      {
        ...(patch.nickname === undefined ? {} : { nickname: patch.nickname }),
        ...(patch.timezone === undefined ? {} : { timezone: patch.timezone }),
        updated_at: Date.now(),
      },
      patch.nickname === undefined ? undefined : signer,
    );
  }

  async setAvatar(user: User, bytes: Buffer, signer?: KeyObject): Promise<User> {
    assertCan(await actorFor(this.db, user), 'set_avatar');
    const userId = user.id;
    const mime = imageType(bytes);
    if (bytes.length > AVATAR_MAX_BYTES) {
      throw new AppError(
        413,
        'PAYLOAD_TOO_LARGE',
        `an avatar may be at most ${AVATAR_MAX_BYTES} bytes`,
      );
    }
    if (mime === undefined) {
      throw new AppError(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        'an avatar must be a PNG, JPEG, GIF or WebP image',
      );
    }
    return this.changeProfile(
      userId,
      {
        avatar: bytes,
        avatar_mime: mime,
        avatar_hash: createHash('sha256').update(bytes).digest('hex'),
        updated_at: Date.now(),
      },
      signer,
    );
  }

  async clearAvatar(userId: string, signer?: KeyObject): Promise<User> {
    return this.changeProfile(
      userId,
      { avatar: null, avatar_mime: null, avatar_hash: null, updated_at: Date.now() },
      signer,
    );
  }

  async getAvatar(userId: string): Promise<Avatar> {
    const row = await this.db
      .selectFrom('users')
      .select(['avatar', 'avatar_mime', 'avatar_hash'])
      .where('id', '=', userId)
      .executeTakeFirst();
    if (row?.avatar == null || row.avatar_mime === null || row.avatar_hash === null) {
      throw notFound('avatar');
    }
    return { bytes: Buffer.from(row.avatar), mime: row.avatar_mime, hash: row.avatar_hash };
  }

  /**
   * Bans a user now (until a time, or for good) and ends every session they hold; logged. `by`:
   * the moderator acting (absent: the operator), who may not ban themselves or a higher rank.
   */
  async ban(
    username: string,
    ban: { reason: string; until?: number | null; actor: Actor; by?: User },
  ): Promise<User> {
    if (ban.by !== undefined) assertCan(ban.by, 'moderate');
    const user = await this.getUserByUsername(username);
    if (ban.by !== undefined) {
      const by = ban.by;
      assertCan(await actorFor(this.db, by), 'ban_user', { target: user }, () =>
        forbidden(user.id === by.id ? 'you cannot ban yourself' : 'only a sysop can ban a sysop'),
      );
    }
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('users')
        .set({
          is_banned: true,
          banned_until: ban.until ?? null,
          ban_reason: ban.reason,
          updated_at: Date.now(),
        })
        .where('id', '=', user.id)
        .execute();
      await revokeAllSessions(trx, user.id);
      await recordModAction(trx, {
        actor: ban.actor,
        action: 'ban_user',
        targetType: 'user',
        targetId: user.id,
        reason: ban.reason,
        details: {
          username: user.username,
          until: ban.until == null ? null : new Date(ban.until).toISOString(),
        },
      });
    });
    await this.realtime?.announce({ kind: 'user', userId: user.id });
    return this.getUser(user.id);
  }

  /** Lifts a user's ban; `by` (absent: the operator) may lift only bans made by their rank or below. */
  async unban(username: string, actor: Actor, by?: User): Promise<User> {
    if (by !== undefined) assertCan(by, 'moderate');
    const user = await this.getUserByUsername(username);
    if (by !== undefined) {
      const banned = await this.db
        .selectFrom('modlog')
        .select('actor_id')
        .where('action', '=', 'ban_user')
        .where('target_id', '=', user.id)
        .orderBy('id', 'desc')
        .executeTakeFirst();
      const bannedBy =
        banned?.actor_id == null
          ? null
          : ((await rankedUser(this.db, ['id', banned.actor_id])) ?? null);
      assertCan(await actorFor(this.db, by), 'unban_user', { bannedBy }, () =>
        forbidden('only a sysop can lift a ban a sysop (or the operator) made'),
      );
    }
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('users')
        .set({ is_banned: false, banned_until: null, ban_reason: null, updated_at: Date.now() })
        .where('id', '=', user.id)
        .execute();
      await recordModAction(trx, {
        actor,
        action: 'unban_user',
        targetType: 'user',
        targetId: user.id,
        reason: 'ban lifted',
        details: { username: user.username },
      });
    });
    return this.getUser(user.id);
  }

  /** Adds delta (negative to take away) to a user's karma; logged. */
  async adjustKarma(
    username: string,
    change: { delta: number; reason: string; actor: Actor; by?: User },
  ): Promise<User> {
    if (change.by !== undefined) assertCan(change.by, 'moderate');
    const user = await this.getUserByUsername(username);
    if (change.by !== undefined) {
      const by = change.by;
      assertCan(await actorFor(this.db, by), 'adjust_karma', { target: user }, () =>
        forbidden(
          user.id === by.id
            ? 'you cannot change your own karma'
            : "only a sysop can change a sysop's karma",
        ),
      );
    }
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('users')
        .set((eb) => ({ karma: eb('karma', '+', change.delta), updated_at: Date.now() }))
        .where('id', '=', user.id)
        .execute();
      await recordModAction(trx, {
        actor: change.actor,
        action: 'adjust_karma',
        targetType: 'user',
        targetId: user.id,
        reason: change.reason,
        details: { username: user.username, delta: change.delta },
      });
    });
    return this.getUser(user.id);
  }

  /**
   * Grants or takes away the moderator role and the rights to post and upload; logged. Only the
   * flags that actually change are written and recorded. Nobody changes their own, so a slip
   * cannot lock a sysop out and a sysop's rights only ever change by another sysop's hand.
   */
  async setFlags(
    username: string,
    change: { flags: UserFlags; actor: Actor; by?: User },
  ): Promise<User> {
    if (change.by !== undefined) assertCan(change.by, 'admin');
    const target = await this.getUserByUsername(username);
    if (change.actor.id === target.id) {
      throw forbidden('you cannot change your own roles or rights; ask another sysop');
    }
    const after = await this.db.transaction().execute(async (trx) => {
      // Read again inside the transaction so the log records what the change really replaced.
      const row = await trx
        .selectFrom('users')
        .select(USER_COLUMNS)
        .where('id', '=', target.id)
        .executeTakeFirst();
      if (row === undefined) throw notFound(`user ${username}`);
      const before = toUser(row);
      const changed = USER_FLAGS.filter(
        (f) => change.flags[f.key] !== undefined && change.flags[f.key] !== before[f.key],
      );
      if (changed.length === 0) return undefined;
      const columns: Partial<Record<(typeof USER_FLAGS)[number]['column'], boolean>> = {};
      const details: Record<string, unknown> = { username: before.username };
      for (const flag of changed) {
        columns[flag.column] = change.flags[flag.key];
        details[flag.column] = change.flags[flag.key];
      }
      await trx
        .updateTable('users')
        .set({ ...columns, updated_at: Date.now() })
        .where('id', '=', before.id)
        .execute();
      await recordModAction(trx, {
        actor: change.actor,
        action: 'set_user_flags',
        targetType: 'user',
        targetId: before.id,
        reason: changed
          .map((f) => `${f.name} ${change.flags[f.key] === true ? 'granted' : 'revoked'}`)
          .join(', '),
        details,
      });
      return this.rolesChanged?.(trx, before.id);
    });
    after?.();
    return this.getUser(target.id);
  }

  /**
   * Users in sign-up order, keyset-paginated by id (UUIDv7 sorts by creation time). `by`: the user
   * asking (absent: the operator); only sysops see the list.
   */
  async listUsers(
    query: { cursor?: string | undefined; limit: number },
    by?: User,
  ): Promise<Page<User>> {
    if (by !== undefined) assertCan(by, 'admin');
    let q = this.db
      .selectFrom('users')
      .select(USER_COLUMNS)
      .orderBy('id')
      .limit(query.limit + 1);
    if (query.cursor !== undefined) {
      const [after] = decodeCursor(query.cursor, ['s']);
      q = q.where('id', '>', after as string);
    }
    const rows = await q.execute();
    return toPage(rows, query.limit, (r) => [r.id], toUser);
  }

  async hasSysop(): Promise<boolean> {
    const row = await this.db
      .selectFrom('users')
      .select('id')
      .where('is_sysop', '=', true)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  private findRow(username: string) {
    return this.db
      .selectFrom('users')
      .selectAll()
      .where('username_lower', '=', username.toLowerCase())
      .executeTakeFirst();
  }
}

function usernameTaken(username: string): AppError {
  return conflict('USERNAME_TAKEN', `username ${username} is taken`, {
    fields: [{ field: 'body.username', message: 'is taken' }],
  });
}

function assertNotBanned(user: User): void {
  if (isBanActive(user)) throw accountBanned(user);
}

const IMAGE_SIGNATURES: Array<[string, (b: Buffer) => boolean]> = [
  [
    'image/png',
    (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  ],
  ['image/jpeg', (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ['image/gif', (b) => /^GIF8[79]a/.test(b.subarray(0, 6).toString('latin1'))],
  [
    'image/webp',
    (b) =>
      b.subarray(0, 4).toString('latin1') === 'RIFF' &&
      b.subarray(8, 12).toString('latin1') === 'WEBP',
  ],
];

/** The image type by its magic bytes: the declared Content-Type is never trusted. */
export function imageType(bytes: Buffer): string | undefined {
  return IMAGE_SIGNATURES.find(([, matches]) => matches(bytes))?.[0];
}
