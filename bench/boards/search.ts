// Item 4: search latency over the seeded messages, for rare, medium and common words and pairs.
import http from 'node:http';
import { SEARCH_CLASS_BUDGET_MS, SEARCH_ROUNDS, SEARCH_WORDS_PER_CLASS } from './options.js';
import { TextGenerator } from './text.js';
import { api, field } from './api.js';
export interface SearchQuery {
  q: string;
  /** Documents with every word, when known (single words: counted while generating). */
  docs: number | undefined;
}

export type SearchClass = 'rare' | 'medium' | 'common' | 'two words';

export function searchQueries(text: TextGenerator): Record<SearchClass, SearchQuery[]> {
  const docs = text.docs;
  const byDf = text.words.map((word, rank) => ({ word, df: text.docFreq[rank]! }));
  byDf.sort((a, b) => a.df - b.df);
  const nearest = (fraction: number, skip: ReadonlySet<string>) =>
    byDf
      .filter((w) => !skip.has(w.word))
      .sort((a, b) => Math.abs(a.df - fraction * docs) - Math.abs(b.df - fraction * docs))
      .slice(0, SEARCH_WORDS_PER_CLASS);
  const rare = byDf.slice(0, SEARCH_WORDS_PER_CLASS);
  const taken = new Set(rare.map((w) => w.word));
  const medium = nearest(0.01, taken);
  for (const w of medium) taken.add(w.word);
  const common = nearest(0.15, taken);
  const single = (ws: typeof rare) => ws.map((w) => ({ q: w.word, docs: w.df }));
  return {
    rare: single(rare),
    medium: single(medium),
    common: single(common),
    'two words': [
      { q: `${rare[0]!.word} ${common[0]!.word}`, docs: undefined },
      { q: `${medium[0]!.word} ${medium[1]!.word}`, docs: undefined },
      { q: `${medium[2]!.word} ${common[1]!.word}`, docs: undefined },
      { q: `${common[2]!.word} ${common[3]!.word}`, docs: undefined },
    ],
  };
}

export async function searchTimes(base: string, queries: Record<SearchClass, SearchQuery[]>) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const classes = Object.keys(queries) as SearchClass[];
  const times = Object.fromEntries(classes.map((c) => [c, [] as number[]])) as Record<
    SearchClass,
    number[]
  >;
  const spent = Object.fromEntries(classes.map((c) => [c, 0])) as Record<SearchClass, number>;
  const hits = new Map<string, number>();
  try {
    // Round 0 warms up each query (its pages in the cache, the statement prepared); not counted.
    for (let round = 0; round <= SEARCH_ROUNDS; round++) {
      for (const c of classes) {
        if (spent[c] > SEARCH_CLASS_BUDGET_MS) continue;
        for (const query of queries[c]) {
          const { data, ms } = await api(`${base}/api/search/?q=${encodeURIComponent(query.q)}`, {
            agent,
          });
          spent[c] += ms;
          if (round === 0) {
            const items = field(data, 'items');
            hits.set(query.q, Array.isArray(items) ? items.length : -1);
          } else times[c].push(ms);
        }
      }
    }
  } finally {
    agent.destroy();
  }
  return { times, hits };
}
