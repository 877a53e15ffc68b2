// Applets' lifecycle on SQLite and PostgreSQL: upload (the upload right and karma ≥ 10), pending
// until a moderator or sysop approves (with a reason), hidden from others meanwhile; the code served as exactly the bytes of its
// content hash; the sandboxed frame document with its own CSP.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Account,
  bearer,
  countRows,
  promote,
  registerUser,
  uploadFile,
  registerUsers,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { runAxon } from '../../../test-support/axon-process.js';
import { expectFieldRefused } from '../../../test-support/expect.js';

const CODE = Buffer.from("document.getElementById('applet-root').textContent = 'hello';\n");

describe.each(DIALECTS)('applets on %s', (dialect) => {
  let t: TestApp;
  let sysop: Account;
  let alice: Account;
  let bob: Account;
  let code: string;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    [sysop, alice, bob] = await registerUsers(t, ['root', 'alice', 'bob'], { root: 'sysop' });
    code = await upload(alice, CODE);
  });
  afterAll(() => t.close());

  async function upload(who: Account, bytes: Buffer) {
    return uploadFile(t, who.token, bytes, 'applet.js');
  }
  const setKarma = (who: Account, karma: number) =>
    t.ctx.database.db.updateTable('users').set({ karma }).where('id', '=', who.id).execute();
  const create = (who: Account, payload: object) =>
    t.app.inject({ method: 'POST', url: '/api/applets/', headers: bearer(who.token), payload });
  const get = (id: string, who?: Account) =>
    t.app.inject({ url: `/api/applets/${id}/`, headers: who ? bearer(who.token) : {} });

  it('refuses an upload below the karma threshold, keeping nothing', async () => {
    const before = await countRows(t, 'applets');
    const res = await create(alice, { name: 'Early', code_hash: code });
    expect(res.statusCode).toBe(403);
    expect(await countRows(t, 'applets')).toBe(before);
  });

  it('keeps an applet pending and hidden until a sysop approves it', async () => {
    await setKarma(alice, 10);
    const res = await create(alice, {
      name: 'Hello',
      code_hash: code,
      parameters: { level: 3 },
      handles_mime_types: ['text/csv'],
    });
    expect(res.statusCode, res.body).toBe(201);
    const applet = res.json().data;
    expect(applet).toMatchObject({
      status: 'pending',
      code_manifest: { content_hash: code },
      parameters: { level: 3 },
      handles_mime_types: ['text/csv'],
      is_debug_mode: false,
    });
    expect(applet.author_pubkey).toMatch(/BEGIN PUBLIC KEY/);
    expect((await get(applet.id, alice)).statusCode).toBe(200);
    expect((await get(applet.id, bob)).statusCode).toBe(404);
    expect((await get(applet.id)).statusCode).toBe(404);
    const listed = await t.app.inject({ url: '/api/applets/' });
    expect(listed.json().data.items.map((a: { id: string }) => a.id)).not.toContain(applet.id);
    const pendingList = (who: Account) =>
      t.app.inject({ url: '/api/applets/?status=pending', headers: bearer(who.token) });
    expect((await pendingList(alice)).statusCode).toBe(403);
    expect((await pendingList(sysop)).json().data.items[0].id).toBe(applet.id);

    const review = (who: Account, status: string) =>
      t.app.inject({
        method: 'POST',
        url: `/api/applets/${applet.id}/review/`,
        headers: bearer(who.token),
        payload: { status },
      });
    expect((await review(alice, 'approved')).statusCode).toBe(403);
    expect((await get(applet.id, bob)).statusCode).toBe(404);
    expect((await review(sysop, 'approved')).json().data.status).toBe('approved');
    expect((await get(applet.id, bob)).statusCode).toBe(200);

    const served = await t.app.inject({ url: `/api/applets/${applet.id}/code/` });
    expect(served.statusCode).toBe(200);
    expect(createHash('sha256').update(served.rawPayload).digest('hex')).toBe(code);
    expect(served.headers['content-type']).toBe('application/octet-stream');
  });

  it('refuses code the uploader did not upload, and bad parameters', async () => {
    await setKarma(bob, 50);
    const before = await countRows(t, 'applets');
    const notTheirs = await create(bob, { name: 'Thief', code_hash: code });
    expectFieldRefused(notTheirs, 'body.code_hash');
    const badMime = await create(bob, { name: 'Mime', handles_mime_types: ['not a type'] });
    expect(badMime.statusCode).toBe(400);
    const big = await create(bob, { name: 'Big', parameters: { x: 'y'.repeat(17 * 1024) } });
    expect(big.statusCode).toBe(400);
    expect(await countRows(t, 'applets')).toBe(before);
  });

  it("keeps category, code size and the reviewer's reason; moderators review too", async () => {
    await setKarma(alice, 10);
    const mod = await registerUser(t.app, `mod${dialect}`);
    await promote(t, mod.username, 'moderator');
    const created = await create(alice, {
      name: 'Sorted',
      code_hash: code,
      category_name: 'Games',
    });
    expect(created.statusCode, created.body).toBe(201);
    const applet = created.json().data;
    expect(applet).toMatchObject({
      category_name: 'Games',
      author_username: alice.username,
      code_manifest: { content_hash: code, size: CODE.length },
      review_reason: null,
      reviewed_at: null,
    });
    const review = (payload: object) =>
      t.app.inject({
        method: 'POST',
        url: `/api/applets/${applet.id}/review/`,
        headers: bearer(mod.token),
        payload,
      });
    expect((await review({ status: 'rejected', reason: 'x'.repeat(501) })).statusCode).toBe(400);
    expect((await get(applet.id, alice)).json().data.status).toBe('pending');
    const rejected = await review({ status: 'rejected', reason: 'needs a description' });
    expect(rejected.statusCode, rejected.body).toBe(200);
    const seen = (await get(applet.id, alice)).json().data;
    expect([seen.status, seen.review_reason]).toEqual(['rejected', 'needs a description']);
    expect(Date.parse(seen.reviewed_at)).toBeGreaterThan(0);
    const approved = (await review({ status: 'approved' })).json().data;
    expect([approved.status, approved.review_reason]).toEqual(['approved', null]);
    const listed = (await t.app.inject({ url: '/api/applets/' })).json().data.items;
    expect(listed.find((a: { id: string }) => a.id === applet.id).category_name).toBe('Games');
    const badCategory = await create(alice, { name: 'Bad cat', category_name: '<b>' });
    expect(badCategory.statusCode).toBe(400);
  });

  it('keeps an asset package readable by members once approved, and checks the parameters', async () => {
    await setKarma(alice, 10);
    await setKarma(bob, 50);
    const asset = await upload(alice, Buffer.from(`PK asset package of ${dialect}`));
    const stream = (who?: Account) =>
      t.app.inject({
        url: `/api/content/stream/${asset}/`,
        headers: who ? bearer(who.token) : {},
      });
    const before = await countRows(t, 'applets');
    const notTheirs = await create(bob, {
      name: 'Borrow',
      parameters: { asset_package_hash: asset },
    });
    expect(notTheirs.statusCode).toBe(400);
    expect(notTheirs.json().error.details.fields[0].field).toBe(
      'body.parameters.asset_package_hash',
    );
    for (const parameters of [
      { asset_package_hash: 'not-a-hash' },
      { required_libraries: ['https://cdn.example/lib.js'] },
      { required_libraries: 'jszip' },
    ]) {
      const bad = await create(alice, { name: 'Bad params', parameters });
      expect(bad.statusCode, JSON.stringify(parameters)).toBe(400);
    }
    expect(await countRows(t, 'applets')).toBe(before);

    const created = await create(alice, {
      name: `Packed ${dialect}`,
      code_hash: code,
      parameters: { asset_package_hash: asset, required_libraries: ['jszip', 'axon-zip'] },
    });
    expect(created.statusCode, created.body).toBe(201);
    const applet = created.json().data;
    // Pending: only its owner reads the package; approved: every member, never a visitor.
    expect((await stream(bob)).statusCode).toBe(404);
    await t.app.inject({
      method: 'POST',
      url: `/api/applets/${applet.id}/review/`,
      headers: bearer(sysop.token),
      payload: { status: 'approved' },
    });
    expect((await stream(bob)).statusCode).toBe(200);
    expect((await stream(bob)).body).toBe(`PK asset package of ${dialect}`);
    expect((await stream()).statusCode).toBe(404);
    // Removing the applet lets the package go (its content ref goes with it).
    await t.ctx.applets.remove(applet.id);
    expect((await stream(bob)).statusCode).toBe(404);
  });

  it("approves a sysop's applet at once", async () => {
    const res = await create(sysop, { name: 'House' });
    expect(res.json().data.status).toBe('approved');
  });

  it("keeps each user's data as an encrypted BitSync object only they read", async () => {
    const applet = (await create(sysop, { name: 'Saves' })).json().data;
    const url = `/api/applets/${applet.id}/data/`;
    const read = (who: Account) => t.app.inject({ url, headers: bearer(who.token) });
    const save = (who: Account, data: unknown) =>
      t.app.inject({ method: 'PUT', url, headers: bearer(who.token), payload: { data } });
    expect((await read(alice)).json().data).toEqual({ data: null, updated_at: null });
    expect((await save(alice, { level: 2, secret: 'alice-only' })).statusCode).toBe(200);
    expect((await save(bob, { level: 9 })).statusCode).toBe(200);
    expect((await read(alice)).json().data.data).toEqual({ level: 2, secret: 'alice-only' });
    expect((await read(bob)).json().data.data).toEqual({ level: 9 });
    expect((await t.app.inject({ url })).statusCode).toBe(401);
    // Stored through BitSync: the plaintext is nowhere in the chunk store, and the object is kept
    // by a content ref of the applet; a replaced object's ref goes.
    const row = await t.ctx.database.db
      .selectFrom('applet_data')
      .selectAll()
      .where('user_id', '=', alice.id)
      .executeTakeFirstOrThrow();
    const refs = () =>
      t.ctx.database.db
        .selectFrom('content_refs')
        .select('content_hash')
        .where('ref_id', '=', applet.id)
        .execute();
    expect((await refs()).map((r) => r.content_hash)).toContain(row.content_hash);
    expect((await save(alice, { level: 3 })).statusCode).toBe(200);
    expect((await refs()).map((r) => r.content_hash)).not.toContain(row.content_hash);
    expect((await refs()).length).toBe(2);
    const before = (await read(alice)).json().data.data;
    const big = await save(alice, 'x'.repeat(64 * 1024));
    expect(big.statusCode).toBe(400);
    expect((await read(alice)).json().data.data).toEqual(before);
  });

  it('lists self-reported high scores, rate-limits submissions, moderators remove entries', async () => {
    const applet = (await create(sysop, { name: 'Scores' })).json().data;
    const url = `/api/applets/${applet.id}/high_scores/`;
    const submit = (who: Account, payload: object) =>
      t.app.inject({ method: 'POST', url, headers: bearer(who.token), payload });
    const first = await submit(alice, { score: 120, wins: 1 });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json().data).toMatchObject({ score: 120, wins: 1, self_reported: true });
    expect((await submit(alice, { score: 500 })).statusCode).toBe(429);
    expect((await submit(bob, { score: 300, losses: 2 })).statusCode).toBe(200);
    expect((await submit(bob, { score: -1 })).statusCode).toBe(400);
    const list = (await t.app.inject({ url, headers: bearer(bob.token) })).json().data.items;
    expect(list.map((e: { nickname: string; score: number }) => [e.nickname, e.score])).toEqual([
      [bob.username, 300],
      [alice.username, 120],
    ]);
    const remove = (who: Account) =>
      t.app.inject({
        method: 'DELETE',
        url: `${url}${list[0].id}/`,
        headers: bearer(who.token),
      });
    expect((await remove(alice)).statusCode).toBe(403);
    expect((await remove(sysop)).json().data).toEqual({ removed: true });
    expect(
      (await t.app.inject({ url, headers: bearer(bob.token) })).json().data.items,
    ).toHaveLength(1);
  });

  it('lists, approves, rejects and removes applets with `axon applet`', async () => {
    await setKarma(bob, 50);
    const pending = (await create(bob, { name: `Cli ${dialect}` })).json().data;
    const env = { DATABASE_URL: t.db.url, AXON_DATA_DIR: t.db.dir, LOG_LEVEL: 'warn' };
    const listed = await runAxon(['applet', 'list', '--json'], { env });
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toContainEqual(
      expect.objectContaining({ id: pending.id, status: 'pending' }),
    );
    const rejected = await runAxon(['applet', 'reject', pending.id, '--reason', 'too noisy'], {
      env,
    });
    expect(rejected.code, rejected.stderr).toBe(0);
    const seen = (await get(pending.id, sysop)).json().data;
    expect([seen.status, seen.review_reason]).toEqual(['rejected', 'too noisy']);
    expect((await runAxon(['applet', 'approve', pending.id], { env })).code).toBe(0);
    expect((await get(pending.id, alice)).json().data.status).toBe('approved');
    expect((await runAxon(['applet', 'remove', pending.id], { env })).code).toBe(0);
    expect((await get(pending.id, sysop)).statusCode).toBe(404);
    const missing = await runAxon(['applet', 'approve', 'nope'], { env });
    expect(missing.code).not.toBe(0);
  });

  it('serves the frame document with its own sandboxing CSP', async () => {
    const res = await t.app.inject({ url: '/applet-frame/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('<div id="applet-root"></div>');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain('sandbox allow-scripts');
    expect(csp).toContain('connect-src blob: data:');
    // Only its embedding is allowed to the app; nothing may be loaded from any origin.
    expect(csp).toContain("frame-ancestors 'self'");
    expect(csp.replace("frame-ancestors 'self'", '')).not.toMatch(/'self'|https?:|\*/);
    // The bootstrap script is allowed by its hash only.
    const script = /<script>([\s\S]*?)<\/script>/.exec(res.body)![1]!;
    const hash = createHash('sha256').update(script).digest('base64');
    expect(csp).toContain(`script-src 'sha256-${hash}' blob:`);
  });
});
