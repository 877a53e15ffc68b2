// Real-time: a per-board event counter (commit-ordered cursors), applets' minimal form with their
// event boards, room presence and versioned shared room state.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Each message takes the next number of its board inside its own transaction, while holding the
  // board row: numbers are given out in commit order, so a reader's cursor can never pass a
  // message that commits later with a smaller number.
  await db.schema
    .alterTable('boards')
    .addColumn('event_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('messages').addColumn('board_seq', 'bigint').execute();
  await sql`UPDATE messages SET board_seq = seq`.execute(db);
  await sql`UPDATE boards SET event_seq = COALESCE((SELECT MAX(seq) FROM messages WHERE messages.board_id = boards.id), 0)`.execute(
    db,
  );
  await db.schema
    .createIndex('messages_board_event')
    .on('messages')
    .columns(['board_id', 'board_seq'])
    .unique()
    .execute();

  await db.schema
    .createTable('applets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('event_board_id', 'text', (c) => c.notNull().references('boards.id'))
    .addColumn('owner_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('room_presence')
    .addColumn('board_id', 'text', (c) => c.notNull().references('boards.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('last_seen', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('room_presence_pk', ['board_id', 'user_id'])
    .execute();

  await db.schema
    .createTable('room_state')
    .addColumn('room_id', 'text', (c) => c.primaryKey())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}
