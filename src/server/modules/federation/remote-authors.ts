// Remote authors as readers see them: the latest signed profile a peer sent (remote_authors), or
// else what their messages here say. Shown as nickname@instance; a key with an account here is
// never a remote author, and an author's profile is shown only to readers of one of their messages.
import type { Kysely } from 'kysely';
import type { z } from 'zod';
import type { AxonDatabase } from '../../db/database.js';
import type { DatabaseSchema } from '../../db/schema.js';
import { notFound } from '../../http/errors.js';
import { can } from '../accounts/permissions.js';
import type { User } from '../accounts/user.js';
import type { BoardService } from '../boards/service.js';
import { remoteDisplayName } from '../boards/messages.js';
import type { BannedPubkeys } from '../moderation/banned-pubkeys.js';
import type { RemoteAuthor } from './schema.js';

/** Boards looked at for a reader's right to see an author (their messages' boards, newest first). */
const BOARDS_CHECKED = 50;

export const remoteAvatarUrl = (fingerprint: string, hash: string | null): string | null =>
  hash === null ? null : `/api/remote_authors/${fingerprint}/avatar/?v=${hash.slice(0, 16)}`;

export interface RemoteAvatar {
  bytes: Buffer;
  mime: string;
  hash: string;
}

export class RemoteAuthors {
  constructor(
    private readonly database: AxonDatabase,
    private readonly boards: BoardService,
    private readonly bannedPubkeys: BannedPubkeys,
  ) {}

  private db(): Kysely<DatabaseSchema> {
    return this.database.db;
  }

  /** The author's profile, if the reader may read one of their messages here; else 404. */
  async get(reader: User | null, fingerprint: string): Promise<z.output<typeof RemoteAuthor>> {
    const count = await this.readableCount(reader, fingerprint);
    const profile = await this.db()
      .selectFrom('remote_authors')
      .select(['nickname', 'instance', 'avatar_hash', 'profile_at'])
      .where('fingerprint', '=', fingerprint)
      .executeTakeFirst();
    let nickname = profile?.nickname;
    let instance = profile?.instance;
    if (nickname === undefined || instance === undefined) {
      // No profile update yet: the nickname the newest message was signed with.
      const latest = await this.db()
        .selectFrom('messages')
        .select(['author_nickname', 'author_instance'])
        .where('author_fingerprint', '=', fingerprint)
        .where('author_instance', 'is not', null)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirstOrThrow();
      instance = latest.author_instance!;
      const suffix = `@${instance}`;
      nickname = latest.author_nickname.endsWith(suffix)
        ? latest.author_nickname.slice(0, -suffix.length)
        : latest.author_nickname;
    }
    return {
      fingerprint,
      nickname,
      instance,
      display_name: remoteDisplayName(nickname, instance),
      avatar_url: remoteAvatarUrl(fingerprint, profile?.avatar_hash ?? null),
      bio: null,
      profile_at: profile === undefined ? null : new Date(Number(profile.profile_at)).toISOString(),
      message_count: count,
    };
  }

  /** The avatar of a remote author the reader may see; else 404. */
  async avatar(reader: User | null, fingerprint: string): Promise<RemoteAvatar> {
    await this.readableCount(reader, fingerprint);
    const row = await this.db()
      .selectFrom('remote_authors')
      .select(['avatar', 'avatar_mime', 'avatar_hash'])
      .where('fingerprint', '=', fingerprint)
      .executeTakeFirst();
    if (row?.avatar == null || row.avatar_mime === null || row.avatar_hash === null) {
      throw notFound('avatar');
    }
    return { bytes: Buffer.from(row.avatar), mime: row.avatar_mime, hash: row.avatar_hash };
  }

  /** The avatar URLs of the remote authors among these fingerprints that have one. */
  async avatarUrls(fingerprints: Iterable<string>): Promise<Map<string, string>> {
    const wanted = [...new Set(fingerprints)];
    const urls = new Map<string, string>();
    if (wanted.length === 0) return urls;
    const rows = await this.db()
      .selectFrom('remote_authors')
      .select(['fingerprint', 'avatar_hash'])
      .where('fingerprint', 'in', wanted)
      .where('avatar_hash', 'is not', null)
      .execute();
    for (const r of rows) urls.set(r.fingerprint, remoteAvatarUrl(r.fingerprint, r.avatar_hash)!);
    return urls;
  }

  /**
   * How many of the author's messages the reader may read here (at least one, else 404): only
   * remote authors (no account here), not banned, on boards the reader may read.
   */
  private async readableCount(reader: User | null, fingerprint: string): Promise<number> {
    const local = await this.db()
      .selectFrom('users')
      .select('id')
      .where('fingerprint', '=', fingerprint)
      .executeTakeFirst();
    if (local !== undefined) throw notFound('remote author');
    const hidden = await this.bannedPubkeys.isBanned(fingerprint);
    const perBoard = await this.db()
      .selectFrom('messages')
      .select((eb) => ['board_id', eb.fn.countAll<number | string>().as('n')])
      .where('author_fingerprint', '=', fingerprint)
      .where('author_id', 'is', null)
      .where('deleted_at', 'is', null)
      .groupBy('board_id')
      .orderBy((eb) => eb.fn.max('seq'), 'desc')
      .limit(BOARDS_CHECKED)
      .execute();
    let count = 0;
    for (const row of perBoard) {
      const board = await this.boards.find(row.board_id);
      if (board === undefined) continue;
      if (can(reader, 'read_message', { board, author: { id: null, hidden } })) {
        count += Number(row.n);
      }
    }
    if (count === 0) throw notFound('remote author');
    return count;
  }
}
