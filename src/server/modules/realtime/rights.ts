// The lookups RealtimeConnections makes when rights may have changed, through the one permission
// rule (`can`) and the boards cache: one query for all open connections, never one per event.
import type { AxonDatabase } from '../../db/database.js';
import { liveAgentSessions } from '../accounts/agents.js';
import { can, isBanActive } from '../accounts/permissions.js';
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
    async liveSessions(idHashes) {
      const now = Date.now();
      const live = new Set<string>();
      for (let i = 0; i < idHashes.length; i += LOOKUP_CHUNK) {
        const rows = await database.db
          .selectFrom('sessions')
          .innerJoin('users', 'users.id', 'sessions.user_id')
          .select([
            'sessions.id_hash',
            'sessions.expires_at',
            'users.is_banned',
            'users.banned_until',
          ])
          .where('sessions.id_hash', 'in', idHashes.slice(i, i + LOOKUP_CHUNK))
          .execute();
        for (const r of rows)
          if (
            r.expires_at > now &&
            !isBanActive(
              {
                isBanned: Boolean(r.is_banned),
                bannedUntil: r.banned_until === null ? null : Number(r.banned_until),
              },
              now,
            )
          )
            live.add(r.id_hash);
      }
      for (const agentSession of await liveAgentSessions(database, idHashes, now))
        live.add(agentSession);
      return live;
    },
  };
}
