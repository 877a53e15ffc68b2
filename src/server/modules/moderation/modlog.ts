// The moderation log: every moderation action, who took it and why, readable by moderators.
import type { Kysely } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { AxonDatabase } from '../../db/database.js';
import type { DatabaseSchema } from '../../db/schema.js';
import { decodeCursor, toPage, type Page } from '../../http/pagination.js';
import { assertCan } from '../accounts/permissions.js';
import type { User } from '../accounts/user.js';

export type ModAction =
  | 'delete_message'
  | 'ban_user'
  | 'unban_user'
  | 'ban_pubkey'
  | 'unban_pubkey'
  | 'adjust_karma'
  | 'set_user_flags'
  | 'uphold_report'
  | 'dismiss_report'
  | 'retention'
  | 'correct_profile'
  | 'refuse_federated_action'
  | 'reverse_federated_action';

export interface Actor {
  id: string | null;
  name: string;
}

export const OPERATOR: Actor = { id: null, name: 'operator (CLI)' };
export const SYSTEM: Actor = { id: null, name: 'system' };

export interface ModlogEntry {
  id: string;
  actor: Actor;
  action: ModAction;
  targetType: string;
  targetId: string;
  reason: string;
  details: Record<string, unknown>;
  createdAt: number;
}

/** Writes one entry, inside the caller's transaction so the action and its record land together. */
export async function recordModAction(
  db: Kysely<DatabaseSchema>,
  entry: {
    actor: Actor;
    action: ModAction;
    targetType: string;
    targetId: string;
    reason: string;
    details?: object;
  },
): Promise<void> {
  await db
    .insertInto('modlog')
    .values({
      id: uuidv7(),
      actor_id: entry.actor.id,
      actor_name: entry.actor.name,
      action: entry.action,
      target_type: entry.targetType,
      target_id: entry.targetId,
      reason: entry.reason,
      details: JSON.stringify(entry.details ?? {}),
      created_at: Date.now(),
    })
    .execute();
}

/** Newest first; for staff (`by` absent: the operator). */
export async function listModlog(
  database: AxonDatabase,
  query: { cursor?: string | undefined; limit: number },
  by?: User,
): Promise<Page<ModlogEntry>> {
  if (by !== undefined) assertCan(by, 'moderate');
  let q = database.db
    .selectFrom('modlog')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(query.limit + 1);
  if (query.cursor !== undefined) {
    const [before] = decodeCursor(query.cursor, ['s']);
    q = q.where('id', '<', before as string);
  }
  return toPage(
    await q.execute(),
    query.limit,
    (r) => [r.id],
    (r) => ({
      id: r.id,
      actor: { id: r.actor_id, name: r.actor_name },
      action: r.action as ModAction,
      targetType: r.target_type,
      targetId: r.target_id,
      reason: r.reason,
      details: JSON.parse(r.details) as Record<string, unknown>,
      createdAt: r.created_at,
    }),
  );
}
