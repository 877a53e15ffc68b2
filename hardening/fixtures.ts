// The world the authorization matrix runs in, set up once per run through the API: six actors,
// boards (public, realtime, restricted to sysops), messages, PMs, uploads, reports, bans and
// rooms — each destructible resource made once per actor, so one actor's allowed delete or ban
// never changes what the next actor is tried on.
import { randomBytes } from 'node:crypto';
import { multipart, send, type CheckServer, type Probe } from './server.js';
import { registrationProof } from '../src/test-support/registration.js';

export const ACTORS = [
  'anonymous',
  'user',
  'banned_user',
  'banned_pubkey',
  'moderator',
  'sysop',
] as const;
export type Actor = (typeof ACTORS)[number];

export interface Account {
  username: string;
  password: string;
  token: string;
  id: string;
  fingerprint: string;
  recoveryKey: string;
}

/** What one actor is tried on: its own things, another user's, and things on a restricted board. */
export interface ActorResources {
  ownMessage: string;
  otherMessage: string;
  restrictedMessage: string;
  ownPm: string;
  otherPm: string;
  ownUpload: string;
  otherUpload: string;
  restrictedUpload: string;
  otherReport: string;
  restrictedReport: string;
}

export interface Fixtures {
  /** null for anonymous. */
  accounts: Record<Actor, Account | null>;
  /** The owner of "another user's" resources, and the third party of their PMs. */
  other: Account;
  third: Account;
  /** A second sysop: the target only a sysop may act on. */
  sysop2: Account;
  /** An account to ban; cases that unban ban it again first (by a moderator or a sysop). */
  victim: Account;
  /** Bans `victim` (by the moderator or the sysop), or a key, just before a case that lifts it. */
  banAccount(by: 'moderator' | 'sysop', victim: Account): Promise<void>;
  banKey(by: 'moderator' | 'sysop', fingerprint: string): Promise<void>;
  /** Keys (of no account) that cases ban and unban. */
  keys: { byModerator: string; bySysop: string };
  publicBoard: string;
  realtimeBoard: string;
  restrictedBoard: string;
  restrictedRealtimeBoard: string;
  applet: string;
  /** A new high-score entry on the applet (a new account's), for a case that removes one. */
  highScoreEntry(): Promise<string>;
  per: Record<Actor, ActorResources>;
  /** A unique suffix for names created during the run. */
  unique(): string;
  /** A fresh session of the actor, for requests that end sessions (logout, password change). */
  freshToken(actor: Actor): Promise<string | undefined>;
}

const PASSWORD = 'correct horse battery';
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
    '1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082',
  'hex',
);

export async function setUpFixtures(server: CheckServer): Promise<Fixtures> {
  let counter = 0;
  const unique = () => `${Date.now().toString(36)}${++counter}`;
  const call = async (probe: Probe, expected: number): Promise<Record<string, unknown>> => {
    const answer = await send(server.base, probe);
    if (answer.status !== expected)
      throw new Error(
        `fixture ${probe.method} ${probe.url}: ${answer.status} ${answer.text.slice(0, 300)}`,
      );
    return (JSON.parse(answer.text) as { data: Record<string, unknown> }).data;
  };
  const register = async (prefix: string): Promise<Account> => {
    const username = `${prefix}${++counter}`;
    const data = await call(
      {
        method: 'POST',
        url: '/api/auth/register/',
        json: { username, password: PASSWORD, ...(await registrationProof(server.base)) },
      },
      201,
    );
    const user = data.user as { id: string; fingerprint: string };
    return {
      username,
      password: PASSWORD,
      token: data.token as string,
      id: user.id,
      fingerprint: user.fingerprint,
      recoveryKey: data.recovery_key as string,
    };
  };
  const setRole = async (account: Account, role: 'is_sysop' | 'is_moderator') => {
    await server.t.ctx.database.db
      .updateTable('users')
      .set({ [role]: true })
      .where('id', '=', account.id)
      .execute();
  };

  const sysop = await register('sysop');
  await setRole(sysop, 'is_sysop');
  const sysop2 = await register('sysopb');
  await setRole(sysop2, 'is_sysop');
  const moderator = await register('mod');
  await setRole(moderator, 'is_moderator');
  const user = await register('user');
  const bannedUser = await register('banned');
  const bannedPubkey = await register('bannedkey');
  const other = await register('other');
  const third = await register('third');
  const accounts: Record<Actor, Account | null> = {
    anonymous: null,
    user,
    banned_user: bannedUser,
    banned_pubkey: bannedPubkey,
    moderator,
    sysop,
  };

  const board = async (body: Record<string, unknown>) =>
    (await call(
      { method: 'POST', url: '/api/boards/', token: sysop.token, json: { ...body } },
      201,
    )) as { id: string };
  const publicBoard = (await board({ name: `public ${unique()}` })).id;
  const realtimeBoard = (await board({ name: `realtime ${unique()}`, is_realtime: true })).id;
  const restricted = { read_access: 'sysops', post_access: 'sysops' };
  const restrictedBoard = (await board({ name: `restricted ${unique()}`, ...restricted })).id;
  const restrictedRealtimeBoard = (
    await board({ name: `restricted rt ${unique()}`, is_realtime: true, ...restricted })
  ).id;
  const upload = async (account: Account): Promise<string> => {
    const bytes = Buffer.concat([PNG, randomBytes(16)]);
    const data = await call(
      {
        method: 'POST',
        url: '/api/content/upload/',
        token: account.token,
        raw: multipart([{ name: 'file', filename: 'f.png', type: 'image/png', data: bytes }]),
      },
      201,
    );
    return data.content_hash as string;
  };
  const applet = (
    (await call(
      {
        method: 'POST',
        url: '/api/applets/',
        token: sysop.token,
        json: { name: `app ${unique()}`, code_hash: await upload(sysop) },
      },
      201,
    )) as { id: string }
  ).id;
  const post = async (account: Account, boardId: string, attachments: string[] = []) =>
    (
      (await call(
        {
          method: 'POST',
          url: '/api/messages/',
          token: account.token,
          json: { board_id: boardId, subject: `s ${unique()}`, body: 'hello', attachments },
        },
        201,
      )) as { id: string }
    ).id;
  const pm = async (from: Account, to: Account, attachments: string[] = []) =>
    (
      (await call(
        {
          method: 'POST',
          url: '/api/private_messages/',
          token: from.token,
          json: { to: to.username, subject: `pm ${unique()}`, body: 'hi', attachments },
        },
        201,
      )) as { id: string }
    ).id;
  const report = async (reporter: Account, message: string) =>
    (
      (await call(
        {
          method: 'POST',
          url: `/api/messages/${message}/report/`,
          token: reporter.token,
          json: { reason: 'spam' },
        },
        201,
      )) as { id: string }
    ).id;
  const banAccount = async (by: Account, victim: Account) =>
    call(
      {
        method: 'POST',
        url: `/api/moderation/users/${victim.username}/ban/`,
        token: by.token,
        json: { reason: 'fixture' },
      },
      200,
    );
  const banKey = async (by: Account, fingerprint: string) =>
    call(
      {
        method: 'POST',
        url: '/api/moderation/banned_pubkeys/',
        token: by.token,
        json: { pubkey: fingerprint, reason: 'fixture' },
      },
      201,
    );
  const victim = await register('victim');

  await call(
    {
      method: 'PUT',
      url: '/api/user/avatar/',
      token: other.token,
      raw: { body: PNG, contentType: 'image/png' },
    },
    200,
  );

  const per = {} as Record<Actor, ActorResources>;
  for (const actor of ACTORS) {
    const account = accounts[actor];
    // Anonymous owns nothing: its "own" resources are another user's.
    const owner = account ?? other;
    const ownUpload = await upload(owner);
    const otherUpload = await upload(other);
    const restrictedUpload = await upload(sysop2);
    const otherMessage = await post(other, publicBoard);
    const restrictedMessage = await post(sysop2, restrictedBoard, [restrictedUpload]);
    per[actor] = {
      ownMessage: await post(owner, publicBoard, [ownUpload]),
      otherMessage,
      restrictedMessage,
      ownPm: await pm(other, owner),
      otherPm: await pm(other, third, [otherUpload]),
      ownUpload,
      otherUpload,
      restrictedUpload,
      otherReport: await report(third, otherMessage),
      restrictedReport: await report(sysop, await post(sysop2, restrictedBoard)),
    };
  }

  // The bans that make two of the actors what they are, after their resources exist.
  await banAccount(sysop, bannedUser);
  await banKey(sysop, bannedPubkey.fingerprint);

  return {
    accounts,
    other,
    third,
    sysop2,
    victim,
    banAccount: async (by, target) => {
      await banAccount(by === 'sysop' ? sysop : moderator, target);
    },
    keys: { byModerator: 'ab'.repeat(32), bySysop: 'cd'.repeat(32) },
    banKey: async (by, fingerprint) => {
      await banKey(by === 'sysop' ? sysop : moderator, fingerprint);
    },
    publicBoard,
    realtimeBoard,
    restrictedBoard,
    restrictedRealtimeBoard,
    applet,
    highScoreEntry: async () => {
      const player = await register('player');
      const entry = await call(
        {
          method: 'POST',
          url: `/api/applets/${applet}/high_scores/`,
          token: player.token,
          json: { score: 1 },
        },
        200,
      );
      return entry.id as string;
    },
    per,
    unique,
    freshToken: async (actor) => {
      const account = accounts[actor];
      if (account === null) return undefined;
      const answer = await send(server.base, {
        method: 'POST',
        url: '/api/auth/login/',
        json: { username: account.username, password: account.password },
      });
      // A banned account cannot log in: it keeps its old, refused, token.
      if (answer.status !== 200) return account.token;
      return (JSON.parse(answer.text) as { data: { token: string } }).data.token;
    },
  };
}
