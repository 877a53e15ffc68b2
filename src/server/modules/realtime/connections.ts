// Open SSE streams and parked long polls: capped per session and in total, ended when their
// holder's rights go (logout, session revocation, a ban of the account or of its key, the board's
// read access changing), when a stream reaches its maximum lifetime, and when the server closes.
// They are told through the event hub (from this process or, on PostgreSQL, from others), so no
// connection polls the database to learn it lost its rights.
import { setMaxListeners } from 'node:events';
import type { FastifyRequest } from 'fastify';
import type { RealtimeLimits } from '../../config.js';
import { AppError } from '../../http/errors.js';
import type { EventHub } from '../../services/event-hub.js';
import type { User } from '../accounts/user.js';
import { parseChannel } from './channels.js';

export type ConnectionKind = 'stream' | 'long_poll';

/** Who holds a connection and what it reads. */
export interface Holder {
  user: User | null;
  /** The session's id hash; null for a visitor. */
  sessionId: string | null;
  /** The board whose read access the connection depends on; null: none (a user's own feed). */
  boardId: string | null;
}

/** What the registry asks when rights may have changed: one lookup for all connections at once. */
export interface RightsChecks {
  /** May `user` still read the board? */
  mayRead(boardId: string, user: User | null): Promise<boolean>;
  /** Which of these key fingerprints are banned now. */
  bannedAmong(fingerprints: string[]): Promise<Set<string>>;
  /** Which of these sessions still exist and belong to an account not banned now. */
  liveSessions(idHashes: string[]): Promise<Set<string>>;
}

/** Why a connection's signal aborted. */
export class ConnectionEnded extends Error {
  constructor(readonly why: 'closing' | 'client_gone' | 'revoked' | 'lifetime') {
    super(`the connection ended: ${why}`);
  }
}

const CLOSING = new ConnectionEnded('closing');
const CLIENT_GONE = new ConnectionEnded('client_gone');
const REVOKED = new ConnectionEnded('revoked');
const LIFETIME = new ConnectionEnded('lifetime');

interface Connection {
  holder: Holder;
  abort: (reason: ConnectionEnded) => void;
}

export interface OpenConnection {
  /** Aborts when the connection must end; its reason is a ConnectionEnded. */
  signal: AbortSignal;
  /** Call when the connection ends for any reason (idempotent). */
  release: () => void;
}

export class RealtimeConnections {
  private readonly open = new Set<Connection>();
  private readonly perSession = new Map<string, number>();
  private closed = false;

  constructor(
    hub: EventHub,
    private readonly limits: RealtimeLimits,
    private readonly checks: RightsChecks,
    private readonly onError: (error: unknown) => void,
  ) {
    hub.watchAll((name, seq) => {
      const channel = parseChannel(name);
      if (channel === undefined) return;
      switch (channel.kind) {
        case 'session':
          this.revokeWhere((h) => h.sessionId === channel.idHash);
          break;
        case 'user':
          this.revokeWhere((h) => h.user?.id === channel.userId);
          break;
        case 'bans':
          this.recheck(() => this.revokeBannedKeys());
          break;
        case 'board':
          // Non-zero numbers are new events; 0 announces a change of the board (or a deletion).
          if (seq === 0) this.recheck(() => this.revokeUnreadable(channel.boardId));
          break;
        default:
          break;
      }
    });
  }

  /** True once the server began closing. */
  get closing(): boolean {
    return this.closed;
  }

  /** How many are open now (for tests and metrics). */
  get size(): number {
    return this.open.size;
  }

  /**
   * Registers a stream or a parked long poll. Refuses with 429 TOO_MANY_STREAMS when the session
   * holds its share already, 503 SERVER_BUSY when the process does.
   */
  register(request: FastifyRequest, holder: Holder, kind: ConnectionKind): OpenConnection {
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    if (this.closed) {
      controller.abort(CLOSING);
      return { signal: controller.signal, release: () => undefined };
    }
    const session = holder.sessionId;
    if (session !== null && (this.perSession.get(session) ?? 0) >= this.limits.perSession) {
      throw new AppError(
        429,
        'TOO_MANY_STREAMS',
        `this session has ${this.limits.perSession} streams and long polls open already; close one first`,
      );
    }
    if (this.open.size >= this.limits.total) {
      throw new AppError(503, 'SERVER_BUSY', 'too many open streams on this server; retry later');
    }
    let lifetime: NodeJS.Timeout | undefined;
    let released = false;
    const connection: Connection = {
      holder,
      abort: (reason) => {
        if (!controller.signal.aborted) controller.abort(reason);
        release();
      },
    };
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(lifetime);
      request.raw.off('close', onClientGone);
      this.open.delete(connection);
      if (session !== null) {
        const left = (this.perSession.get(session) ?? 1) - 1;
        if (left <= 0) this.perSession.delete(session);
        else this.perSession.set(session, left);
      }
    };
    const onClientGone = () => connection.abort(CLIENT_GONE);
    this.open.add(connection);
    if (session !== null) this.perSession.set(session, (this.perSession.get(session) ?? 0) + 1);
    request.raw.once('close', onClientGone);
    if (kind === 'stream') {
      lifetime = setTimeout(() => connection.abort(LIFETIME), this.limits.maxStreamMs);
      lifetime.unref();
    }
    return { signal: controller.signal, release };
  }

  /** Ends every connection (the server is closing): long polls answer, streams end. */
  close(): void {
    this.closed = true;
    for (const connection of [...this.open]) connection.abort(CLOSING);
  }

  /**
   * Checks every open connection's rights again: its session, its key, its board. For a change
   * announced with no channel (the SQLite revocation generation moved: the CLI changed something).
   */
  async recheckAll(): Promise<void> {
    const sessions = new Set<string>();
    const boards = new Set<string>();
    for (const { holder } of this.open) {
      if (holder.sessionId !== null) sessions.add(holder.sessionId);
      if (holder.boardId !== null) boards.add(holder.boardId);
    }
    if (sessions.size > 0) {
      const live = await this.checks.liveSessions([...sessions]);
      this.revokeWhere((h) => h.sessionId !== null && !live.has(h.sessionId));
    }
    await this.revokeBannedKeys();
    for (const boardId of boards) await this.revokeUnreadable(boardId);
  }

  private revokeWhere(test: (holder: Holder) => boolean): void {
    for (const connection of [...this.open]) if (test(connection.holder)) connection.abort(REVOKED);
  }

  // After the other hub watchers (the boards cache drops the changed board) have run.
  private recheck(work: () => Promise<void>): void {
    setImmediate(() => void work().catch(this.onError));
  }

  private async revokeBannedKeys(): Promise<void> {
    const fingerprints = new Set<string>();
    for (const { holder } of this.open)
      if (holder.user !== null) fingerprints.add(holder.user.fingerprint);
    if (fingerprints.size === 0) return;
    const banned = await this.checks.bannedAmong([...fingerprints]);
    this.revokeWhere((h) => h.user !== null && banned.has(h.user.fingerprint));
  }

  private async revokeUnreadable(boardId: string): Promise<void> {
    const users = new Map<string, User | null>();
    for (const { holder } of this.open)
      if (holder.boardId === boardId) users.set(holder.user?.id ?? '', holder.user);
    const refused = new Set<string>();
    for (const [id, user] of users)
      if (!(await this.checks.mayRead(boardId, user))) refused.add(id);
    this.revokeWhere((h) => h.boardId === boardId && refused.has(h.user?.id ?? ''));
  }
}
