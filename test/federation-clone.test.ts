// `axon clone` end to end: A (a real instance, SQLite) has a shared board with a thread and an
// attachment; a fresh instance D (PostgreSQL) runs `axon clone A --fingerprint …` as a child
// process, killed part way and run again (it resumes), then starts: its board shows A's history,
// the attachment reads back byte for byte. A further run changes nothing; a wrong fingerprint trusts nothing. Then `axon config
// export|import` on D: the file it writes imports as unchanged, a bad one is refused whole.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type AxonDatabase } from '../src/server/db/database.js';
import {
  runAxon,
  spawnAxon,
  startAxon,
  type ChildServer,
} from '../src/test-support/axon-process.js';
import { createTestDatabase, type TestDatabase } from '../src/test-support/databases.js';
import {
  api,
  type Identity,
  type Instance,
  registerOn,
  startInstance,
} from '../src/test-support/federation.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('axon clone', () => {
  let a: Instance;
  let dDb: TestDatabase;
  let dDatabase: AxonDatabase;
  let dEnv: Record<string, string>;
  let d: ChildServer | undefined;
  let boardId: string;
  const bytes = randomBytes(2 * 524_288 + 777);
  let hash: string;
  const subjects = ['welcome to town', 'a photo', 'Re: welcome to town'];

  beforeAll(async () => {
    a = await startInstance('a', 'sqlite');
    dDb = await createTestDatabase('postgres');
    dDatabase = openDatabase(dDb.config);
    dEnv = {
      DATABASE_URL: dDb.url,
      AXON_DATA_DIR: dDb.dir,
      AXON_SECRET: randomBytes(32).toString('base64'),
    };
    const board = await api<{ id: string }>(a, '/api/boards/', {
      method: 'POST',
      token: a.sysopToken,
      body: { name: 'Town square', description: 'the town', federation_room_id: 'town' },
    });
    boardId = board.id;
    const alice = await registerOn(a, 'alice');
    const form = new FormData();
    form.append('file', new Blob([bytes]), 'photo.bin');
    const uploaded = await fetch(`${a.url}/api/content/upload/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}` },
      body: form,
    });
    hash = ((await uploaded.json()) as { data: { content_hash: string } }).data.content_hash;
    const first = await api<{ id: string }>(a, '/api/messages/', {
      method: 'POST',
      token: alice,
      body: { board_id: boardId, subject: subjects[0], body: 'hello' },
    });
    await api(a, '/api/messages/', {
      method: 'POST',
      token: alice,
      body: { board_id: boardId, subject: subjects[1], body: 'look', attachments: [hash] },
    });
    await api(a, '/api/messages/', {
      method: 'POST',
      token: alice,
      body: { board_id: boardId, subject: subjects[2], body: 'hi', parent_id: first.id },
    });
  });
  afterAll(async () => {
    await d?.stop();
    await a?.close();
    await dDatabase?.close();
    await dDb?.drop();
  });

  const clone = (...args: string[]) => runAxon(['clone', a.url, ...args], { env: dEnv });

  it('trusts nothing when the peer shows another fingerprint', async () => {
    const wrong = await clone('--fingerprint', 'ab'.repeat(32));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`the peer shows the key ${a.identity.fingerprint}`);
    expect(await dDatabase.db.selectFrom('peers').selectAll().execute()).toEqual([]);
    expect(await dDatabase.db.selectFrom('boards').selectAll().execute()).toEqual([]);
  });

  it("clones A: D's board shows A's history, with its attachment readable", async () => {
    // A's sysop trusts D and shares the board with it (the clone then pulls the board's history).
    const ran = await runAxon(['identity', '--json'], { env: dEnv });
    const dIdentity = JSON.parse(ran.stdout) as Identity;
    const now = Date.now();
    await a.database.db
      .insertInto('peers')
      .values({
        fingerprint: dIdentity.fingerprint,
        pubkey: dIdentity.pubkey,
        base_url: 'http://127.0.0.1:9',
        nickname: 'd',
        trusted: true,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await api(a, `/api/boards/${boardId}/`, {
      method: 'PATCH',
      token: a.sysopToken,
      body: { trusted_peers: [dIdentity.fingerprint] },
    });

    // Interrupted: killed (SIGKILL) once it has imported the configuration, wherever it then is.
    const first = spawnAxon(['clone', a.url, '--fingerprint', a.identity.fingerprint], {
      env: dEnv,
    });
    const exited = new Promise((resolve) => first.once('exit', resolve));
    let said = '';
    await new Promise<void>((resolve, reject) => {
      first.stdout.on('data', (chunk: Buffer) => {
        said += chunk.toString();
        if (said.includes('boards: 1 created')) resolve();
      });
      first.once('exit', () => reject(new Error(`clone ended first: ${said}`)));
    });
    first.kill('SIGKILL');
    await exited;

    const cloned = await clone('--fingerprint', a.identity.fingerprint);
    expect(cloned.code, cloned.stdout + cloned.stderr).toBe(0);
    expect(cloned.stdout).toContain('resuming');
    expect(cloned.stdout).toContain('boards: 0 created, 0 updated, 1 unchanged');
    expect(cloned.stderr).toMatch(/attachments: chunks \[#+\] 3\/3/);

    const again = await clone('--fingerprint', a.identity.fingerprint);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('resuming');
    expect(again.stdout).toContain('boards: 0 created, 0 updated, 1 unchanged');
    expect(again.stdout).toMatch(/cloned .*: 0 object\(s\) pulled/);

    d = await startAxon({ env: dEnv });
    const boards = await api<{
      items: Array<{ id: string; name: string; trusted_peers: string[] }>;
    }>(d, '/api/boards/');
    const town = boards.items.find((b) => b.name === 'Town square')!;
    expect(town.trusted_peers).toEqual([a.identity.fingerprint]);
    const page = await api<{
      items: Array<{ subject: string; author: { nickname: string; user_id: string | null } }>;
    }>(d, `/api/boards/${town.id}/messages/`);
    const shown = page.items.map((m) => m.subject);
    expect(shown.sort()).toEqual([...subjects].sort());
    expect(page.items[0]!.author.nickname).toBe(`alice@${a.identity.nickname}`);
    const state = await api<{ state: string }>(d, `/api/content/state/${hash}/`);
    expect(state.state).toBe('complete');
    const response = await fetch(`${d.url}/api/content/stream/${hash}/`);
    expect(response.status).toBe(200);
    expect(sha256(Buffer.from(await response.arrayBuffer()))).toBe(sha256(bytes));
    const messages = await dDatabase.db
      .selectFrom('messages')
      .select('subject')
      .orderBy('created_at')
      .execute();
    expect(messages.map((m) => m.subject)).toEqual(subjects);
  });

  it('exports the configuration to a file and imports it idempotently; refuses a bad file', async () => {
    const file = path.join(dDb.dir, 'config.json');
    const exported = await runAxon(['config', 'export', file], { env: dEnv });
    expect(exported.code, exported.stderr).toBe(0);
    const document = JSON.parse(readFileSync(file, 'utf8')) as {
      boards: Array<Record<string, unknown>>;
    };
    expect(document.boards.map((b) => b.name)).toEqual(['Town square']);
    const imported = await runAxon(['config', 'import', file], { env: dEnv });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain('boards: 0 created, 0 updated, 1 unchanged');

    const before = await dDatabase.db.selectFrom('boards').selectAll().orderBy('id').execute();
    const bad = path.join(dDb.dir, 'bad.json');
    const extra = { ...document.boards[0], name: 'Another', owner: 'root' };
    writeFileSync(bad, JSON.stringify({ ...document, boards: [...document.boards, extra] }));
    const refused = await runAxon(['config', 'import', bad], { env: dEnv });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('document.boards.1');
    expect(refused.stderr).toContain('owner');
    const long = { ...document.boards[0], name: 'Another', description: 'x'.repeat(2001) };
    writeFileSync(bad, JSON.stringify({ ...document, boards: [long] }));
    const tooLong = await runAxon(['config', 'import', bad], { env: dEnv });
    expect(tooLong.code).toBe(1);
    expect(tooLong.stderr).toContain('document.boards.0.description');
    expect(await dDatabase.db.selectFrom('boards').selectAll().orderBy('id').execute()).toEqual(
      before,
    );
  });
});
