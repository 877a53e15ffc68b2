// Attachments across instances in tests: a message from a peer filed as the federation inbox files
// one, and a context on a running instance's database (as the CLI builds one) to act on it.
import { randomBytes } from 'node:crypto';
import type { Manifest } from '../bitsync/index.js';
import { loadConfig } from '../server/config.js';
import { createContext, type AppContext } from '../server/context.js';
import { openDatabase } from '../server/db/database.js';
import { ensureInstanceIdentity } from '../server/modules/federation/identity.js';
import { loadInstanceKeys } from '../server/secrets.js';

/**
 * Files a message from a peer on `boardId` carrying this content, the way the inbox stores one
 * (no local author; its content refs make the content readable wherever the board is).
 */
export async function fileRemoteMessage(
  ctx: AppContext,
  boardId: string,
  manifest: Manifest,
): Promise<string> {
  const id = `remote-${randomBytes(6).toString('hex')}`;
  const ref = {
    content_hash: manifest.content_hash,
    size: manifest.size,
    filename: 'photo.bin',
    mime_type: 'application/octet-stream',
  };
  await ctx.database.db.transaction().execute(async (trx) => {
    const { event_seq: boardSeq } = await trx
      .updateTable('boards')
      .set((eb) => ({ event_seq: eb('event_seq', '+', 1) }))
      .where('id', '=', boardId)
      .returning('event_seq')
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('pubkeys')
      .values({ fingerprint: 'd'.repeat(64), pem: 'a remote author', first_seen: Date.now() })
      .onConflict((oc) => oc.doNothing())
      .execute();
    await trx
      .insertInto('messages')
      .values({
        id,
        board_id: boardId,
        board_ref: 'room-1',
        parent_id: null,
        thread_id: id,
        author_id: null,
        author_fingerprint: 'd'.repeat(64),
        author_nickname: 'alice@a',
        subject: 'photo',
        body: 'look',
        attachments: JSON.stringify([ref]),
        signature: 'x',
        board_seq: boardSeq,
        created_at: Date.now(),
      })
      .execute();
    await ctx.content.addRefs(trx, 'message', id, [ref]);
  });
  return id;
}

/** A context on the database of an instance started with `env` (its services not started). */
export async function contextOn(env: Record<string, string>): Promise<AppContext> {
  const config = loadConfig(env);
  const database = openDatabase(config.database);
  const keys = loadInstanceKeys(config.secret, config.dataDir);
  const identity = await ensureInstanceIdentity(database, keys.identitySealKey);
  return createContext(config, database, keys, identity);
}
