// Disk use by board and local versus remote, on SQLite and PostgreSQL, checked against the blob
// files really on disk.
import { randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Account,
  bearer,
  promote,
  registerUser,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { contentUsage } from './usage.js';

describe.each(DIALECTS)('content usage on %s', (dialect) => {
  let t: TestApp;
  let base: string;
  let alice: Account;

  beforeAll(async () => {
    t = await startTestApp(dialect, { AXON_UPLOAD_LIMIT: String(3 * 1024 * 1024) });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const sysop = await registerUser(t.app, 'root');
    alice = await registerUser(t.app, 'alice');
    await promote(t, sysop.username, 'sysop');
    await t.app.inject({
      method: 'POST',
      url: '/api/boards/',
      headers: bearer(sysop.token),
      payload: { name: 'Pictures' },
    });
  });
  afterAll(() => t.close());

  async function upload(size: number): Promise<string> {
    const form = new FormData();
    form.append('file', new Blob([randomBytes(size)]), 'file.bin');
    const res = await fetch(`${base}/api/content/upload/`, {
      method: 'POST',
      headers: bearer(alice.token),
      body: form,
    });
    return ((await res.json()) as { data: { content_hash: string } }).data.content_hash;
  }

  async function blobBytesOnDisk(): Promise<number> {
    const root = path.join(t.db.dir, 'chunks', 'blobs');
    let bytes = 0;
    for (const fan of await readdir(root))
      for (const name of await readdir(path.join(root, fan)))
        bytes += (await stat(path.join(root, fan, name))).size;
    return bytes;
  }

  it('counts each board, unreferenced uploads and remote content, in the bytes on disk', async () => {
    const boards = await t.app.inject({ url: '/api/boards/', headers: bearer(alice.token) });
    const board = (boards.json().data.items as Array<{ id: string; name: string }>).find(
      (b) => b.name === 'Pictures',
    )!.id;
    const posted = await upload(1_300_000);
    const post = await t.app.inject({
      method: 'POST',
      url: '/api/messages/',
      headers: bearer(alice.token),
      payload: { board_id: board, subject: 'photo', body: 'attached', attachments: [posted] },
    });
    expect(post.statusCode).toBe(201);
    await upload(100_000);
    // Content fetched from a peer: a manifest with no upload here.
    await t.ctx.database.db
      .insertInto('manifests')
      .values({
        content_hash: 'f'.repeat(64),
        manifest: JSON.stringify({ size: 1000, chunks: ['e'.repeat(64)] }),
        size: 1000,
        created_at: Date.now(),
      })
      .execute();
    await t.ctx.database.db
      .insertInto('remote_fetches')
      .values({
        content_hash: 'f'.repeat(64),
        manifest: '{}',
        size: 1000,
        origin_peer: 'a'.repeat(64),
        source_peers: JSON.stringify(['a'.repeat(64)]),
        state: 'complete',
        chunks_total: 1,
        created_at: Date.now(),
        updated_at: Date.now(),
      })
      .execute();

    const usage = await contentUsage(t.ctx.database);
    expect(usage.places).toEqual([
      { place: 'Pictures', contents: 1, bytes: 1_300_000 + 3 * 28 },
      { place: '(unreferenced)', contents: 2, bytes: 100_028 + 1028 },
    ]);
    expect(usage.local).toEqual({ contents: 2, bytes: await blobBytesOnDisk() });
    expect(usage.remote).toEqual({ contents: 1, bytes: 1028 });
    // A peer this instance no longer knows is named by the start of its fingerprint.
    expect(usage.peers).toEqual([{ place: 'a'.repeat(16), contents: 1, bytes: 1028 }]);
  });
});
