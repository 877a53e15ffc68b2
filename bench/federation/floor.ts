// The catch-up floor: the receiver's own inbox service applying the same signed objects in this
// process, with no network, no HTTP and no signed transport: a fresh SQLite database, the app's
// context as `axon start` builds it (services not started), a trusted peers row for the sender
// and the shared board, then Inbox.applyBatch on batches of 100 (as delivery sends them).
import { loadConfig, type Config } from '../../src/server/config.js';
import { createContext } from '../../src/server/context.js';
import { BoardInput } from '../../src/server/modules/boards/schema.js';
import { ensureInstanceIdentity } from '../../src/server/modules/federation/identity.js';
import { loadInstanceKeys } from '../../src/server/secrets.js';
import { openTestDatabase } from '../../src/test-support/databases.js';
import type { BenchInstance } from './instances.js';

const BATCH = 100;

/** The `room` entries of the sender's log, oldest first, as it would send them. */
export async function loggedObjects(sender: BenchInstance, room: string): Promise<unknown[]> {
  const rows = await sender.database.db
    .selectFrom('federation_log')
    .select(['object'])
    .where('room_id', '=', room)
    .orderBy('seq')
    .execute();
  return rows.map((r) => JSON.parse(r.object) as unknown);
}

/** Milliseconds the in-process inbox takes to accept all `objects` from `sender`. */
export async function inboxFloorMs(
  sender: BenchInstance,
  room: string,
  objects: unknown[],
): Promise<number> {
  const { test, database } = await openTestDatabase('sqlite');
  try {
    const config: Config = {
      ...loadConfig({ AXON_DATA_DIR: test.dir, LOG_LEVEL: 'warn' }),
      database: test.config,
    };
    const keys = loadInstanceKeys(config.secret, config.dataDir);
    const identity = await ensureInstanceIdentity(database, keys.identitySealKey);
    const ctx = createContext(config, database, keys, identity);
    const now = Date.now();
    await database.db
      .insertInto('peers')
      .values({
        fingerprint: sender.identity.fingerprint,
        pubkey: sender.identity.pubkey,
        base_url: sender.url,
        nickname: sender.identity.nickname,
        trusted: true,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await ctx.boards.create(
      BoardInput.parse({
        name: room,
        is_realtime: true,
        federation_room_id: room,
        trusted_peers: [sender.identity.fingerprint],
      }),
    );
    const peer = { fingerprint: sender.identity.fingerprint, nickname: sender.identity.nickname };
    const started = performance.now();
    let accepted = 0;
    for (let i = 0; i < objects.length; i += BATCH) {
      const results = await ctx.inbox.applyBatch(peer, { objects: objects.slice(i, i + BATCH) });
      accepted += results.filter((r) => r.status === 'accepted').length;
    }
    const ms = performance.now() - started;
    if (accepted !== objects.length) {
      throw new Error(`the floor accepted ${accepted} of ${objects.length} objects`);
    }
    await ctx.federationClient.close();
    return ms;
  } finally {
    await database.close();
    await test.drop();
  }
}
