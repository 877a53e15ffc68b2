// Live rooms across instances: the home instance of a shared room (the single writer of its shared
// state) and the remote users seen in a room, as their instances report them.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // The fingerprint of the peer whose board created the room; null when this instance is the home.
  await db.schema.alterTable('boards').addColumn('federation_home', 'text').execute();

  // Users of a peer seen in a shared room lately (the peer pushes them); shown as nickname@peer.
  await db.schema
    .createTable('remote_presence')
    .addColumn('board_id', 'text', (c) => c.notNull().references('boards.id').onDelete('cascade'))
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('nickname', 'text', (c) => c.notNull())
    .addColumn('peer_fingerprint', 'text', (c) => c.notNull())
    .addColumn('last_seen', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('remote_presence_pk', ['board_id', 'fingerprint'])
    .execute();
}
