// What lists show, not only who may call them: a private board's messages and other people's
// private messages never appear in any list, search, board page or thread page an actor without
// access reads; and /metrics refuses every request without its token. Statuses alone (the
// authorization matrix) would pass a list that answers 200 with someone else's words in it.
import type { Check, CheckResult } from '../check.js';
import { ACTORS, setUpFixtures, type Actor } from '../fixtures.js';
import type { Dialect } from '../../src/server/db/database.js';
import { onEachDatabase, send, startCheckServer } from '../server.js';

const METRICS_TOKEN = 'list-contents-metrics-token-0123';

const check: Check = {
  name: 'list-contents',
  run: (options) => onEachDatabase(options, runOn),
};

async function runOn(dialect: Dialect): Promise<CheckResult> {
  const server = await startCheckServer(dialect, { AXON_METRICS_TOKEN: METRICS_TOKEN });
  const failures: string[] = [];
  let cases = 0;
  try {
    const fx = await setUpFixtures(server);
    const sysop = fx.accounts.sysop!;
    const word = `zq${Date.now().toString(36)}`;
    // The same search word on a sysops-only board and on a public one: the public hit proves the
    // search runs, so an empty answer is not what makes the restricted one absent.
    const secret = `secret${word}`;
    const privateWords = `pm${word}`;
    const post = async (token: string, boardId: string, subject: string, body: string) => {
      const answer = await send(server.base, {
        method: 'POST',
        url: '/api/messages/',
        token,
        json: { board_id: boardId, subject, body },
      });
      if (answer.status !== 201) throw new Error(`set-up post: ${answer.status} ${answer.text}`);
      return (JSON.parse(answer.text) as { data: { id: string } }).data.id;
    };
    const restrictedId = await post(sysop.token, fx.restrictedBoard, `${secret} subject`, word);
    await post(sysop.token, fx.restrictedBoard, 'reply-free', `${secret} in the body ${word}`);
    const publicId = await post(fx.other.token, fx.publicBoard, 'public', `public ${word}`);
    const pm = await send(server.base, {
      method: 'POST',
      url: '/api/private_messages/',
      token: fx.sysop2.token,
      json: { to: fx.other.username, subject: `${privateWords} subject`, body: privateWords },
    });
    if (pm.status !== 201) throw new Error(`set-up PM: ${pm.status} ${pm.text}`);

    // Every list an actor can call: the parameterless GET routes, board pages and thread pages
    // (public and restricted), and searches for the words.
    const lists = server.routes
      .filter((r) => r.method === 'GET' && r.url.startsWith('/api/') && !r.url.includes(':'))
      .filter((r) => !r.url.includes('/events/stream/') && !r.url.startsWith('/api/docs'))
      .map((r) => r.url)
      .concat(
        [fx.publicBoard, fx.restrictedBoard].flatMap((b) => [
          `/api/boards/${b}/messages/`,
          `/api/boards/${b}/messages/?threads=true`,
        ]),
        [publicId, restrictedId].map((id) => `/api/messages/${id}/`),
        [word, secret, privateWords].map((q) => `/api/search/?q=${q}`),
      );

    const mayReadRestricted = (actor: Actor) => actor === 'sysop';
    for (const actor of ACTORS) {
      const token = fx.accounts[actor]?.token;
      for (const url of lists) {
        cases++;
        const answer = await send(server.base, { method: 'GET', url, token, waitMs: 10_000 });
        if (answer.status >= 500) failures.push(`${actor} GET ${url}: ${answer.status}`);
        if (answer.text.includes(privateWords))
          failures.push(`${actor} GET ${url} shows a private message between two other users`);
        if (!mayReadRestricted(actor) && answer.text.includes(secret))
          failures.push(`${actor} GET ${url} shows a message of a board only sysops read`);
      }
    }
    // The controls: the words are there to be found by those who may.
    cases += 2;
    const found = async (q: string, token: string) =>
      (await send(server.base, { method: 'GET', url: `/api/search/?q=${q}`, token })).text;
    if (!(await found(word, fx.accounts.user!.token)).includes(publicId))
      failures.push('control: a member does not find the public message by its word');
    if (!(await found(secret, sysop.token)).includes(restrictedId))
      failures.push('control: the sysop does not find the restricted message by its word');

    // /metrics: only its token opens it; a session (even a sysop's) does not.
    const metricsTries: Array<[string, Record<string, string>, number]> = [
      ['no token', {}, 401],
      ['a wrong token', { authorization: 'Bearer not-the-metrics-token-000' }, 401],
      ["a sysop's session", { authorization: `Bearer ${sysop.token}` }, 401],
      ['the token in the query', {}, 401],
      ['its token', { authorization: `Bearer ${METRICS_TOKEN}` }, 200],
    ];
    for (const [what, headers, expected] of metricsTries) {
      cases++;
      const url =
        what === 'the token in the query' ? `/metrics?token=${METRICS_TOKEN}` : '/metrics';
      const answer = await send(server.base, { method: 'GET', url, headers });
      if (answer.status !== expected)
        failures.push(`GET /metrics with ${what}: expected ${expected}, got ${answer.status}`);
      if (expected !== 200 && answer.text.includes('process_cpu'))
        failures.push(`GET /metrics with ${what} answered the figures`);
    }
  } finally {
    await server.close();
  }
  return { cases, failures };
}

export default check;
