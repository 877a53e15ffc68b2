// The web client's data layer against a real server on loopback: each function asks the path its
// answer type belongs to — every answer is checked against the module schema the type is derived
// from — and a refusal arrives as an ApiError with its catalogue code and a message for people.
// The layer runs in a browser; the few browser globals it touches (window events, localStorage,
// fetch of a path relative to the page) are given here, and the real fetch does the rest.
// The server's database is not what is tested here, so one dialect (SQLite) is enough.
import { solveProofOfWork } from '../../shared/proof-of-work.js';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import * as accountsSchema from '../../server/modules/accounts/schema';
import { AdminUser } from '../../server/modules/admin/schema';
import * as appletsSchema from '../../server/modules/applets/schema';
import * as boardsSchema from '../../server/modules/boards/schema';
import * as chatSchema from '../../server/modules/chat/schema';
import { ContentStateSchema, MediaToken, UploadLimits } from '../../server/modules/content/schema';
import { InstanceIdentity } from '../../server/modules/federation/schema';
import * as moderationSchema from '../../server/modules/moderation/schema';
import * as peopleSchema from '../../server/modules/people/schema';
import * as pmSchema from '../../server/modules/private-messages/schema';
import { pageOf } from '../../server/http/pagination';
import { bearer, multipartFile, promote, startTestApp, type TestApp } from '../../test-support/app';

/** The smallest PNG: one pixel. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
  'base64',
);
const PASSWORD = 'correct horse battery';

/** A Storage kept in memory, as the browser's localStorage. */
class MemoryStorage {
  private items = new Map<string, string>();
  getItem = (key: string) => this.items.get(key) ?? null;
  setItem = (key: string, value: string) => void this.items.set(key, String(value));
  removeItem = (key: string) => void this.items.delete(key);
}

/** The answer, checked against the schema its type comes from. */
function expectShape<S extends z.ZodType>(schema: S, answer: unknown): z.output<S> {
  const result = schema.safeParse(answer);
  expect(result.error?.issues ?? []).toEqual([]);
  return result.data as z.output<S>;
}

/** The ApiError a request was refused with; fails the test if it was answered. */
async function refusalOf(request: Promise<unknown>) {
  const outcome = await request.then(
    () => new Error('the request was answered'),
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(client.ApiError);
  return outcome as InstanceType<typeof client.ApiError>;
}

let t: TestApp;
// The modules under test, imported once the browser globals are in place.
let client: typeof import('./client');
let session: typeof import('./session');
let accounts: typeof import('./accounts');
let profile: typeof import('./profile');
let boards: typeof import('./boards');
let messages: typeof import('./messages');
let search: typeof import('./search');
let chat: typeof import('./chat');
let pms: typeof import('./private-messages');
let moderation: typeof import('./moderation');
let admin: typeof import('./admin');
let content: typeof import('./content');
let applets: typeof import('./applets');
let identity: typeof import('./identity');
let people: typeof import('./people');

const realFetch = globalThis.fetch;

beforeAll(async () => {
  t = await startTestApp('sqlite');
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const origin = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  Object.assign(globalThis, {
    window: new EventTarget(),
    localStorage: new MemoryStorage(),
    fetch: (input: string, init?: RequestInit) => realFetch(new URL(input, origin), init),
  });
  [
    client,
    session,
    accounts,
    profile,
    boards,
    messages,
    search,
    chat,
    pms,
    moderation,
    admin,
    content,
    applets,
    identity,
    people,
  ] = await Promise.all([
    import('./client'),
    import('./session'),
    import('./accounts'),
    import('./profile'),
    import('./boards'),
    import('./messages'),
    import('./search'),
    import('./chat'),
    import('./private-messages'),
    import('./moderation'),
    import('./admin'),
    import('./content'),
    import('./applets'),
    import('./identity'),
    import('./people'),
  ]);
});

afterAll(async () => {
  globalThis.fetch = realFetch;
  await t?.close();
});

describe('the web data layer', () => {
  let memberRecoveryKey = '';
  /** Signs in through the layer, as the login screen does. */
  const signIn = async (username: string, password: string) => {
    const answer = expectShape(
      accountsSchema.SessionAnswer,
      await accounts.logIn({ username, password }),
    );
    session.sessionStore.signIn(answer.token, answer.expires_at, answer.user);
    return answer.user;
  };

  /** A sign-up's proof of work, through the layer's own challenge call. */
  const solvedChallenge = async () => {
    const { challenge, difficulty } = expectShape(
      accountsSchema.RegisterChallenge,
      await accounts.registerChallenge(),
    );
    return { challenge, solution: await solveProofOfWork(challenge, difficulty) };
  };

  it('reads and changes every resource through typed functions whose answers match their schemas', async () => {
    const password = PASSWORD;
    const registered = expectShape(
      accountsSchema.RegisterAnswer,
      await accounts.registerAccount({
        username: 'sysop',
        password,
        nickname: 'The Sysop',
        ...(await solvedChallenge()),
      }),
    );
    expect(registered.recovery_key).not.toBe('');
    memberRecoveryKey = expectShape(
      accountsSchema.RegisterAnswer,
      await accounts.registerAccount({
        username: 'member',
        password,
        ...(await solvedChallenge()),
      }),
    ).recovery_key;
    await promote(t, 'sysop', 'sysop');
    await signIn('sysop', password);

    // The signed-in account.
    const me = expectShape(accountsSchema.Profile, await profile.fetchProfile());
    expect([me.username, me.is_sysop]).toEqual(['sysop', true]);
    const renamed = expectShape(
      accountsSchema.Profile,
      await profile.saveProfile({ nickname: 'Old Sysop' }),
    );
    expect(renamed.nickname).toBe('Old Sysop');
    const pictured = expectShape(
      accountsSchema.Profile,
      await profile.uploadAvatar(new File([PNG], 'me.png', { type: 'image/png' })),
    );
    expect(pictured.avatar_url).toMatch(new RegExp(`^/api/users/${me.id}/avatar/`));
    expect(expectShape(accountsSchema.Profile, await profile.removeAvatar()).avatar_url).toBeNull();
    expectShape(InstanceIdentity, await identity.fetchIdentity());

    // Content: the upload limit, and a media token for an uploaded file.
    expectShape(UploadLimits, await content.fetchUploadLimits());
    const file = multipartFile(PNG, 'pixel.png');
    const upload = await t.app.inject({
      method: 'POST',
      url: '/api/content/upload/',
      payload: file.payload,
      headers: { ...file.headers, ...bearer(session.sessionStore.get()!.token) },
    });
    expect(upload.statusCode).toBe(201);
    const hash: string = upload.json().data.content_hash;
    expectShape(MediaToken, await content.issueMediaToken(hash));
    expect(expectShape(ContentStateSchema, await content.fetchContentState(hash)).state).toBe(
      'complete',
    );

    // Boards, messages, threads and search.
    const board = expectShape(
      boardsSchema.BoardSchema,
      await admin.createBoard({ name: 'General', description: 'Talk' }),
    );
    const archived = expectShape(
      boardsSchema.BoardSchema,
      await admin.updateBoard(
        expectShape(boardsSchema.BoardSchema, await admin.createBoard({ name: 'Old' })).id,
        { is_archived: true },
      ),
    );
    expect(archived.is_archived).toBe(true);
    const listed = expectShape(boardsSchema.BoardList, await boards.fetchBoards());
    expect(listed.items.map((b) => b.name)).toContain('General');
    expect(listed.items.map((b) => b.name)).not.toContain('Old');
    const all = expectShape(boardsSchema.BoardList, await boards.fetchBoards(true));
    expect(all.items.map((b) => b.name)).toContain('Old');
    expect(expectShape(boardsSchema.BoardSchema, await boards.fetchBoard(board.id)).name).toBe(
      'General',
    );
    const starter = expectShape(
      boardsSchema.MessageSchema,
      await messages.postMessage({
        board_id: board.id,
        subject: 'Zeppelins',
        body: 'Who has flown in one?',
      }),
    );
    const reply = expectShape(
      boardsSchema.MessageSchema,
      await messages.postMessage({
        board_id: board.id,
        subject: 'Re: Zeppelins',
        body: 'Not me.',
        parent_id: starter.id,
      }),
    );
    const threads = expectShape(
      boardsSchema.MessagePage,
      await boards.fetchBoardPage(board.id, 1, false),
    );
    expect(threads.items.map((m) => [m.id, m.reply_count])).toEqual([[starter.id, 1]]);
    const everything = expectShape(
      boardsSchema.MessagePage,
      await boards.fetchBoardPage(board.id, 1, true),
    );
    expect(everything.items.map((m) => m.id)).toEqual([reply.id, starter.id]);
    const thread = expectShape(
      boardsSchema.ThreadPage,
      await messages.fetchThreadPage(reply.id, 'message'),
    );
    expect(thread.thread.map((m) => [m.id, m.signature_valid])).toEqual([
      [starter.id, true],
      [reply.id, true],
    ]);
    expect(thread.first_unread).toEqual({ id: starter.id, page: 1 });
    expect(
      expectShape(boardsSchema.MarkedRead, await messages.markRead(reply.id)).unread_count,
    ).toBe(0);
    expect(
      expectShape(boardsSchema.ReadPositionList, await messages.fetchReadPositions([starter.id]))
        .items,
    ).toEqual([]);
    const hits = expectShape(
      boardsSchema.SearchPage,
      await search.fetchSearch('zeppel', { board: board.id }, undefined),
    );
    expect(hits.items.map((h) => h.message.id)).toContain(starter.id);

    // AxonChat.
    const line = expectShape(chatSchema.EventSchema, await chat.postChatLine({ text: 'hello' }));
    const batch = expectShape(
      chatSchema.EventBatchSchema,
      await chat.readChatEvents({ limit: 50 }),
    );
    expect(batch.events.map((e) => e.id)).toContain(line.id);
    const present = expectShape(chatSchema.PresenceSchema, await chat.fetchPresence());
    expect(present.users.map((u) => u.user_id)).toContain(me.id);

    // Private messages.
    const sent = expectShape(
      pmSchema.PrivateMessageSchema,
      await pms.sendPrivateMessage({ to: 'member', subject: 'Welcome', body: 'Glad you came.' }),
    );
    const outbox = expectShape(pmSchema.BoxPage, await pms.fetchBox('outbox', undefined));
    expect(outbox.items.map((m) => m.id)).toEqual([sent.id]);

    // A member reports the message, reads the letter, and sees the refusal of a sysop's page.
    const member = await signIn('member', password);
    const report = expectShape(
      moderationSchema.ReportSchema,
      await moderation.reportMessage(starter.id, 'Off topic'),
    );
    const inbox = expectShape(pmSchema.BoxPage, await pms.fetchBox('inbox', undefined, 1));
    expect(inbox.unread).toBe(1);
    const talks = expectShape(pmSchema.ConversationList, await pms.fetchConversations(undefined));
    expect(talks.items.map((c) => [c.with.fingerprint, c.unread])).toEqual([
      [sent.from.fingerprint, 1],
    ]);
    const talk = expectShape(
      pmSchema.ConversationPage,
      await pms.fetchConversation(sent.from.fingerprint, undefined),
    );
    expect(talk.items.map((m) => m.id)).toEqual([sent.id]);
    const author = expectShape(
      peopleSchema.PersonProfile,
      await people.fetchPerson(sent.from.fingerprint),
    );
    expect(author.user_id).toBe(sent.from.user_id);
    const online = expectShape(peopleSchema.OnlineList, await people.fetchOnline());
    expect(online.items.map((p) => p.user_id)).toContain(sent.from.user_id);
    expect((await refusalOf(people.fetchPerson('0'.repeat(64)))).code).toBe('NOT_FOUND');
    const opened = expectShape(
      pmSchema.PrivateMessageSchema,
      await pms.fetchPrivateMessage(sent.id),
    );
    expect([opened.subject, opened.readable]).toEqual(['Welcome', true]);
    await pms.deletePrivateMessage(sent.id);
    expect((await refusalOf(admin.fetchAdminUsers())).code).toBe('FORBIDDEN');

    // Moderation and administration, as the sysop again.
    await signIn('sysop', password);
    const open = expectShape(
      pageOf(moderationSchema.ReportSchema),
      await moderation.fetchReports('open'),
    );
    expect(open.items.map((r) => r.id)).toEqual([report.id]);
    const resolved = expectShape(
      moderationSchema.ReportSchema,
      await moderation.resolveReport(report.id, { action: 'dismiss', note: 'fine' }),
    );
    expect(resolved.status).toBe('dismissed');
    const banned = expectShape(
      moderationSchema.BannedUser,
      await moderation.banUser('member', { reason: 'a test', duration_seconds: 3600 }),
    );
    expect(banned.is_banned).toBe(true);
    expectShape(accountsSchema.Profile, await moderation.unbanUser('member'));
    const karma = expectShape(
      accountsSchema.Profile,
      await moderation.changeKarma('member', { delta: 5, reason: 'helpful' }),
    );
    expect(karma.karma).toBe(5);
    const keyBan = expectShape(
      moderationSchema.BannedPubkeySchema,
      await moderation.banKey({ pubkey: member.fingerprint, reason: 'a test' }),
    );
    const keys = expectShape(
      pageOf(moderationSchema.BannedPubkeySchema),
      await moderation.fetchBannedKeys(),
    );
    expect(keys.items.map((k) => k.fingerprint)).toEqual([keyBan.fingerprint]);
    await moderation.unbanKey(keyBan.fingerprint);
    expect((await moderation.fetchBannedKeys()).items).toEqual([]);
    const log = expectShape(pageOf(moderationSchema.ModlogSchema), await moderation.fetchModlog());
    expect(log.items.length).toBeGreaterThanOrEqual(5);
    const users = expectShape(pageOf(AdminUser), await admin.fetchAdminUsers());
    expect(users.items.map((u) => u.username)).toEqual(['sysop', 'member']);
    const flagged = expectShape(
      AdminUser,
      await admin.updateUserFlags('member', { can_upload: false }),
    );
    expect(flagged.can_upload).toBe(false);

    // Applets: their bus and a room's shared state, compare-and-set on the version.
    const applet = expectShape(
      appletsSchema.AppletSchema,
      await applets.createApplet({ name: 'Dice' }),
    );
    const installed = expectShape(appletsSchema.AppletList, await applets.fetchApplets());
    expect(installed.items.map((a) => a.id)).toEqual([applet.id]);
    expectShape(appletsSchema.AppletSchema, await applets.fetchApplet(applet.id));
    const rolled = expectShape(
      chatSchema.EventSchema,
      await applets.postAppletEvent(applet.id, { subject: 'roll', body: '4' }),
    );
    const bus = expectShape(
      chatSchema.EventBatchSchema,
      await applets.readAppletEvents(applet.id, { limit: 10 }),
    );
    expect(bus.events.map((e) => e.id)).toEqual([rolled.id]);
    const empty = expectShape(
      appletsSchema.RoomStateSchema,
      await applets.readRoomState(applet.id, 'table-1'),
    );
    const written = expectShape(
      appletsSchema.RoomStateSchema,
      await applets.writeRoomState(applet.id, 'table-1', {
        version: empty.version,
        state: { dice: [4] },
      }),
    );
    expect(written.version).toBe(empty.version + 1);
    const newer = expectShape(
      appletsSchema.RoomStateSchema,
      await applets.readRoomState(applet.id, 'table-1', { afterVersion: empty.version, wait: 0 }),
    );
    expect(newer.state).toEqual({ dice: [4] });
    const conflict = await refusalOf(
      applets.writeRoomState(applet.id, 'table-1', { version: empty.version, state: {} }),
    );
    expect(conflict.code).toBe('VERSION_CONFLICT');

    // A message deleted is gone from its thread.
    await messages.deleteMessage(reply.id);
    const after = await messages.fetchThreadPage(starter.id, 1);
    expect(after.thread.map((m) => m.id)).toEqual([starter.id]);
  });

  it('turns a refusal into an ApiError with its code and a message for people', async () => {
    const error = await refusalOf(boards.fetchBoard('no-such-board'));
    expect([error.status, error.code]).toEqual([404, 'NOT_FOUND']);
    expect(error.message).toBe('That does not exist, or you may not see it.');
    const invalid = await refusalOf(
      messages.postMessage({ board_id: 'x', subject: '', body: 'text' }),
    );
    expect(invalid.code).toBe('VALIDATION_ERROR');
    expect(invalid.fields.map((f) => f.field)).toContain('body.subject');
  });

  it('recovers an account, changes a password and ends the session the server no longer knows', async () => {
    const recovered = expectShape(
      accountsSchema.RecoverAnswer,
      await accounts.recoverAccount({
        username: 'member',
        recovery_key: memberRecoveryKey,
        new_password: 'a new member password',
      }),
    );
    expect(recovered.recovery_key).not.toBe(memberRecoveryKey);
    await signIn('member', 'a new member password');

    await signIn('sysop', PASSWORD);
    const renewed = expectShape(
      accountsSchema.SessionAnswer.pick({ token: true, expires_at: true }),
      await profile.changePassword({ current_password: PASSWORD, new_password: 'a new password' }),
    );
    session.sessionStore.updateToken(renewed.token, renewed.expires_at);
    expect((await profile.fetchProfile()).username).toBe('sysop');
    let ended = 0;
    window.addEventListener(client.SESSION_ENDED, () => ended++);
    await accounts.logOut();
    // The token is spent (the header still sends it): the next request is refused and ends it.
    expect((await refusalOf(profile.fetchProfile())).status).toBe(401);
    expect(ended).toBe(1);
    expect(session.sessionStore.get()).toBeNull();
    expect(session.sessionStore.endNotice()).not.toBeNull();
  });
});
