// The pubkeys table: every author key this instance has seen, by fingerprint, so signed objects
// can be verified long after they were posted.
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../db/schema.js';

export async function rememberPubkey(
  db: Kysely<DatabaseSchema>,
  fingerprint: string,
  pem: string,
): Promise<void> {
  await db
    .insertInto('pubkeys')
    .values({ fingerprint, pem, first_seen: Date.now() })
    .onConflict((oc) => oc.column('fingerprint').doNothing())
    .execute();
}
