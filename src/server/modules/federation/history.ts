// A board's history older than its sharing: when a board gets a federation_room_id, its last
// AXON_FEDERATION_BACKFILL messages that are not in the federation log yet go there, oldest first,
// so peers receive them like any entry (their signed `board` is the board's local id: the room
// travels beside them, docs/federation.md "Routing"). One durable job per board
// (federation_backfill) moves through the messages in batches, each batch and the job's progress
// in one transaction: a restart resumes where it stopped, and appends are idempotent by id.
import type { Kysely } from 'kysely';
import { verifyObject, type SignedObject } from '../../../crypto/signing.js';
import type { AxonDatabase } from '../../db/database.js';
import type { DatabaseSchema } from '../../db/schema.js';
import { editObject } from '../boards/edit-object.js';
import { manifestsOf, messageObject, toMessage, type Message } from '../boards/messages.js';
import type { FederationLog } from './log.js';

/** Messages appended per transaction. */
const BATCH = 100;

export class BoardHistory {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly database: AxonDatabase,
    private readonly log: FederationLog,
    private readonly depth: number,
  ) {}

  private get db(): Kysely<DatabaseSchema> {
    return this.database.db;
  }

  /** Runs the jobs now (or once more after the run under way). */
  run(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.queueShared();
          await this.work();
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /**
   * A job for every shared board that has none for its current room: the messages up to the
   * board's newest now, at most `depth` of them.
   */
  private async queueShared(): Promise<void> {
    const boards = await this.db
      .selectFrom('boards')
      .leftJoin('federation_backfill', 'federation_backfill.board_id', 'boards.id')
      .select(['boards.id', 'boards.federation_room_id', 'federation_backfill.room_id'])
      .where('boards.federation_room_id', 'is not', null)
      .execute();
    for (const board of boards) {
      if (board.room_id === board.federation_room_id) continue;
      const recent = await this.db
        .selectFrom('messages')
        .select('seq')
        .where('board_id', '=', board.id)
        .orderBy('seq', 'desc')
        .limit(this.depth + 1)
        .execute();
      const until = Number(recent[0]?.seq ?? 0);
      const from = recent.length > this.depth ? Number(recent.at(-1)!.seq) : 0;
      const job = {
        room_id: board.federation_room_id!,
        next_seq: from,
        until_seq: until,
        created_at: Date.now(),
      };
      await this.db
        .insertInto('federation_backfill')
        .values({ board_id: board.id, ...job })
        .onConflict((oc) => oc.column('board_id').doUpdateSet(job))
        .execute();
    }
  }

  /** Moves every unfinished job on, a batch per transaction, until all are done. */
  private async work(): Promise<void> {
    for (;;) {
      const job = await this.db
        .selectFrom('federation_backfill')
        .selectAll()
        .whereRef('next_seq', '<', 'until_seq')
        .orderBy('created_at')
        .executeTakeFirst();
      if (job === undefined) return;
      await this.step(job.board_id, job.room_id, Number(job.next_seq), Number(job.until_seq));
    }
  }

  private async step(boardId: string, room: string, after: number, until: number): Promise<void> {
    const appended: number[] = [];
    await this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('messages')
        .innerJoin('pubkeys', 'pubkeys.fingerprint', 'messages.author_fingerprint')
        .selectAll('messages')
        .select('pubkeys.pem')
        .where('messages.board_id', '=', boardId)
        .where('messages.seq', '>', after)
        .where('messages.seq', '<=', until)
        .orderBy('messages.seq')
        .limit(BATCH)
        .execute();
      const last = rows.length === BATCH ? Number(rows.at(-1)!.seq) : until;
      // Another process moved this job on meanwhile: nothing to do here.
      const moved = await trx
        .updateTable('federation_backfill')
        .set({ next_seq: last })
        .where('board_id', '=', boardId)
        .where('room_id', '=', room)
        .where('next_seq', '=', after)
        .executeTakeFirst();
      if (Number(moved.numUpdatedRows) === 0) return;
      for (const row of rows) {
        // Only the board's own conversation by its local authors, as they signed it: applet
        // events, tombstones and messages that came from peers (already logged) stay out.
        if (row.author_id === null || row.is_event || row.deleted_at !== null) continue;
        const message = toMessage(row);
        const objects = await signedObjectsOf(trx, message, row.pem);
        if (!objects.every((object) => verifyObject(object, row.pem))) continue;
        for (const object of objects) {
          const seq = await this.log.append(trx, {
            object,
            roomId: room,
            authorFingerprint: row.author_fingerprint,
            receivedFrom: null,
            manifests: await manifestsOf(trx, message.attachments),
          });
          if (seq !== undefined) appended.push(seq);
        }
      }
    });
    const newest = appended.at(-1);
    if (newest !== undefined) this.log.announce(newest);
  }
}

/**
 * A message as its author signed it: the message object, and for an edited message the message as
 * first posted (its version 1) followed by the edit it shows now. Empty for an edited message
 * whose first version is not kept (one a moderator brought back: its history went).
 */
async function signedObjectsOf(
  trx: Kysely<DatabaseSchema>,
  message: Message,
  pem: string,
): Promise<SignedObject[]> {
  if (message.edited == null) return [messageObject(message, pem) as SignedObject];
  const first = await trx
    .selectFrom('message_versions')
    .select(['subject', 'body', 'signature'])
    .where('message_id', '=', message.id)
    .where('version', '=', 1)
    .where('edit_id', 'is', null)
    .executeTakeFirst();
  if (first === undefined) return [];
  const original = { ...message, ...first, edited: null };
  return [messageObject(original, pem) as SignedObject, editObject(message, pem) as SignedObject];
}
