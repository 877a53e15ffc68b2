// Applets get a category, the size of their code, and the outcome of their review (the reason a
// moderator gave, and when).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('applets').addColumn('category_name', 'text').execute();
  await db.schema.alterTable('applets').addColumn('code_size', 'bigint').execute();
  await db.schema.alterTable('applets').addColumn('review_reason', 'text').execute();
  await db.schema.alterTable('applets').addColumn('reviewed_at', 'bigint').execute();
}
