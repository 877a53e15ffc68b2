// What applets keep per user: one BitSync object of data per (applet, user), readable by its owner
// alone (the routes serve only the caller's own), and one high-score entry per (applet, user).
// Scores come from the applet running in the user's browser, so they are self-reported: the list
// says so, submissions are rate-limited, and moderators remove entries.
import { v7 as uuidv7 } from 'uuid';
import type { AxonDatabase } from '../../db/database.js';
import { AppError, boundedJson, notFound } from '../../http/errors.js';
import type { User } from '../accounts/user.js';
import type { ContentService } from '../content/service.js';
import type { Applet } from './service.js';

export const APPLET_DATA_MAX_BYTES = 64 * 1024;
/** One score submission per (applet, user) in this many milliseconds. */
export const SCORE_INTERVAL_MS = 2000;
export const HIGH_SCORES_SHOWN = 50;

export interface ScoreInput {
  score: number;
  wins: number;
  losses: number;
  draws: number;
  level: number;
}

export interface HighScore extends ScoreInput {
  id: string;
  nickname: string;
  pubkey: string;
  updatedAt: number;
}

export class AppletDataService {
  constructor(
    private readonly database: AxonDatabase,
    private readonly content: ContentService,
  ) {}

  /** The user's data for the applet (null before the first save). */
  async get(applet: Applet, user: User): Promise<{ data: unknown; updatedAt: number | null }> {
    const row = await this.database.db
      .selectFrom('applet_data')
      .selectAll()
      .where('applet_id', '=', applet.id)
      .where('user_id', '=', user.id)
      .executeTakeFirst();
    if (row === undefined) return { data: null, updatedAt: null };
    const manifest = await this.content.manifest(row.content_hash);
    if (manifest === undefined) return { data: null, updatedAt: null };
    const bytes = await this.content.readAll(manifest);
    return { data: JSON.parse(bytes.toString('utf8')) as unknown, updatedAt: row.updated_at };
  }

  /** Replaces the user's data; the previous object is let go when nothing else names it. */
  async save(applet: Applet, user: User, data: unknown): Promise<{ updatedAt: number }> {
    const bytes = Buffer.from(boundedJson('body.data', data, APPLET_DATA_MAX_BYTES), 'utf8');
    const now = Date.now();
    const manifest = await this.content.storeInternal(bytes, {
      filename: 'applet-data.json',
      mime_type: 'application/json',
    });
    await this.database.db.transaction().execute(async (trx) => {
      const previous = await trx
        .selectFrom('applet_data')
        .select('content_hash')
        .where('applet_id', '=', applet.id)
        .where('user_id', '=', user.id)
        .executeTakeFirst();
      await trx
        .insertInto('applet_data')
        .values({
          applet_id: applet.id,
          user_id: user.id,
          content_hash: manifest.content_hash,
          size: bytes.length,
          updated_at: now,
        })
        .onConflict((oc) =>
          oc.columns(['applet_id', 'user_id']).doUpdateSet({
            content_hash: manifest.content_hash,
            size: bytes.length,
            updated_at: now,
          }),
        )
        .execute();
      await trx
        .insertInto('content_refs')
        .values({
          content_hash: manifest.content_hash,
          kind: 'applet',
          ref_id: applet.id,
          created_at: now,
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
      if (previous !== undefined && previous.content_hash !== manifest.content_hash) {
        const stillNamed = await trx
          .selectFrom('applet_data')
          .select('user_id')
          .where('applet_id', '=', applet.id)
          .where('content_hash', '=', previous.content_hash)
          .executeTakeFirst();
        if (stillNamed === undefined && previous.content_hash !== applet.codeHash)
          await trx
            .deleteFrom('content_refs')
            .where('content_hash', '=', previous.content_hash)
            .where('kind', '=', 'applet')
            .where('ref_id', '=', applet.id)
            .execute();
      }
    });
    return { updatedAt: now };
  }

  /** Records a submission: the best score stays; the counts are the latest reported. */
  async submitScore(applet: Applet, user: User, input: ScoreInput): Promise<HighScore> {
    const now = Date.now();
    const row = await this.database.db
      .selectFrom('high_scores')
      .selectAll()
      .where('applet_id', '=', applet.id)
      .where('user_id', '=', user.id)
      .executeTakeFirst();
    if (row !== undefined && now - Number(row.updated_at) < SCORE_INTERVAL_MS)
      throw new AppError(429, 'RATE_LIMITED', 'one score every 2 seconds; try again shortly');
    const values = { ...input, updated_at: now };
    if (row === undefined) {
      await this.database.db
        .insertInto('high_scores')
        .values({ id: uuidv7(), applet_id: applet.id, user_id: user.id, ...values })
        .onConflict((oc) => oc.columns(['applet_id', 'user_id']).doNothing())
        .execute();
    } else {
      await this.database.db
        .updateTable('high_scores')
        .set({ ...values, score: Math.max(Number(row.score), input.score) })
        .where('id', '=', row.id)
        .where('updated_at', '=', row.updated_at)
        .execute();
    }
    const entry = (await this.highScores(applet, 1000)).find((e) => e.pubkey === user.pubkey);
    if (entry === undefined) throw notFound('high score');
    return entry;
  }

  async highScores(applet: Applet, limit = HIGH_SCORES_SHOWN): Promise<HighScore[]> {
    const rows = await this.database.db
      .selectFrom('high_scores')
      .innerJoin('users', 'users.id', 'high_scores.user_id')
      .selectAll('high_scores')
      .select(['users.nickname', 'users.pubkey'])
      .where('high_scores.applet_id', '=', applet.id)
      .orderBy('high_scores.score', 'desc')
      .orderBy('high_scores.updated_at')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      nickname: r.nickname,
      pubkey: r.pubkey,
      score: Number(r.score),
      wins: Number(r.wins),
      losses: Number(r.losses),
      draws: Number(r.draws),
      level: Number(r.level),
      updatedAt: Number(r.updated_at),
    }));
  }

  /** A moderator removes an entry; false when there is none. */
  async removeScore(applet: Applet, entryId: string): Promise<boolean> {
    const result = await this.database.db
      .deleteFrom('high_scores')
      .where('applet_id', '=', applet.id)
      .where('id', '=', entryId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
