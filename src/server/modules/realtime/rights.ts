// The lookups RealtimeConnections makes when rights may have changed, through the one permission
// rule (`can`) and the boards cache: one query for all open connections, never one per event.
import type { AxonDatabase } from '../../db/database.js';
import { can } from '../accounts/permissions.js';
import type { BoardService } from '../boards/service.js';
import type { RightsChecks } from './connections.js';

/** Fingerprints per ban lookup: within any database's bound-parameter limit. */
const LOOKUP_CHUNK = 500;

export function databaseRightsChecks(database: AxonDatabase, boards: BoardService): RightsChecks {
  return {
    async mayRead(boardId, user) {
      const board = await boards.find(boardId);
      return board !== undefined && can(user, 'read_board', { board });
    },
    async bannedAmong(fingerprints) {
      const now = Date.now();
      const banned = new Set<string>();
      for (let i = 0; i < fingerprints.length; i += LOOKUP_CHUNK) {
        const rows = await database.db
          .selectFrom('banned_pubkeys')
          .select(['fingerprint', 'expires_at'])
          .where('fingerprint', 'in', fingerprints.slice(i, i + LOOKUP_CHUNK))
          .execute();
        for (const r of rows)
          if (r.expires_at === null || r.expires_at > now) banned.add(r.fingerprint);
      }
      return banned;
    },
  };
}
