// Message search: SQLite FTS5 (bm25) and PostgreSQL full-text search (ts_rank_cd) behind one
// API, ranked, words matched by prefix, over the boards the reader may read, narrowed by board,
// author and date; snippets of the rendered text with the matches marked (snippets.ts).
import { sql } from 'kysely';
import type { AxonDatabase } from '../../db/database.js';
import { decodeCursor, encodeCursor } from '../../http/pagination.js';
import type { User } from '../accounts/user.js';
import { toMessage, type Message } from './messages.js';
import type { BoardService } from './service.js';
import { markTerms, snippetOf, type SnippetPiece } from './snippets.js';

export interface SearchHit {
  message: Message;
  rank: number;
  subject: SnippetPiece[];
  snippet: SnippetPiece[];
}

export interface SearchPage {
  items: SearchHit[];
  next_cursor: string | null;
}

const MAX_TERMS = 12;
// The fewest best-ranked SQLite matches read to fill a page (see SearchService.sqlite).
const SQLITE_MIN_CANDIDATES = 256;

/** Words of the query: letters and digits only, so user input never reaches query syntax. */
export function searchTerms(q: string): string[] {
  return (q.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? []).slice(0, MAX_TERMS);
}

type HitRow = Parameters<typeof toMessage>[0] & { rank: number };

/** What a search asks for, as the API validated it. */
export interface SearchRequest {
  q: string;
  board?: string | undefined;
  /** A nickname as shown (`nick@instance` for a remote author) or a key fingerprint. */
  author?: string | undefined;
  /** Posted at or after this instant, and before this one (milliseconds). */
  after?: number | undefined;
  before?: number | undefined;
  cursor?: string | undefined;
  limit: number;
}

export class SearchService {
  constructor(
    private readonly database: AxonDatabase,
    private readonly boards: BoardService,
  ) {}

  async search(reader: User | null, query: SearchRequest): Promise<SearchPage> {
    const terms = searchTerms(query.q);
    let boardIds: string[];
    if (query.board !== undefined)
      boardIds = [(await this.boards.getReadable(reader, query.board)).id];
    else boardIds = await this.boards.readableIds(reader);
    if (terms.length === 0 || boardIds.length === 0) return { items: [], next_cursor: null };
    const offset =
      query.cursor === undefined ? 0 : (decodeCursor(query.cursor, ['n'])[0] as number);
    const filters = narrowing(query);
    const rows =
      this.database.dialect === 'sqlite'
        ? await this.sqlite(terms, boardIds, reader, filters, query.limit + 1, offset)
        : await this.postgres(terms, boardIds, reader, filters, query.limit + 1, offset);
    const items = rows.slice(0, query.limit).map((r) => ({
      message: toMessage(r),
      // Higher is better on both: bm25 scores are negative, better ones lower.
      rank: this.database.dialect === 'sqlite' ? -Number(r.rank) : Number(r.rank),
      subject: markTerms(r.subject, terms),
      snippet: snippetOf(r.body, terms),
    }));
    return {
      items,
      next_cursor: rows.length > query.limit ? encodeCursor([offset + query.limit]) : null,
    };
  }

  private async sqlite(
    terms: string[],
    boardIds: string[],
    reader: User | null,
    filters: Filters,
    limit: number,
    offset: number,
  ): Promise<HitRow[]> {
    // Each word as a prefix: "sun" finds "sunset".
    const match = terms.map((t) => `"${t}"*`).join(' ');
    // Reading each matching message for the board, event and author filters costs several times
    // what bm25 over the FTS index does (a word in 150k of 1M messages: ~330 ms vs ~70 ms). So
    // when the reader may read every board, the index alone ranks every match, only the best
    // `candidates` are read and filtered, and only the page is highlighted. The order (rank, then
    // seq) is total, so when the candidates fill the page it is exactly the page the single pass
    // gives; when they cannot while more matches remain beyond them, the single pass answers. A
    // search within some boards, or by author or date, goes straight to the single pass: most
    // candidates could be elsewhere.
    const candidates = Math.max(SQLITE_MIN_CANDIDATES, 4 * (offset + limit));
    const boardCount = await sql<{ n: number }>`SELECT count(*) AS n FROM boards`.execute(
      this.database.db,
    );
    if (filters === null && boardIds.length >= Number(boardCount.rows[0]?.n ?? 0)) {
      const ranked = await this.sqliteRanked(match, boardIds, reader, limit, offset, candidates);
      if (ranked.length === limit) return ranked;
      const counted = await sql<{ n: number }>`
        SELECT count(*) AS n FROM (
          SELECT 1 FROM messages_fts WHERE messages_fts MATCH ${match} LIMIT ${candidates}
        )`.execute(this.database.db);
      if (Number(counted.rows[0]?.n ?? 0) < candidates) return ranked;
    }
    const result = await sql<HitRow>`
      SELECT m.seq, m.id, m.board_id, m.board_ref, m.parent_id, m.thread_id, m.author_id,
             m.author_fingerprint, m.author_nickname, m.subject, m.body, m.attachments, m.signature,
             m.created_at, m.deleted_at, m.deleted_by,
             bm25(messages_fts, 2.0, 1.0) AS rank
      FROM messages_fts JOIN messages m ON m.seq = messages_fts.rowid
      WHERE messages_fts MATCH ${match}
        AND m.board_id IN (${sql.join(boardIds)})
        AND m.deleted_at IS NULL
        AND m.is_event = 0
        AND ${hiddenAuthorsFilter(reader)}
        AND ${filterSql(filters)}
      ORDER BY rank, m.seq DESC
      LIMIT ${limit} OFFSET ${offset}`.execute(this.database.db);
    return result.rows;
  }

  /** The page among the `candidates` best-ranked matches (see sqlite above). */
  private async sqliteRanked(
    match: string,
    boardIds: string[],
    reader: User | null,
    limit: number,
    offset: number,
    candidates: number,
  ): Promise<HitRow[]> {
    const result = await sql<HitRow>`
      WITH ranked AS MATERIALIZED (
        SELECT rowid AS seq, bm25(messages_fts, 2.0, 1.0) AS rank
        FROM messages_fts
        WHERE messages_fts MATCH ${match}
        ORDER BY rank, rowid DESC
        LIMIT ${candidates}
      ),
      page AS MATERIALIZED (
        SELECT ranked.seq, ranked.rank
        FROM ranked CROSS JOIN messages m ON m.seq = ranked.seq
        WHERE m.board_id IN (${sql.join(boardIds)})
          AND m.deleted_at IS NULL
          AND m.is_event = 0
          AND ${hiddenAuthorsFilter(reader)}
        ORDER BY ranked.rank, ranked.seq DESC
        LIMIT ${limit} OFFSET ${offset}
      )
      SELECT m.seq, m.id, m.board_id, m.board_ref, m.parent_id, m.thread_id, m.author_id,
             m.author_fingerprint, m.author_nickname, m.subject, m.body, m.attachments, m.signature,
             m.created_at, m.deleted_at, m.deleted_by, page.rank
      FROM page CROSS JOIN messages m ON m.seq = page.seq
      ORDER BY page.rank, page.seq DESC`.execute(this.database.db);
    return result.rows;
  }

  private async postgres(
    terms: string[],
    boardIds: string[],
    reader: User | null,
    filters: Filters,
    limit: number,
    offset: number,
  ): Promise<HitRow[]> {
    // Rank first, then read the page's messages alone. A common word matches a large share of the table: with the default 4 MB of work memory the
    // match bitmap goes lossy and every row of those pages is re-checked.
    return this.database.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL work_mem = '64MB'`.execute(trx);
      const result = await sql<HitRow>`
      WITH query AS (SELECT to_tsquery('simple', ${terms.map((t) => `'${t}':*`).join(' & ')}) AS q),
      hits AS (
        SELECT m.seq, ts_rank_cd(m.search, query.q) AS rank
        FROM messages m, query
        WHERE m.search @@ query.q
          AND m.board_id IN (${sql.join(boardIds)})
          AND m.deleted_at IS NULL
          AND NOT m.is_event
          AND ${hiddenAuthorsFilter(reader)}
          AND ${filterSql(filters)}
        ORDER BY rank DESC, m.seq DESC
        LIMIT ${limit} OFFSET ${offset}
      )
      SELECT m.seq, m.id, m.board_id, m.board_ref, m.parent_id, m.thread_id, m.author_id,
             m.author_fingerprint, m.author_nickname, m.subject, m.body, m.attachments, m.signature,
             m.created_at, m.deleted_at, m.deleted_by, hits.rank
      FROM hits JOIN messages m ON m.seq = hits.seq
      ORDER BY hits.rank DESC, m.seq DESC`.execute(trx);
      return result.rows;
    });
  }
}

function hiddenAuthorsFilter(reader: User | null) {
  const now = Date.now();
  const banned = sql`m.author_fingerprint NOT IN (
    SELECT fingerprint FROM banned_pubkeys WHERE expires_at IS NULL OR expires_at > ${now})`;
  if (reader === null) return banned;
  return sql`${banned} AND m.author_fingerprint NOT IN (
    SELECT fingerprint FROM ignored_pubkeys WHERE user_id = ${reader.id})`;
}

/** The author and date conditions of a search; null when it has none. */
type Filters = Pick<SearchRequest, 'author' | 'after' | 'before'> | null;

function narrowing(query: SearchRequest): Filters {
  const { author, after, before } = query;
  return author === undefined && after === undefined && before === undefined
    ? null
    : { author, after, before };
}

function filterSql(filters: Filters) {
  const conditions = [sql`1 = 1`];
  if (filters?.author !== undefined) {
    conditions.push(
      /^[0-9a-f]{64}$/.test(filters.author)
        ? sql`m.author_fingerprint = ${filters.author}`
        : sql`lower(m.author_nickname) = ${filters.author.toLowerCase()}`,
    );
  }
  if (filters?.after !== undefined) conditions.push(sql`m.created_at >= ${filters.after}`);
  if (filters?.before !== undefined) conditions.push(sql`m.created_at < ${filters.before}`);
  return sql.join(conditions, sql` AND `);
}
