// Configuration export and import, on SQLite and PostgreSQL: the export holds boards, approved
// applets with their code and settings, and none of the secrets the instance holds; trusted peers
// fetch it signed, sysops through the API; an import into another instance creates what is
// missing, a second import changes nothing, and a bad document is refused whole.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Account,
  bearer,
  countRows,
  createBoard,
  multipartFile,
  promote,
  registerUser,
  startTestApp,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { insertPeer, signedHeaders, testPeerKey } from '../../../test-support/federation-keys.js';

const HOST = 'a.example';
const CODE = Buffer.from("document.getElementById('applet-root').textContent = 'config';\n");
const SECRET = `axon-secret-${randomBytes(24).toString('hex')}`;

describe.each(DIALECTS)('configuration export and import on %s', (dialect) => {
  let t: TestApp;
  let other: TestApp;
  let sysop: Account;
  let alice: Account;
  let otherSysop: Account;
  let document: Record<string, unknown>;

  beforeAll(async () => {
    [t, other] = await Promise.all([
      startTestApp(dialect, { AXON_SECRET: SECRET, AXON_PUBLIC_URL: `https://${HOST}` }),
      startTestApp(dialect),
    ]);
    [sysop, alice] = await Promise.all([
      registerUser(t.app, 'confsysop'),
      registerUser(t.app, 'confalice'),
    ]);
    otherSysop = await registerUser(other.app, 'othersysop');
    await promote(t, 'confsysop', 'sysop');
    await promote(other, 'othersysop', 'sysop');
    const generalId = await createBoard(t, sysop.token, {
      name: 'General',
      description: 'Talk about anything',
      federation_room_id: 'general-room',
      message_retention_days: 90,
    });
    await createBoard(t, sysop.token, {
      name: 'Backroom',
      read_access: 'sysops',
      post_access: 'sysops',
      thread_order: 'created',
      position: 5,
    });
    const { payload, headers } = multipartFile(CODE, 'applet.js');
    const up = await t.app.inject({
      method: 'POST',
      url: '/api/content/upload/',
      headers: { ...bearer(sysop.token), ...headers },
      payload,
    });
    const applet = await t.app.inject({
      method: 'POST',
      url: '/api/applets/',
      headers: bearer(sysop.token),
      payload: {
        name: 'Dice',
        code_hash: up.json().data.content_hash,
        parameters: { sides: 6 },
        handles_mime_types: ['text/csv'],
      },
    });
    expect(applet.statusCode, applet.body).toBe(201);
    await t.ctx.database.db.updateTable('users').set({ karma: 100 }).execute();
    const own = multipartFile(Buffer.from('/* not reviewed yet */\n'), 'applet.js');
    const alicesUpload = await t.app.inject({
      method: 'POST',
      url: '/api/content/upload/',
      headers: { ...bearer(alice.token), ...own.headers },
      payload: own.payload,
    });
    const pending = await t.app.inject({
      method: 'POST',
      url: '/api/applets/',
      headers: bearer(alice.token),
      payload: { name: 'Unreviewed', code_hash: alicesUpload.json().data.content_hash },
    });
    expect(pending.statusCode, pending.body).toBe(201);
    expect(pending.json().data.status).toBe('pending');
    await t.app.inject({
      method: 'POST',
      url: '/api/messages/',
      headers: bearer(alice.token),
      payload: { board_id: generalId, subject: 'a post', body: 'post body words' },
    });
    const pm = await t.app.inject({
      method: 'POST',
      url: '/api/private_messages/',
      headers: bearer(alice.token),
      payload: { to: 'confsysop', subject: 'private subject', body: 'private body words' },
    });
    expect(pm.statusCode, pm.body).toBe(201);
  });
  afterAll(async () => {
    await t.close();
    await other.close();
  });

  const exportAs = (token: string) =>
    t.app.inject({ url: '/api/admin/export_config/', headers: bearer(token) });
  const importInto = (app: TestApp, token: string, payload: unknown) =>
    app.app.inject({
      method: 'POST',
      url: '/api/federation/import_config/',
      headers: bearer(token),
      payload: payload as object,
    });

  it('exports boards, approved applets with their code and settings to a sysop only', async () => {
    expect((await exportAs(alice.token)).statusCode).toBe(403);
    expect((await t.app.inject({ url: '/api/admin/export_config/' })).statusCode).toBe(401);
    const res = await exportAs(sysop.token);
    expect(res.statusCode, res.body).toBe(200);
    document = res.json().data;
    expect(document).toMatchObject({
      format: 'axon-config-v1',
      instance: { fingerprint: t.ctx.identity.fingerprint },
      boards: [
        {
          name: 'General',
          description: 'Talk about anything',
          federation_room_id: 'general-room',
          message_retention_days: 90,
          read_access: 'public',
        },
        { name: 'Backroom', read_access: 'sysops', thread_order: 'created', position: 5 },
      ],
      applets: [
        {
          name: 'Dice',
          parameters: { sides: 6 },
          handles_mime_types: ['text/csv'],
          code: { size: CODE.length, data: CODE.toString('base64') },
        },
      ],
    });
    expect((document.settings as Record<string, number>).register_pow_bits).toBe(2);
  });

  it('holds none of the secrets the instance holds', async () => {
    const text = JSON.stringify(document);
    const db = t.ctx.database.db;
    const secrets: string[] = [SECRET, sysop.token, alice.token, sysop.password];
    secrets.push(sysop.recoveryKey, alice.recoveryKey);
    for (const u of await db.selectFrom('users').selectAll().execute()) {
      const kdf = JSON.parse(u.password_kdf) as { salt: string };
      secrets.push(u.username, u.id, u.pubkey, u.fingerprint, u.password_verifier, kdf.salt);
      secrets.push(u.private_key_by_password, u.private_key_by_recovery);
    }
    for (const s of await db.selectFrom('sessions').selectAll().execute()) {
      secrets.push(s.id_hash, s.private_key_by_session);
    }
    const identity = await db.selectFrom('instance_identity').selectAll().executeTakeFirstOrThrow();
    secrets.push(identity.private_key_sealed);
    secrets.push(
      t.ctx.identity.privateKey
        .export({ type: 'pkcs8', format: 'der' })
        .toString('base64')
        .slice(64, 128),
    );
    for (const pm of await db.selectFrom('private_messages').selectAll().execute()) {
      secrets.push(pm.ciphertext, pm.envelopes, pm.signature, 'private body words');
    }
    secrets.push('post body words');
    for (const m of await db.selectFrom('manifests').selectAll().execute()) {
      const { encrypted_aes_keys } = JSON.parse(m.manifest) as {
        encrypted_aes_keys: Record<string, unknown>;
      };
      for (const e of Object.values(encrypted_aes_keys)) secrets.push(JSON.stringify(e));
    }
    expect(secrets.length).toBeGreaterThan(20);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(5);
      expect(text.includes(secret), `the export holds ${secret.slice(0, 20)}…`).toBe(false);
    }
    expect(text).not.toContain('Unreviewed');
  });

  it('gives the export to a trusted peer, signed, and refuses an unknown key', async () => {
    const peer = testPeerKey();
    const stranger = testPeerKey();
    await insertPeer(t.ctx.database, peer, { base_url: 'https://b.example', trusted: true });
    const ask = (key: typeof peer) =>
      t.app.inject({
        url: '/api/federation/export_config/',
        headers: {
          host: HOST,
          ...signedHeaders(key, {
            method: 'GET',
            pathAndQuery: '/api/federation/export_config/',
            host: HOST,
          }),
        },
      });
    const res = await ask(peer);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['x-signature']).toBeDefined();
    expect(res.json().data.boards).toEqual(document.boards);
    const refused = await ask(stranger);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('FEDERATION_UNTRUSTED');
  });

  it('imports into another instance, and a second import changes nothing', async () => {
    expect((await importInto(other, 'not-a-token', document)).statusCode).toBe(401);
    const first = await importInto(other, otherSysop.token, document);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json().data).toMatchObject({
      boards: { created: 2, updated: 0, unchanged: 0 },
      applets: { created: 1, updated: 0, unchanged: 0 },
    });
    const boards = () =>
      other.ctx.database.db.selectFrom('boards').selectAll().orderBy('name').execute();
    const applets = () => other.ctx.database.db.selectFrom('applets').selectAll().execute();
    const before = [await boards(), await applets(), await countRows(other, 'content_refs')];
    const second = await importInto(other, otherSysop.token, document);
    expect(second.json().data).toMatchObject({
      boards: { created: 0, updated: 0, unchanged: 2 },
      applets: { created: 0, updated: 0, unchanged: 1 },
      settings_differ: [],
    });
    expect([await boards(), await applets(), await countRows(other, 'content_refs')]).toEqual(
      before,
    );
    const [dice] = await applets();
    const code = await other.app.inject({ url: `/api/applets/${dice!.id}/code/` });
    expect(code.statusCode, code.body).toBe(200);
    expect(code.rawPayload).toEqual(CODE);
    const listed = await other.app.inject({ url: '/api/boards/' });
    const general = (
      listed.json().data.items as Array<{ name: string; federation_room_id: string }>
    ).find((b) => b.name === 'General');
    expect(general?.federation_room_id).toBe('general-room');

    const changed = structuredClone(document) as { boards: Array<{ description: string }> };
    changed.boards[0]!.description = 'A new description';
    const third = await importInto(other, otherSysop.token, changed);
    expect(third.json().data.boards).toEqual({ created: 0, updated: 1, unchanged: 1 });
  });

  it('refuses unknown fields, oversized fields and non-sysops, changing nothing', async () => {
    const count = async () => [
      await countRows(other, 'boards'),
      await countRows(other, 'applets'),
      await countRows(other, 'content_refs'),
    ];
    const before = await count();
    const withBoard = (extra: Record<string, unknown>) => ({
      ...document,
      boards: [
        ...(document.boards as object[]),
        {
          name: 'Fresh',
          description: '',
          is_realtime: false,
          federation_room_id: null,
          message_retention_days: null,
          read_access: 'public',
          post_access: 'members',
          position: 0,
          thread_order: 'activity',
          is_archived: false,
          ...extra,
        },
      ],
    });
    const cases: Array<[unknown, RegExp]> = [
      [{ ...document, users: [] }, /users/],
      [withBoard({ trusted_peers: [] }), /document\.boards\.2|body\.boards\.2/],
      [withBoard({ description: 'x'.repeat(2001) }), /boards\.2\.description/],
      [withBoard({ name: 'applet:Dice' }), /boards\.2\.name/],
      [{ ...document, format: 'axon-config-v2' }, /format/],
    ];
    for (const [payload, field] of cases) {
      const res = await importInto(other, otherSysop.token, payload);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_ERROR');
      expect(res.json().error.message).toMatch(field);
    }
    const member = await registerUser(other.app, 'othermember');
    expect((await importInto(other, member.token, withBoard({}))).statusCode).toBe(403);
    const tooBig = await importInto(other, otherSysop.token, {
      ...document,
      pad: 'x'.repeat(9 * 1024 * 1024),
    });
    expect(tooBig.statusCode).toBe(413);
    expect(await count()).toEqual(before);
  });
});
