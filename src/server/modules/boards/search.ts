// Message search: SQLite FTS5 (bm25) and PostgreSQL full-text search (ts_rank_cd) behind one
// API, ranked, with highlighted snippets, over the boards the reader may read.
import { sql } from 'kysely';
import type { AxonDatabase } from '../../db/database.js';
import { decodeCursor, encodeCursor } from '../../http/pagination.js';
import type { User } from '../accounts/user.js';
import { toMessage, type Message } from './messages.js';
import type { BoardService } from './service.js';

export interface SnippetPiece {
  text: string;
  match: boolean;
}

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

// Highlight markers: control characters, which message text can never contain.
const START = '\u0002';
const STOP = '\u0003';
const MAX_TERMS = 12;
// The fewest best-ranked SQLite matches read to fill a page (see SearchService.sqlite).
const SQLITE_MIN_CANDIDATES = 256;

/** Words of the query: letters and digits only, so user input never reaches query syntax. */
export function searchTerms(q: string): string[] {
  return (q.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? []).slice(0, MAX_TERMS);
}

export function splitHighlights(text: string): SnippetPiece[] {
  const pieces: SnippetPiece[] = [];
  for (const [i, part] of text.split(new RegExp(`[${START}${STOP}]`)).entries()) {
    if (part !== '') pieces.push({ text: part, match: i % 2 === 1 });
  }
  return pieces;
}

type HitRow = Parameters<typeof toMessage>[0] & {
  rank: number;
  subject_hl: string;
  body_hl: string;
};

export class SearchService {
  constructor(
    private readonly database: AxonDatabase,
    private readonly boards: BoardService,
  ) {}

  async search(
    reader: User | null,
    query: { q: string; board?: string | undefined; cursor?: string | undefined; limit: number },
  ): Promise<SearchPage> {
    const terms = searchTerms(query.q);
    let boardIds: string[];
    if (query.board !== undefined)
      boardIds = [(await this.boards.getReadable(reader, query.board)).id];
    else boardIds = await this.boards.readableIds(reader);
    if (terms.length === 0 || boardIds.length === 0) return { items: [], next_cursor: null };
    const offset =
      query.cursor === undefined ? 0 : (decodeCursor(query.cursor, ['n'])[0] as number);
    const rows =
      this.database.dialect === 'sqlite'
        ? await this.sqlite(terms, boardIds, reader, query.limit + 1, offset)
        : await this.postgres(terms, boardIds, reader, query.limit + 1, offset);
    const items = rows.slice(0, query.limit).map((r) => ({
      message: toMessage(r),
      // Higher is better on both: bm25 scores are negative, better ones lower.
      rank: this.database.dialect === 'sqlite' ? -Number(r.rank) : Number(r.rank),
      subject: splitHighlights(r.subject_hl),
      snippet: splitHighlights(r.body_hl),
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
    limit: number,
    offset: number,
  ): Promise<HitRow[]> {
    const match = terms.map((t) => `"${t}"`).join(' ');
    // Reading each matching message for the board, event and author filters costs several times
    // what bm25 over the FTS index does (a word in 150k of 1M messages: ~330 ms vs ~70 ms). So
    // when the reader may read every board, the index alone ranks every match, only the best
    // `candidates` are read and filtered, and only the page is highlighted. The order (rank, then
    // seq) is total, so when the candidates fill the page it is exactly the page the single pass
    // gives; when they cannot while more matches remain beyond them, the single pass answers. A
    // search within some boards goes straight to the single pass: most candidates could be
    // elsewhere.
    const candidates = Math.max(SQLITE_MIN_CANDIDATES, 4 * (offset + limit));
    const boardCount = await sql<{ n: number }>`SELECT count(*) AS n FROM boards`.execute(
      this.database.db,
    );
    if (boardIds.length >= Number(boardCount.rows[0]?.n ?? 0)) {
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
             bm25(messages_fts, 2.0, 1.0) AS rank,
             highlight(messages_fts, 0, ${START}, ${STOP}) AS subject_hl,
             snippet(messages_fts, 1, ${START}, ${STOP}, '…', 24) AS body_hl
      FROM messages_fts JOIN messages m ON m.seq = messages_fts.rowid
      WHERE messages_fts MATCH ${match}
        AND m.board_id IN (${sql.join(boardIds)})
        AND m.deleted_at IS NULL
        AND m.is_event = 0
        AND ${hiddenAuthorsFilter(reader)}
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
             m.created_at, m.deleted_at, m.deleted_by, page.rank,
             highlight(messages_fts, 0, ${START}, ${STOP}) AS subject_hl,
             snippet(messages_fts, 1, ${START}, ${STOP}, '…', 24) AS body_hl
      FROM page
        CROSS JOIN messages m ON m.seq = page.seq
        CROSS JOIN messages_fts ON messages_fts.rowid = page.seq
      WHERE messages_fts MATCH ${match}
      ORDER BY page.rank, page.seq DESC`.execute(this.database.db);
    return result.rows;
  }

  private async postgres(
    terms: string[],
    boardIds: string[],
    reader: User | null,
    limit: number,
    offset: number,
  ): Promise<HitRow[]> {
    // Rank first, then build headlines for the page alone: ts_headline is the expensive part.
    // A common word matches a large share of the table: with the default 4 MB of work memory the
    // match bitmap goes lossy and every row of those pages is re-checked.
    return this.database.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL work_mem = '64MB'`.execute(trx);
      const result = await sql<HitRow>`
      WITH query AS (SELECT to_tsquery('simple', ${terms.map((t) => `'${t}'`).join(' & ')}) AS q),
      hits AS (
        SELECT m.seq, ts_rank_cd(m.search, query.q) AS rank
        FROM messages m, query
        WHERE m.search @@ query.q
          AND m.board_id IN (${sql.join(boardIds)})
          AND m.deleted_at IS NULL
          AND NOT m.is_event
          AND ${hiddenAuthorsFilter(reader)}
        ORDER BY rank DESC, m.seq DESC
        LIMIT ${limit} OFFSET ${offset}
      )
      SELECT m.seq, m.id, m.board_id, m.board_ref, m.parent_id, m.thread_id, m.author_id,
             m.author_fingerprint, m.author_nickname, m.subject, m.body, m.attachments, m.signature,
             m.created_at, m.deleted_at, m.deleted_by, hits.rank,
             ts_headline('simple', m.subject, query.q,
               'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', HighlightAll=true') AS subject_hl,
             ts_headline('simple', m.body, query.q,
               'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxWords=35, MinWords=15, MaxFragments=2, FragmentDelimiter=" … "') AS body_hl
      FROM hits JOIN messages m ON m.seq = hits.seq, query
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
