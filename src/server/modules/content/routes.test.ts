// Attachments over real HTTP on SQLite and PostgreSQL: streaming upload, dedup, download with
// Range/ETag, verification bytes, metadata without envelopes, who may read what, attaching to
// messages and private messages, bad input and a corrupted blob.
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Account,
  bearer,
  createBoard,
  listen,
  registerUser,
  registerUsers,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { MediaTokens } from './media-tokens.js';
import { parseRange } from '../../http/range.js';
import { expectFieldRefused } from '../../../test-support/expect.js';

interface Answer {
  data: {
    content_hash: string;
    size: number;
    mime_type: string;
    filename: string;
    chunks: string[];
  };
  error: { code: string };
}
const answer = (res: Response) => res.json() as Promise<Answer>;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('Range headers', () => {
  it('parse one range and ignore what they cannot serve', () => {
    expect(parseRange('bytes=0-99', 1000)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=900-', 1000)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=-100', 1000)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=990-2000', 1000)).toEqual({ start: 990, end: 999 });
    expect(parseRange('bytes=1000-', 1000)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 1000)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-1,5-9', 1000)).toBeUndefined();
    expect(parseRange('items=0-1', 1000)).toBeUndefined();
    expect(parseRange(undefined, 1000)).toBeUndefined();
  });
});

describe.each(DIALECTS)('content on %s', (dialect) => {
  let t: TestApp;
  let base: string;
  let alice: Account;
  let bob: Account;
  let carol: Account;
  let sysop: Account;
  let board: string;
  let secretBoard: string;
  const photo = randomBytes(1_300_000); // two full chunks and a partial one

  beforeAll(async () => {
    t = await startTestApp(dialect, { AXON_UPLOAD_LIMIT: String(3 * 1024 * 1024) });
    base = await listen(t);
    [alice, bob, carol, sysop] = await registerUsers(t, ['alice', 'bob', 'carol', 'root'], {
      root: 'sysop',
    });
    board = await createBoard(t, sysop.token, { name: 'Pictures' });
    secretBoard = await createBoard(t, sysop.token, {
      name: 'Staff only',
      read_access: 'moderators',
    });
  });
  afterAll(() => t.close());

  async function upload(
    account: Account,
    bytes: Uint8Array,
    filename = 'cat.jpg',
    type = 'image/jpeg',
    headers: Record<string, string> = {},
  ) {
    const form = new FormData();
    form.append('file', new Blob([bytes], { type }), filename);
    return fetch(`${base}/api/content/upload/`, {
      method: 'POST',
      headers: { ...bearer(account.token), ...headers },
      body: form,
    });
  }
  const storedBlobs = async () => {
    const store = path.join(t.db.dir, 'chunks', 'blobs');
    const names: string[] = [];
    for (const dir of await readdir(store)) names.push(...(await readdir(path.join(store, dir))));
    return names.sort();
  };
  const attachmentsOf = async (account: Account) =>
    (
      await t.ctx.database.db
        .selectFrom('attachments')
        .select('content_hash')
        .where('uploader_id', '=', account.id)
        .execute()
    ).map((row) => row.content_hash);
  const get = (hash: string, account?: Account, headers: Record<string, string> = {}, query = '') =>
    fetch(`${base}/api/content/stream/${hash}/${query}`, {
      headers: { ...(account === undefined ? {} : bearer(account.token)), ...headers },
    });

  it('uploads, streams back the same bytes with the right headers, and ranges', async () => {
    const res = await upload(alice, photo);
    expect(res.status).toBe(201);
    const data = (await answer(res)).data;
    expect(data).toMatchObject({
      content_hash: sha256(photo),
      size: photo.length,
      mime_type: 'image/jpeg',
      filename: 'cat.jpg',
    });

    const whole = await get(data.content_hash, alice);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('image/jpeg');
    expect(whole.headers.get('content-length')).toBe(String(photo.length));
    expect(whole.headers.get('x-content-type-options')).toBe('nosniff');
    expect(whole.headers.get('content-disposition')).toContain('inline; filename="cat.jpg"');
    expect(whole.headers.get('etag')).toBe(`"${data.content_hash}"`);
    expect(Buffer.from(await whole.arrayBuffer()).equals(photo)).toBe(true);

    const part = await get(data.content_hash, alice, { range: 'bytes=524000-525000' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 524000-525000/${photo.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(photo.subarray(524000, 525001))).toBe(true);
    const tail = await get(data.content_hash, alice, { range: 'bytes=-10' });
    expect(Buffer.from(await tail.arrayBuffer()).equals(photo.subarray(photo.length - 10))).toBe(
      true,
    );
    const beyond = await get(data.content_hash, alice, { range: `bytes=${photo.length}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${photo.length}`);
    expect((await answer(beyond)).error.code).toBe('RANGE_NOT_SATISFIABLE');

    const cached = await get(data.content_hash, alice, {
      'if-none-match': `"${data.content_hash}"`,
    });
    expect(cached.status).toBe(304);

    const verification = await get(data.content_hash, alice, {}, '?for_verification');
    expect(verification.headers.get('content-type')).toBe('application/octet-stream');
    expect(sha256(Buffer.from(await verification.arrayBuffer()))).toBe(data.content_hash);
  });

  it('stores the same content once and never re-encrypts it', async () => {
    const store = path.join(t.db.dir, 'chunks', 'blobs');
    const countBlobs = async () => {
      let n = 0;
      for (const dir of await readdir(store)) n += (await readdir(path.join(store, dir))).length;
      return n;
    };
    const before = await countBlobs();
    const manifestBefore = await t.ctx.content.manifest(sha256(photo));
    const again = await upload(bob, photo, 'same.jpg');
    expect(again.status).toBe(201);
    expect((await answer(again)).data.content_hash).toBe(sha256(photo));
    expect(await countBlobs()).toBe(before);
    expect(await t.ctx.content.manifest(sha256(photo))).toEqual(manifestBefore);
    // Bob sees his own name for it.
    expect((await get(sha256(photo), bob)).headers.get('content-disposition')).toContain(
      'same.jpg',
    );
  });

  it('stores an upload in one pass when its declared X-Content-SHA256 matches', async () => {
    const bytes = randomBytes(1_100_000);
    const res = await upload(alice, bytes, 'declared.bin', 'application/octet-stream', {
      'x-content-sha256': sha256(bytes),
    });
    expect(res.status).toBe(201);
    expect((await answer(res)).data).toMatchObject({
      content_hash: sha256(bytes),
      size: 1_100_000,
    });
    const back = await get(sha256(bytes), alice);
    expect(Buffer.from(await back.arrayBuffer()).equals(bytes)).toBe(true);
    const manifest = await t.ctx.content.manifest(sha256(bytes));
    expect(manifest?.chunks).toHaveLength(3);
  });

  it('refuses an upload whose declared X-Content-SHA256 is not its hash, keeping nothing', async () => {
    const blobsBefore = await storedBlobs();
    const bytes = randomBytes(1_200_000);
    const declared = sha256(Buffer.from('some other file'));
    const res = await upload(carol, bytes, 'liar.bin', 'application/octet-stream', {
      'x-content-sha256': declared,
    });
    expect(res.status).toBe(422);
    const body = await answer(res);
    expect(body.error.code).toBe('CONTENT_HASH_MISMATCH');
    expect(await storedBlobs()).toEqual(blobsBefore);
    expect(await t.ctx.content.manifest(declared)).toBeUndefined();
    expect(await t.ctx.content.manifest(sha256(bytes))).toBeUndefined();
    expect(await attachmentsOf(carol)).not.toContain(declared);
    expect(await attachmentsOf(carol)).not.toContain(sha256(bytes));

    const malformed = await upload(carol, bytes, 'x.bin', 'application/octet-stream', {
      'x-content-sha256': 'not-a-hash',
    });
    expect(malformed.status).toBe(400);
    expect(await storedBlobs()).toEqual(blobsBefore);
  });

  it('does not give content held already to an uploader who declares its hash but sends other bytes', async () => {
    const dave = await registerUser(t.app, 'dave');
    const res = await upload(dave, randomBytes(5000), 'claim.jpg', 'image/jpeg', {
      'x-content-sha256': sha256(photo),
    });
    expect(res.status).toBe(422);
    expect(await attachmentsOf(dave)).not.toContain(sha256(photo));
    expect((await get(sha256(photo), dave)).status).toBe(404);
    // With the right bytes, the declared hash dedups like any upload: nothing new is stored.
    const blobsBefore = await storedBlobs();
    const honest = await upload(dave, photo, 'mine.jpg', 'image/jpeg', {
      'x-content-sha256': sha256(photo),
    });
    expect(honest.status).toBe(201);
    expect(await storedBlobs()).toEqual(blobsBefore);
    expect(await attachmentsOf(dave)).toContain(sha256(photo));
  });

  it('gives metadata without key envelopes', async () => {
    const res = await fetch(`${base}/api/content/metadata/${sha256(photo)}/`, {
      headers: bearer(alice.token),
    });
    const data = (await answer(res)).data;
    expect(data).toMatchObject({
      content_hash: sha256(photo),
      size: photo.length,
      chunk_size: 524288,
    });
    expect(data.chunks).toHaveLength(3);
    expect(JSON.stringify(data)).not.toContain('encrypted_aes_keys');
  });

  it('lets readers of a board read its messages’ attachments, and nobody else', async () => {
    const bytes = randomBytes(5000);
    const hash = (await answer(await upload(alice, bytes, 'notes.txt', 'text/plain'))).data
      .content_hash;
    // Before it is posted, only the uploader can read it.
    const unposted = await get(hash, alice);
    expect(unposted.status).toBe(200);
    // Private until posted: no cache may keep it (a shared browser, a proxy).
    expect(unposted.headers.get('cache-control')).toBe('no-store');
    expect((await get(hash, bob)).status).toBe(404);
    expect((await get(hash)).status).toBe(404);

    const post = await t.app.inject({
      method: 'POST',
      url: '/api/messages/',
      headers: bearer(alice.token),
      payload: { board_id: board, subject: 'notes', body: 'attached', attachments: [hash] },
    });
    expect(post.statusCode).toBe(201);
    expect(post.json().data.attachments).toEqual([
      { content_hash: hash, size: 5000, filename: 'notes.txt', mime_type: 'text/plain' },
    ]);
    const detail = await t.app.inject({ url: `/api/messages/${post.json().data.id}/` });
    expect(detail.json().data.message.signature_valid).toBe(true);
    expect((await get(hash, bob)).status).toBe(200);
    const publicRead = await get(hash);
    expect(publicRead.status).toBe(200);
    expect(publicRead.headers.get('cache-control')).toBe('public, max-age=86400');
    expect((await get(hash, alice)).headers.get('cache-control')).toBe('public, max-age=86400');

    const secret = randomBytes(3000);
    const secretHash = (
      await answer(await upload(sysop, secret, 'plans.bin', 'application/octet-stream'))
    ).data.content_hash;
    await t.app.inject({
      method: 'POST',
      url: '/api/messages/',
      headers: bearer(sysop.token),
      payload: { board_id: secretBoard, subject: 'plans', body: 'x', attachments: [secretHash] },
    });
    expect((await get(secretHash, bob)).status).toBe(404);
    const secretRead = await get(secretHash, sysop);
    expect(secretRead.status).toBe(200);
    expect(secretRead.headers.get('cache-control')).toBe('no-store');
    const unknown = await get('0'.repeat(64), alice);
    expect(unknown.status).toBe(404);
    expect((await answer(unknown)).error.code).toBe('NOT_FOUND');
  });

  it('refuses to attach content the poster did not upload, writing nothing', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/messages/',
      headers: bearer(carol.token),
      payload: { board_id: board, subject: 'steal', body: 'x', attachments: [sha256(photo)] },
    });
    expectFieldRefused(res, 'body.attachments.0');
  });

  it('lets only the two parties read a private message’s attachment', async () => {
    const bytes = randomBytes(2000);
    const hash = (
      await answer(await upload(alice, bytes, 'for-bob.bin', 'application/octet-stream'))
    ).data.content_hash;
    const pm = await t.app.inject({
      method: 'POST',
      url: '/api/private_messages/',
      headers: bearer(alice.token),
      payload: { to: 'bob', subject: 'file', body: 'here', attachments: [hash] },
    });
    expect(pm.statusCode, pm.body).toBe(201);
    expect(pm.json().data.attachments.map((a: { content_hash: string }) => a.content_hash)).toEqual(
      [hash],
    );
    const inbox = await t.app.inject({ url: '/api/private_messages/', headers: bearer(bob.token) });
    expect(inbox.json().data.items[0].attachments[0].filename).toBe('for-bob.bin');
    expect((await get(hash, bob)).status).toBe(200);
    expect((await get(hash, carol)).status).toBe(404);
    const download = await get(hash, bob);
    expect(download.headers.get('cache-control')).toBe('no-store');
    expect(download.headers.get('content-disposition')).toContain('attachment;');
    expect(download.headers.get('content-type')).toBe('application/octet-stream');
  });

  it('reads media through a token scoped to one hash and one session, never the session token', async () => {
    const bytes = randomBytes(4000);
    const hashA = (await answer(await upload(alice, bytes, 'a.png', 'image/png'))).data
      .content_hash;
    const hashB = (await answer(await upload(alice, randomBytes(4000), 'b.png', 'image/png'))).data
      .content_hash;
    const mint = (hash: string, token?: string) =>
      fetch(`${base}/api/content/media_token/${hash}/`, {
        method: 'POST',
        headers: token === undefined ? {} : bearer(token),
      });
    const tokenOf = async (res: Response) =>
      ((await res.json()) as { data: { media_token: string; expires_at: string } }).data;
    const viaToken = (hash: string, token: string) =>
      fetch(`${base}/api/content/stream/${hash}/?media_token=${encodeURIComponent(token)}`);

    const issued = await mint(hashA, alice.token);
    expect(issued.status).toBe(200);
    const { media_token: token, expires_at: expiresAt } = await tokenOf(issued);
    const lifetime = Date.parse(expiresAt) - Date.now();
    expect(lifetime).toBeGreaterThan(9 * 60 * 1000);
    expect(lifetime).toBeLessThanOrEqual(10 * 60 * 1000);
    const read = await viaToken(hashA, token);
    expect(read.status).toBe(200);
    expect(Buffer.from(await read.arrayBuffer()).equals(bytes)).toBe(true);

    // Another hash, even one the same user may read: refused.
    const other = await viaToken(hashB, token);
    expect(other.status).toBe(403);
    expect((await answer(other)).error.code).toBe('FORBIDDEN');
    // Not a session token: a media token in the Authorization header is refused.
    const asBearer = await fetch(`${base}/api/user/profile/`, { headers: bearer(token) });
    expect(asBearer.status).toBe(401);
    // The session token itself is no longer taken from the URL.
    const inUrl = await fetch(`${base}/api/content/stream/${hashA}/?access_token=${alice.token}`);
    expect(inUrl.status).toBe(400);
    expect((await answer(inUrl)).error.code).toBe('VALIDATION_ERROR');
    expect((await viaToken(hashA, alice.token)).status).toBe(401);

    // Only for what the user may read, and only with a session.
    expect((await mint(hashA, bob.token)).status).toBe(404);
    expect((await mint(hashA)).status).toBe(401);

    // An expired token: issued eleven minutes ago for this very session and hash.
    const session = await t.ctx.sessions.resolve(t.ctx.database.db, alice.token);
    const old = await new MediaTokens(t.ctx.keys.tokenKey).issue(
      session,
      hashA,
      Date.now() - 11 * 60 * 1000,
    );
    const expired = await viaToken(hashA, old.token);
    expect(expired.status).toBe(401);
    expect((await answer(expired)).error.code).toBe('INVALID_TOKEN');

    // Ending the session ends its media tokens.
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { username: alice.username, password: alice.password },
    });
    const second = login.json().data.token as string;
    const fromSecond = (await tokenOf(await mint(hashA, second))).media_token;
    expect((await viaToken(hashA, fromSecond)).status).toBe(200);
    await t.app.inject({ method: 'POST', url: '/api/auth/logout/', headers: bearer(second) });
    const revoked = await viaToken(hashA, fromSecond);
    expect(revoked.status).toBe(401);
    expect((await answer(revoked)).error.code).toBe('SESSION_EXPIRED');
    expect((await viaToken(hashA, token)).status).toBe(200);
  });

  it('never serves active content inline', async () => {
    const html = Buffer.from('<script>alert(document.cookie)</script>');
    const hash = (await answer(await upload(alice, html, 'x.html', 'text/html'))).data.content_hash;
    const res = await get(hash, alice);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(res.headers.get('content-security-policy')).toContain('sandbox');
  });

  it('tells clients the upload limit, so they can refuse a file before sending it', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/content/limits/' });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual({ max_upload_bytes: 3 * 1024 * 1024 });
  });

  it('refuses uploads without rights, of the wrong type or over the limit, storing nothing', async () => {
    const count = async () =>
      Number(
        (
          await t.ctx.database.db
            .selectFrom('attachments')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    await t.ctx.database.db
      .updateTable('users')
      .set({ can_upload: false })
      .where('id', '=', carol.id)
      .execute();
    expect((await upload(carol, randomBytes(10))).status).toBe(403);
    await t.ctx.database.db
      .updateTable('users')
      .set({ can_upload: true })
      .where('id', '=', carol.id)
      .execute();

    const anonymous = await fetch(`${base}/api/content/upload/`, {
      method: 'POST',
      body: new FormData(),
    });
    expect(anonymous.status).toBe(401);
    const json = await fetch(`${base}/api/content/upload/`, {
      method: 'POST',
      headers: { ...bearer(carol.token), 'content-type': 'application/json' },
      body: '{}',
    });
    expect(json.status).toBe(415);
    const tooBig = await upload(carol, randomBytes(3 * 1024 * 1024 + 1));
    expect(tooBig.status).toBe(413);
    expect((await answer(tooBig)).error.code).toBe('PAYLOAD_TOO_LARGE');
    const wrongField = new FormData();
    wrongField.append('other', new Blob([Buffer.from('x')]), 'x.txt');
    const noFile = await fetch(`${base}/api/content/upload/`, {
      method: 'POST',
      headers: bearer(carol.token),
      body: wrongField,
    });
    expect(noFile.status).toBe(400);
    expect(await count()).toBe(before);
  });

  it('fails a read of a corrupted blob with an integrity error', async () => {
    const bytes = randomBytes(100_000);
    const hash = (
      await answer(await upload(alice, bytes, 'fragile.bin', 'application/octet-stream'))
    ).data.content_hash;
    const manifest = (await t.ctx.content.manifest(hash))!;
    const blob = path.join(
      t.db.dir,
      'chunks',
      'blobs',
      manifest.chunks[0]!.slice(0, 2),
      manifest.chunks[0]!,
    );
    const original = await readFile(blob);
    const damaged = Buffer.from(original);
    damaged[100] = damaged[100]! ^ 0xff;
    await writeFile(blob, damaged);
    try {
      const res = await get(hash, alice);
      expect(res.status).toBe(500);
      expect((await answer(res)).error.code).toBe('INTEGRITY_ERROR');
      const failures = await t.ctx.content.verifyAll(false);
      expect(failures.map((f) => f.corrupt)).toEqual([[manifest.chunks[0]]]);
    } finally {
      await writeFile(blob, original);
    }
    expect((await get(hash, alice)).status).toBe(200);
  });
});
