// The forum's own state on messages and boards: tombstones left by deleted opening posts (who
// deleted, when) so a thread keeps its replies, and threads bumped by their latest post (kept
// by triggers, so every path that stores a message bumps alike).
import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../database.js';

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema.alterTable('messages').addColumn('deleted_at', 'bigint').execute();
  // 'author' or 'moderator'; null while the message stands.
  await db.schema.alterTable('messages').addColumn('deleted_by', 'text').execute();

  // 'activity': threads by their latest post; 'created': by their opening post.
  await db.schema
    .alterTable('boards')
    .addColumn('thread_order', 'text', (c) => c.notNull().defaultTo('activity'))
    .execute();

  // On an opening post: the seq of its thread's latest message.
  await db.schema.alterTable('messages').addColumn('bumped_seq', 'bigint').execute();
  await sql`UPDATE messages SET bumped_seq =
    (SELECT max(r.seq) FROM messages r WHERE r.thread_id = messages.id)
    WHERE parent_id IS NULL`.execute(db);
  await db.schema
    .createIndex('messages_board_bumped')
    .on('messages')
    .columns(['board_id', 'bumped_seq'])
    .execute();
  if (dialect === 'sqlite') {
    await sql`CREATE TRIGGER messages_bump_insert AFTER INSERT ON messages BEGIN
      UPDATE messages SET bumped_seq = new.seq WHERE id = new.thread_id;
    END`.execute(db);
    await sql`CREATE TRIGGER messages_bump_delete AFTER DELETE ON messages BEGIN
      UPDATE messages SET bumped_seq =
        (SELECT max(seq) FROM messages WHERE thread_id = old.thread_id)
        WHERE id = old.thread_id AND bumped_seq = old.seq;
    END`.execute(db);
  } else {
    await sql`CREATE FUNCTION messages_bump() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          UPDATE messages SET bumped_seq = NEW.seq WHERE id = NEW.thread_id;
        ELSE
          UPDATE messages SET bumped_seq =
            (SELECT max(seq) FROM messages WHERE thread_id = OLD.thread_id)
            WHERE id = OLD.thread_id AND bumped_seq = OLD.seq;
        END IF;
        RETURN NULL;
      END $$`.execute(db);
    await sql`CREATE TRIGGER messages_bump AFTER INSERT OR DELETE ON messages
      FOR EACH ROW EXECUTE FUNCTION messages_bump()`.execute(db);
  }
}
