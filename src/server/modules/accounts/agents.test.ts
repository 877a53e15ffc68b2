// Agents through the API, on SQLite and PostgreSQL: a sysop creates one and issues it scoped
// tokens (stored only hashed); the agent posts, signed, only where its token allows, shows as a bot,
// never logs in with a password, and stops at once when its token is revoked or it is banned.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Account,
  bearer,
  countRows,
  createBoard,
  registerUsers,
  startTestApp,
  type TestApp,
  uploadFile,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { AGENT_WRITES_PER_MINUTE } from './agents.js';

describe.each(DIALECTS)('agents on %s', (dialect) => {
  let t: TestApp;
  let sysop: Account;
  let alice: Account;
  let botBoard: string;
  let otherBoard: string;
  let refereeApplet: string;
  let otherApplet: string;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    [sysop, alice] = await registerUsers(t, ['root', 'alice'], { root: 'sysop' });
    botBoard = await createBoard(t, sysop.token, { name: 'bots' });
    otherBoard = await createBoard(t, sysop.token, { name: 'quiet' });
    const code = await uploadFile(t, sysop.token, Buffer.from('/* referee */'), 'applet.js');
    const applet = async (name: string) => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/applets/',
        headers: bearer(sysop.token),
        payload: { name, code_hash: code },
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().data.id as string;
    };
    refereeApplet = await applet('Referee');
    otherApplet = await applet('Other');
  });
  afterAll(() => t.close());

  const createAgent = (token: string, payload: object) =>
    t.app.inject({ method: 'POST', url: '/api/admin/agents/', headers: bearer(token), payload });
  const issue = (name: string, payload: object, token = sysop.token) =>
    t.app.inject({
      method: 'POST',
      url: `/api/admin/agents/${name}/tokens/`,
      headers: bearer(token),
      payload,
    });
  const post = (token: string, boardId: string, subject = 'hello') =>
    t.app.inject({
      method: 'POST',
      url: '/api/messages/',
      headers: bearer(token),
      payload: { board_id: boardId, subject, body: 'from a bot' },
    });
  async function tokenFor(name: string, scope: object): Promise<string> {
    const res = await issue(name, scope);
    expect(res.statusCode, res.body).toBe(201);
    return res.json().data.token as string;
  }

  it('is created by a sysop only, with a key and no password', async () => {
    expect((await createAgent(alice.token, { name: 'sneaky' })).statusCode).toBe(403);
    const res = await createAgent(sysop.token, { name: 'herald', nickname: 'Herald' });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().data).toMatchObject({
      username: 'herald',
      nickname: 'Herald',
      is_agent: true,
    });
    expect(res.json().data.pubkey).toMatch(/BEGIN PUBLIC KEY/);
    expect((await createAgent(sysop.token, { name: 'Herald' })).json().error.code).toBe(
      'USERNAME_TAKEN',
    );
    const listed = await t.app.inject({ url: '/api/admin/agents/', headers: bearer(sysop.token) });
    expect(listed.json().data.items.map((a: { username: string }) => a.username)).toEqual([
      'herald',
    ]);
    expect(
      (await t.app.inject({ url: '/api/admin/agents/', headers: bearer(alice.token) })).statusCode,
    ).toBe(403);

    // No password opens it, whatever is tried: agents act only through their tokens.
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { username: 'herald', password: 'correct horse battery' },
    });
    expect(login.statusCode).toBe(401);
    expect(login.json().error.code).toBe('INVALID_CREDENTIALS');
  });

  it('gets a token shown once and stored only as its hash', async () => {
    expect((await issue('herald', { boards: [botBoard] }, alice.token)).statusCode).toBe(403);
    const res = await issue('herald', { label: 'announcer', boards: ['bots'], applets: [] });
    expect(res.statusCode, res.body).toBe(201);
    const issued = res.json().data;
    expect(issued).toMatchObject({ label: 'announcer', boards: [botBoard], applets: [] });
    expect(issued.token).toMatch(/^axa_/);
    const rows = await t.ctx.database.db.selectFrom('agent_tokens').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(issued.token);
    const listed = await t.app.inject({
      url: '/api/admin/agents/herald/tokens/',
      headers: bearer(sysop.token),
    });
    expect(listed.json().data.items).toHaveLength(1);
    expect(listed.body).not.toContain(issued.token);
  });

  it('refuses a token that names nothing, or a board that does not exist, keeping nothing', async () => {
    const before = await countRows(t, 'agent_tokens');
    const none = await issue('herald', { boards: [], applets: [] });
    expect(none.statusCode).toBe(400);
    const unknown = await issue('herald', { boards: ['no-such-board'] });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.details.fields[0].field).toBe('body.boards.0');
    const past = await issue('herald', { boards: [botBoard], expires_at: '2001-01-01T00:00:00Z' });
    expect(past.statusCode).toBe(400);
    expect(await countRows(t, 'agent_tokens')).toBe(before);
  });

  it('posts signed messages in scope, shown as a bot', async () => {
    const token = await tokenFor('herald', { boards: [botBoard] });
    const res = await post(token, botBoard);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().data.author).toMatchObject({ nickname: 'Herald', is_agent: true });
    const thread = await t.app.inject({
      url: `/api/messages/${res.json().data.id}/`,
      headers: bearer(alice.token),
    });
    expect(thread.json().data.message.signature_valid).toBe(true);
    expect(thread.json().data.message.author.is_agent).toBe(true);
    const byAlice = await post(alice.token, botBoard, 'human');
    const page = await t.app.inject({
      url: `/api/boards/${botBoard}/messages/`,
      headers: bearer(alice.token),
    });
    const authors = page
      .json()
      .data.items.map((m: { subject: string; author: { is_agent: boolean } }) => [
        m.subject,
        m.author.is_agent,
      ]);
    expect(authors).toEqual(expect.arrayContaining([['hello', true]]));
    expect(byAlice.json().data.author.is_agent).toBe(false);
    // The agent reads as any member does.
    const read = await t.app.inject({ url: `/api/boards/${otherBoard}/`, headers: bearer(token) });
    expect(read.statusCode).toBe(200);
  });

  it('refuses every write its token does not name with AGENT_SCOPE, changing nothing', async () => {
    const token = await tokenFor('herald', { boards: [botBoard], applets: [refereeApplet] });
    const messages = await countRows(t, 'messages');
    const elsewhere = await post(token, otherBoard);
    expect(elsewhere.statusCode).toBe(403);
    expect(elsewhere.json().error.code).toBe('AGENT_SCOPE');
    const otherEvent = await t.app.inject({
      method: 'POST',
      url: `/api/applets/${otherApplet}/post_event/`,
      headers: bearer(token),
      payload: { subject: 'move', body: '{}' },
    });
    expect(otherEvent.json().error.code).toBe('AGENT_SCOPE');
    for (const [method, url, payload] of [
      ['PATCH', '/api/user/profile/', { nickname: 'Renamed' }],
      ['POST', '/api/auth/logout/', undefined],
      ['POST', '/api/boards/', { name: 'botmade' }],
    ] as const) {
      const res = await t.app.inject({ method, url, headers: bearer(token), payload });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().error.code).toBe('AGENT_SCOPE');
    }
    expect(await countRows(t, 'messages')).toBe(messages);
    expect((await t.ctx.agents.get('herald')).nickname).toBe('Herald');
    // Its own applet's events: allowed, and the readers see a bot.
    const event = await t.app.inject({
      method: 'POST',
      url: `/api/applets/${refereeApplet}/post_event/`,
      headers: bearer(token),
      payload: { subject: 'verdict', body: '{"winner":"alice"}' },
    });
    expect(event.statusCode, event.body).toBe(201);
    const events = await t.app.inject({
      url: `/api/applets/${refereeApplet}/read_events/`,
      headers: bearer(alice.token),
    });
    expect(events.json().data.events.at(-1)).toMatchObject({
      subject: 'verdict',
      author: { nickname: 'Herald', is_agent: true },
    });
    // Its own data on that applet, and none on another.
    const save = (applet: string) =>
      t.app.inject({
        method: 'PUT',
        url: `/api/applets/${applet}/data/`,
        headers: bearer(token),
        payload: { data: { round: 3 } },
      });
    expect((await save(refereeApplet)).statusCode).toBe(200);
    expect((await save(otherApplet)).json().error.code).toBe('AGENT_SCOPE');
  });

  it('is rate-limited per agent, refusing past the limit without posting', async () => {
    await createAgent(sysop.token, { name: 'chatty' });
    const token = await tokenFor('chatty', { boards: [botBoard] });
    const agent = await t.ctx.agents.get('chatty');
    for (let i = 0; i < AGENT_WRITES_PER_MINUTE - 1; i++) await t.ctx.agents.countWrite(agent);
    expect((await post(token, botBoard)).statusCode).toBe(201);
    const messages = await countRows(t, 'messages');
    const over = await post(token, botBoard);
    expect(over.statusCode).toBe(429);
    expect(over.json().error.code).toBe('RATE_LIMITED');
    expect(await countRows(t, 'messages')).toBe(messages);
  });

  it('stops at once when its token is revoked, expires, or the agent is banned', async () => {
    const revoked = await tokenFor('herald', { boards: [botBoard] });
    const issued = (
      await t.app.inject({ url: '/api/admin/agents/herald/tokens/', headers: bearer(sysop.token) })
    ).json().data.items[0];
    const del = await t.app.inject({
      method: 'DELETE',
      url: `/api/admin/agent_tokens/${issued.id}/`,
      headers: bearer(sysop.token),
    });
    expect(del.statusCode, del.body).toBe(200);
    expect((await post(revoked, botBoard)).statusCode).toBe(401);

    const expiring = await tokenFor('herald', { boards: [botBoard] });
    expect((await post(expiring, botBoard)).statusCode).toBe(201);
    const newest = (await t.ctx.agents.tokens('herald'))[0]!;
    await t.ctx.database.db
      .updateTable('agent_tokens')
      .set({ expires_at: Date.now() - 1 })
      .where('id', '=', newest.id)
      .execute();
    expect((await post(expiring, botBoard)).json().error.code).toBe('SESSION_EXPIRED');

    const live = await tokenFor('herald', { boards: [botBoard] });
    await t.ctx.accounts.ban('herald', { reason: 'spam', actor: { id: null, name: 'test' } });
    const banned = await post(live, botBoard);
    expect(banned.statusCode).toBe(403);
    expect(banned.json().error.code).toBe('ACCOUNT_BANNED');
  });
});
