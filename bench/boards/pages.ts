// Item 3: page time in a 1k vs a 1M-message board, first page and a deep page, alternating.
import http from 'node:http';
import { DEEP_PAGES, PAGE_BUDGET_MS, PAGE_ROUNDS, PAGE_WARMUP_ROUNDS } from './options.js';
import { UNCACHED, api, field, pageUrl } from './api.js';
export interface Walked {
  cursor: string | undefined;
  /** 1-based number of the page the cursor fetches. */
  page: number;
}

/** Follows next_cursor up to `pages` times; the deepest page reached and its cursor. */
export async function walk(base: string, board: string, pages: number, agent: http.Agent) {
  let walked: Walked = { cursor: undefined, page: 1 };
  for (let i = 0; i < pages; i++) {
    const { data } = await api(pageUrl(base, board, walked.cursor), { agent });
    const next = field(data, 'next_cursor');
    if (typeof next !== 'string') break;
    walked = { cursor: next, page: walked.page + 1 };
  }
  return walked;
}

export interface PageTimes {
  first: number[];
  deep: number[];
  deepPage: number;
}

export async function pageTimes(base: string, small: string, big: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const deep = {
      small: await walk(base, small, DEEP_PAGES, agent),
      big: await walk(base, big, DEEP_PAGES, agent),
    };
    const times: Record<'small' | 'big', PageTimes> = {
      small: { first: [], deep: [], deepPage: deep.small.page },
      big: { first: [], deep: [], deepPage: deep.big.page },
    };
    const deadline = performance.now() + PAGE_BUDGET_MS;
    let rounds = 0;
    for (let r = 0; r < PAGE_WARMUP_ROUNDS + PAGE_ROUNDS && performance.now() < deadline; r++) {
      // Alternating which board goes first spreads any drift in machine speed over both.
      const order = r % 2 === 0 ? (['small', 'big'] as const) : (['big', 'small'] as const);
      for (const which of order) {
        const board = which === 'small' ? small : big;
        // Uncached, so the figures compare the database work on a small and a large board.
        const first = await api(pageUrl(base, board), { agent, headers: UNCACHED });
        const deepAnswer = await api(pageUrl(base, board, deep[which].cursor), {
          agent,
          headers: UNCACHED,
        });
        if (r >= PAGE_WARMUP_ROUNDS) {
          times[which].first.push(first.ms);
          times[which].deep.push(deepAnswer.ms);
        }
      }
      if (r >= PAGE_WARMUP_ROUNDS) rounds++;
    }
    return { ...times, rounds };
  } finally {
    agent.destroy();
  }
}
