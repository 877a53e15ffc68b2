// People as other users see them: a local user's public profile (what their posts show of them on
// boards the reader may read) and who is online, gathered from the realtime rooms' presence.
import type { z } from 'zod';
import { avatarUrl } from '../../../shared/accounts.js';
import type { AxonDatabase } from '../../db/database.js';
import { notFound } from '../../http/errors.js';
import { isBanActive } from '../accounts/permissions.js';
import { USER_COLUMNS, toUser, type User } from '../accounts/user.js';
import type { BoardService } from '../boards/service.js';
import type { BannedPubkeys } from '../moderation/banned-pubkeys.js';
import type { Presence } from '../realtime/presence.js';
import type { OnlineList, PersonProfile } from './schema.js';

/** The most recent posts a profile lists. */
export const RECENT_POSTS_MAX = 10;
/** The most people "who's online" lists. */
export const ONLINE_MAX = 100;

const iso = (ms: number) => new Date(ms).toISOString();

export class People {
  constructor(
    private readonly database: AxonDatabase,
    private readonly boards: BoardService,
    private readonly bannedPubkeys: BannedPubkeys,
    private readonly presence: Presence,
  ) {}

  private get db() {
    return this.database.db;
  }

  /**
   * The profile of the local user holding this key; 404 for a key with no account here (a remote
   * author has theirs at /api/remote_authors/) and for a banned account or key, whose posts are
   * hidden anyway. Posts count only on boards the reader may read, realtime rooms aside.
   */
  async profile(reader: User | null, fingerprint: string): Promise<z.output<typeof PersonProfile>> {
    const row = await this.db
      .selectFrom('users')
      .select(USER_COLUMNS)
      .where('fingerprint', '=', fingerprint)
      .executeTakeFirst();
    if (row === undefined) throw notFound('user');
    const user = toUser(row);
    if (isBanActive(user) || (await this.bannedPubkeys.isBanned(fingerprint))) {
      throw notFound('user');
    }
    const boards = (await this.boards.list(reader, true)).filter((b) => !b.isRealtime);
    const names = new Map(boards.map((b) => [b.id, b.name]));
    const posts = () =>
      this.db
        .selectFrom('messages')
        .where('author_id', '=', user.id)
        .where('deleted_at', 'is', null)
        .where('board_id', 'in', [...names.keys()]);
    const [count, recent] =
      names.size === 0
        ? [0, []]
        : await Promise.all([
            posts()
              .select((eb) => eb.fn.countAll<number | string>().as('n'))
              .executeTakeFirstOrThrow()
              .then((r) => Number(r.n)),
            posts()
              .select(['id', 'board_id', 'thread_id', 'subject', 'created_at'])
              .orderBy('seq', 'desc')
              .limit(RECENT_POSTS_MAX)
              .execute(),
          ]);
    return {
      user_id: user.id,
      fingerprint: user.fingerprint,
      nickname: user.nickname,
      avatar_url: avatarUrl(user.id, user.avatarHash),
      role: user.isSysop ? 'sysop' : user.isModerator ? 'moderator' : 'member',
      joined_at: iso(user.createdAt),
      post_count: count,
      recent_posts: recent.map((p) => ({
        id: p.id,
        board_id: p.board_id,
        board_name: names.get(p.board_id)!,
        thread_id: p.thread_id,
        subject: p.subject,
        created_at: iso(Number(p.created_at)),
      })),
    };
  }

  /** The avatar URLs of the local users among these ids that have one, by key fingerprint. */
  async avatarUrls(userIds: Iterable<string>): Promise<Map<string, string>> {
    const wanted = [...new Set(userIds)];
    const urls = new Map<string, string>();
    if (wanted.length === 0) return urls;
    const rows = await this.db
      .selectFrom('users')
      .select(['id', 'fingerprint', 'avatar_hash'])
      .where('id', 'in', wanted)
      .where('avatar_hash', 'is not', null)
      .execute();
    for (const r of rows) urls.set(r.fingerprint, avatarUrl(r.id, r.avatar_hash)!);
    return urls;
  }

  /** Who is present in the realtime rooms the reader may read, the most recently seen first. */
  async online(reader: User | null, now = Date.now()): Promise<z.output<typeof OnlineList>> {
    const rooms = (await this.boards.list(reader, false)).filter((b) => b.isRealtime);
    const seen = await this.presence.across(rooms, now);
    let truncated = seen.truncated;
    const people = new Map<string, z.output<typeof OnlineList>['items'][number]>();
    for (const s of seen.marks) {
      const key = s.userId ?? `remote:${s.nickname}`;
      let person = people.get(key);
      if (person === undefined) {
        if (people.size === ONLINE_MAX) {
          truncated = true;
          continue;
        }
        person = {
          user_id: s.userId,
          fingerprint: s.fingerprint,
          nickname: s.nickname,
          avatar_url: s.userId === null ? null : avatarUrl(s.userId, s.avatarHash),
          rooms: [],
          last_seen: iso(s.lastSeen),
        };
        people.set(key, person);
      }
      person.rooms.push({ id: s.room.id, name: s.room.name });
    }
    return { items: [...people.values()], truncated };
  }
}
