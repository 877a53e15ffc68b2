// Who may do what, stated once per route: the authorization matrix tries every registered route
// as every actor on every resource that applies, and a route with no rule here fails the suite.
// A HEAD route that Fastify adds for a GET is tried with the GET's rule.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { WEB_CLIENT_SECTIONS } from '../src/shared/web-routes.js';
import type { Actor, Fixtures } from './fixtures.js';
import { multipart, send, type Probe } from './server.js';
import { PeerIdentityServer } from './support/peer-identity-server.js';
import { registrationProof } from '../src/test-support/registration.js';

/** Own: the actor's own thing; other: another user's; restricted: beyond the actor's reach
 * (on a board only sysops read, or for moderation routes a sysop's account or a sysop's ban). */
export type Resource = 'none' | 'own' | 'other' | 'restricted';

/**
 * allow: 2xx. login: 401. banned: 401 or 403 (a banned account's token is refused).
 * forbid: 403. hidden: 404 or 403 (401 or 404 for anonymous) — the actor may not see the thing.
 * open-or-login: 2xx or 401, where the issue leaves open whether visitors may read.
 */
export type Expect = 'allow' | 'login' | 'banned' | 'forbid' | 'hidden' | 'open-or-login';

export const STATUSES: Record<Expect, (status: number, actor: Actor) => boolean> = {
  // 303: a form of the pages without JavaScript did its work and sends the reader on.
  allow: (s) => (s >= 200 && s < 300) || s === 303,
  login: (s) => s === 401,
  banned: (s) => s === 401 || s === 403,
  forbid: (s) => s === 403,
  hidden: (s, actor) => (actor === 'anonymous' ? s === 401 || s === 404 : s === 403 || s === 404),
  'open-or-login': (s) => (s >= 200 && s < 300) || s === 401,
};

export type Request = Omit<Probe, 'method' | 'token'>;
type Build = (fx: Fixtures, actor: Actor) => Request | Promise<Request>;

export interface RouteRule {
  /** The request tried for each resource that applies to the route. */
  on: Partial<Record<Resource, Build>>;
  expect(actor: Actor, resource: Resource): Expect;
  /**
   * When the cases run: 0 first; 1 deletes or resolves the actor's own copies of things; 2 bans
   * and ends sessions; 3 changes passwords and recovers accounts (every session of the actor ends).
   */
  phase?: 0 | 1 | 2 | 3;
  /** The case ends the session it is sent with: send it with a fresh login of the actor. */
  freshSession?: boolean;
  /** Run just before each case: puts back the state the case changes (a ban it lifts). */
  prepare?(fx: Fixtures, actor: Actor, resource: Resource): Promise<void>;
}

/** The high-score entry the current removal case targets (made by its prepare). */
let scoreEntry = '';
/** The fresh post, report or letter the current case of a lite form acts on (made by its prepare). */
let liteTarget = '';

/** The agent the agent-token cases use, and the token the current revocation case revokes. */
const MATRIX_AGENT = 'matrix-agent';
let agentToken = '';

// The policies the rules are made of.
/** Public things served without reading a token (a banned account could omit it anyway). */
const everyone = (): Expect => 'allow';
/** Anyone may read; a banned account's token is refused wherever a token is read. */
const readers = (actor: Actor): Expect => (actor === 'banned_user' ? 'banned' : 'allow');
const members = (actor: Actor): Expect =>
  actor === 'anonymous' ? 'login' : actor === 'banned_user' ? 'banned' : 'allow';
/** Members who may publish: a banned pubkey publishes nothing (no post, PM, upload, report…). */
const writers = (actor: Actor): Expect => (actor === 'banned_pubkey' ? 'forbid' : members(actor));
const only =
  (...roles: Actor[]) =>
  (actor: Actor): Expect =>
    roles.includes(actor) ? 'allow' : members(actor) === 'allow' ? 'forbid' : members(actor);
/** Members-only boards (AxonChat, applets' event boards): visitors are told they are not there. */
const memberReaders = (actor: Actor): Expect => (actor === 'anonymous' ? 'hidden' : readers(actor));
const moderators = only('moderator', 'sysop');
const sysops = only('sysop');
/** On the restricted board only a sysop sees anything; everyone else is told it is not there. */
const sysopsElseHidden = (actor: Actor): Expect =>
  actor === 'sysop' ? 'allow' : actor === 'banned_user' ? 'banned' : 'hidden';
const byResource =
  (rules: Partial<Record<Resource, (actor: Actor) => Expect>>) =>
  (actor: Actor, resource: Resource): Expect =>
    rules[resource]!(actor);

/** A public thing for own/other, the restricted one for restricted. */
const readRule = (onPublic: (actor: Actor) => Expect) =>
  byResource({ own: onPublic, other: onPublic, restricted: sysopsElseHidden });

const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
    '1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082',
  'hex',
);
const account = (fx: Fixtures, actor: Actor) => fx.accounts[actor] ?? fx.other;
/** A form of the pages without JavaScript, with the cookie its anonymous CSRF token is checked against. */
const liteForm = (url: string, fields: Record<string, string> = {}): Request => ({
  url,
  raw: {
    body: Buffer.from(new URLSearchParams(fields).toString()),
    contentType: 'application/x-www-form-urlencoded',
  },
  headers: { cookie: 'axon_lite_form=matrix' },
});
/**
 * A fresh thing made through the API for one case (the cases that delete or resolve act on their
 * own copy, so the API's cases on the fixtures' copies still find theirs): its id.
 */
const made = async (base: string, token: string, url: string, json: unknown): Promise<string> => {
  const answer = await send(base, { method: 'POST', url, token, json });
  if (answer.status !== 201) throw new Error(`POST ${url}: ${answer.status} ${answer.text}`);
  return (JSON.parse(answer.text) as { data: { id: string } }).data.id;
};
const freshPost = (base: string, token: string, board: string) =>
  made(base, token, '/api/messages/', { board_id: board, subject: 'matrix', body: 'matrix' });
const roomVersion = async (fx: Fixtures, room: string, base: string): Promise<number> => {
  const answer = await send(base, {
    method: 'GET',
    url: `${room}shared_state/`,
    token: fx.accounts.sysop!.token,
  });
  return answer.status === 200
    ? (JSON.parse(answer.text) as { data: { version: number } }).data.version
    : 0;
};

/** The rules, by "METHOD url" as the app registers them. `base` reaches the server under test. */
export function routeRules(base: string): Record<string, RouteRule> {
  // The peer routes act on a stand-in peer the sysop adds before each case (and re-keys for one).
  const peer = new PeerIdentityServer();
  const peerPresent = (fx: Fixtures) => peer.reset(base, fx.accounts.sysop!.token);
  /** Creates the agent the agent-token cases use, once (a second try answers 409, ignored). */
  const matrixAgent = async (fx: Fixtures) => {
    await send(base, {
      method: 'POST',
      url: '/api/admin/agents/',
      token: fx.accounts.sysop!.token,
      json: { name: MATRIX_AGENT },
    });
  };
  const peerUrl = (suffix = '') => `/api/federation/peers/${peer.fingerprints[0]}/${suffix}`;
  const rules: Record<string, RouteRule> = {
    // Pages, documents and figures that hold nothing private and read no token.
    'GET /': { on: { none: () => ({ url: '/' }) }, expect: everyone },
    'GET /api/docs': { on: { none: () => ({ url: '/api/docs' }) }, expect: everyone },
    'GET /openapi.json': { on: { none: () => ({ url: '/openapi.json' }) }, expect: everyone },
    'GET /api/health': { on: { none: () => ({ url: '/api/health' }) }, expect: everyone },
    'GET /api/content/limits/': {
      on: { none: () => ({ url: '/api/content/limits/' }) },
      expect: everyone,
    },
    'GET /api/federation/identity/': {
      on: { none: () => ({ url: '/api/federation/identity/' }) },
      expect: everyone,
    },
    // Signed federation routes: no account is a peer, so every actor's unsigned request gets
    // 401 FEDERATION_SIGNATURE (src/server/modules/federation/inbound.ts).
    'GET /api/federation/ping/': {
      on: { none: () => ({ url: '/api/federation/ping/' }) },
      expect: () => 'login',
    },
    'GET /api/federation/chunks/:hash': {
      on: { none: () => ({ url: `/api/federation/chunks/${'0'.repeat(64)}` }) },
      expect: () => 'login',
    },
    'POST /api/federation/rekey/': {
      on: {
        none: () => ({ url: '/api/federation/rekey/', json: { content_hash: '0'.repeat(64) } }),
      },
      expect: () => 'login',
    },
    // More signed routes for peers: nothing without a peer's signature.
    'GET /api/federation/users/:name/key/': {
      on: { none: () => ({ url: '/api/federation/users/someone/key/' }) },
      expect: () => 'login',
    },
    'POST /api/federation/private_messages/': {
      on: { none: () => ({ url: '/api/federation/private_messages/', json: { object: {} } }) },
      expect: () => 'login',
    },
    'GET /api/federation/export_config/': {
      on: { none: () => ({ url: '/api/federation/export_config/' }) },
      expect: () => 'login',
    },
    'POST /api/federation/key_change/': {
      on: { none: () => ({ url: '/api/federation/key_change/', json: {} }) },
      expect: () => 'login',
    },
    // Configuration documents: sysops only (peers use the signed export above).
    'GET /api/admin/export_config/': {
      on: { none: () => ({ url: '/api/admin/export_config/' }) },
      expect: sysops,
    },
    'POST /api/federation/import_config/': {
      on: {
        none: () => ({
          url: '/api/federation/import_config/',
          json: {
            format: 'axon-config-v1',
            exported_at: '2026-12-08T00:00:00.000Z',
            instance: { nickname: 'matrix', fingerprint: 'a'.repeat(64) },
            boards: [],
            applets: [],
            settings: {
              upload_limit: 1,
              upload_quota_bytes: 1,
              upload_quota_files: 1,
              register_pow_bits: 1,
              federation_backfill: 1,
            },
          },
        }),
      },
      expect: sysops,
    },
    // Moderation actions peers sent: moderators; reversing one that is not there is a 404 to them.
    'GET /api/moderation/federated_actions/': {
      on: { none: () => ({ url: '/api/moderation/federated_actions/' }) },
      expect: moderators,
    },
    'POST /api/moderation/federated_actions/:id/reverse/': {
      on: {
        none: () => ({
          url: '/api/moderation/federated_actions/0190f0c0-0000-7000-8000-000000000000/reverse/',
          json: { reason: 'matrix' },
        }),
      },
      expect: (actor) => (moderators(actor) === 'allow' ? 'hidden' : moderators(actor)),
    },
    // Correcting a remote author's profile: moderators; an author not known here is a 404 to them.
    'POST /api/moderation/profile_corrections/': {
      on: {
        none: () => ({
          url: '/api/moderation/profile_corrections/',
          json: { fingerprint: 'c'.repeat(64), nickname: 'matrix', reason: 'matrix' },
        }),
      },
      expect: (actor) => (moderators(actor) === 'allow' ? 'hidden' : moderators(actor)),
    },
    // Authors of other instances: shown only to who may read one of their messages here, so an
    // author nobody here has seen is not there for anyone.
    'GET /api/remote_authors/:fingerprint/': {
      on: { none: () => ({ url: `/api/remote_authors/${'b'.repeat(64)}/` }) },
      expect: (actor) => (actor === 'banned_user' ? 'banned' : 'hidden'),
    },
    'GET /api/remote_authors/:fingerprint/avatar/': {
      on: { none: () => ({ url: `/api/remote_authors/${'b'.repeat(64)}/avatar/` }) },
      expect: (actor) => (actor === 'banned_user' ? 'banned' : 'hidden'),
    },
    'POST /api/federation/inbox/': {
      on: { none: () => ({ url: '/api/federation/inbox/', json: { objects: [] } }) },
      expect: () => 'login',
    },
    'GET /api/federation/sync/': {
      on: { none: () => ({ url: '/api/federation/sync/?cursor=0&limit=10' }) },
      expect: () => 'login',
    },
    'POST /api/federation/rooms/state/': {
      on: { none: () => ({ url: '/api/federation/rooms/state/', json: { object: {} } }) },
      expect: () => 'login',
    },
    'POST /api/federation/presence/': {
      on: {
        none: () => ({ url: '/api/federation/presence/', json: { room: 'r', users: [] } }),
      },
      expect: () => 'login',
    },
    // The matrix sets AXON_METRICS_TOKEN; no account's session is that token.
    'GET /metrics': { on: { none: () => ({ url: '/metrics' }) }, expect: () => 'login' },

    // Accounts.
    'POST /api/auth/register/': {
      on: {
        none: async (fx) => ({
          url: '/api/auth/register/',
          json: {
            username: `new${fx.unique()}`,
            password: 'correct horse battery',
            ...(await registrationProof(base)),
          },
        }),
      },
      expect: everyone,
    },
    'GET /api/auth/register/challenge/': {
      on: { none: () => ({ url: '/api/auth/register/challenge/' }) },
      expect: everyone,
    },
    'POST /api/auth/login/': {
      on: {
        own: (fx, actor) => ({
          url: '/api/auth/login/',
          json: { username: account(fx, actor).username, password: account(fx, actor).password },
        }),
      },
      expect: readers,
    },
    'POST /api/auth/logout/': {
      on: { none: () => ({ url: '/api/auth/logout/' }) },
      expect: members,
      phase: 2,
      freshSession: true,
    },
    'POST /api/auth/recover/': {
      on: {
        own: (fx, actor) => ({
          url: '/api/auth/recover/',
          json: {
            username: account(fx, actor).username,
            recovery_key: account(fx, actor).recoveryKey,
            new_password: 'correct horse battery',
          },
        }),
      },
      expect: readers,
      phase: 3,
    },
    'GET /api/user/profile/': {
      on: { own: () => ({ url: '/api/user/profile/' }) },
      expect: members,
    },
    'PATCH /api/user/profile/': {
      on: { own: () => ({ url: '/api/user/profile/', json: { timezone: 'UTC' } }) },
      expect: members,
    },
    'POST /api/user/password/': {
      on: {
        own: (fx, actor) => ({
          url: '/api/user/password/',
          json: {
            current_password: account(fx, actor).password,
            new_password: account(fx, actor).password,
          },
        }),
      },
      expect: members,
      phase: 3,
      freshSession: true,
    },
    'PUT /api/user/avatar/': {
      on: {
        own: () => ({ url: '/api/user/avatar/', raw: { body: PNG, contentType: 'image/png' } }),
      },
      expect: writers,
    },
    'DELETE /api/user/avatar/': {
      on: { own: () => ({ url: '/api/user/avatar/' }) },
      expect: members,
      phase: 1,
    },
    // People: public profiles and who's online, each limited to what the reader may read.
    'GET /api/people/:fingerprint/': {
      on: { other: (fx) => ({ url: `/api/people/${fx.other.fingerprint}/` }) },
      expect: readers,
    },
    'GET /api/people/online/': {
      on: { none: () => ({ url: '/api/people/online/' }) },
      expect: readers,
    },
    'GET /api/users/:id/avatar/': {
      on: { other: (fx) => ({ url: `/api/users/${fx.other.id}/avatar/` }) },
      expect: everyone,
    },
    'GET /api/user/ignored_pubkeys/': {
      on: { own: () => ({ url: '/api/user/ignored_pubkeys/' }) },
      expect: members,
    },
    'POST /api/user/ignored_pubkeys/': {
      on: {
        own: (fx) => ({
          url: '/api/user/ignored_pubkeys/',
          json: { pubkey: fx.third.fingerprint },
        }),
      },
      expect: members,
    },
    'DELETE /api/user/ignored_pubkeys/:fingerprint/': {
      on: { own: (fx) => ({ url: `/api/user/ignored_pubkeys/${fx.third.fingerprint}/` }) },
      expect: members,
      phase: 1,
    },

    // Moderation: "restricted" is what only a sysop may touch — a sysop's account or ban.
    'POST /api/moderation/users/:username/ban/': {
      on: {
        other: (fx) => ({
          url: `/api/moderation/users/${fx.victim.username}/ban/`,
          json: { reason: 'matrix' },
        }),
        restricted: (fx) => ({
          url: `/api/moderation/users/${fx.sysop2.username}/ban/`,
          json: { reason: 'matrix' },
        }),
      },
      expect: byResource({ other: moderators, restricted: sysops }),
      phase: 2,
    },
    'POST /api/moderation/users/:username/unban/': {
      on: {
        other: (fx) => ({ url: `/api/moderation/users/${fx.victim.username}/unban/` }),
        restricted: (fx) => ({ url: `/api/moderation/users/${fx.victim.username}/unban/` }),
      },
      prepare: (fx, _actor, resource) =>
        fx.banAccount(resource === 'restricted' ? 'sysop' : 'moderator', fx.victim),
      expect: byResource({ other: moderators, restricted: sysops }),
      phase: 2,
    },
    'GET /api/moderation/banned_pubkeys/': {
      on: { none: () => ({ url: '/api/moderation/banned_pubkeys/' }) },
      expect: moderators,
    },
    'POST /api/moderation/banned_pubkeys/': {
      on: {
        other: () => ({
          url: '/api/moderation/banned_pubkeys/',
          json: { pubkey: randomBytes(32).toString('hex'), reason: 'matrix' },
        }),
        restricted: (fx) => ({
          url: '/api/moderation/banned_pubkeys/',
          json: { pubkey: fx.sysop2.fingerprint, reason: 'matrix' },
        }),
      },
      expect: byResource({ other: moderators, restricted: sysops }),
      phase: 2,
    },
    'DELETE /api/moderation/banned_pubkeys/:fingerprint/': {
      on: {
        other: (fx) => ({ url: `/api/moderation/banned_pubkeys/${fx.keys.byModerator}/` }),
        restricted: (fx) => ({ url: `/api/moderation/banned_pubkeys/${fx.keys.bySysop}/` }),
      },
      prepare: (fx, _actor, resource) =>
        resource === 'restricted'
          ? fx.banKey('sysop', fx.keys.bySysop)
          : fx.banKey('moderator', fx.keys.byModerator),
      expect: byResource({ other: moderators, restricted: sysops }),
      phase: 2,
    },
    'POST /api/moderation/users/:username/karma/': {
      on: {
        own: (fx, actor) => ({
          url: `/api/moderation/users/${account(fx, actor).username}/karma/`,
          json: { delta: 1, reason: 'matrix' },
        }),
        other: (fx) => ({
          url: `/api/moderation/users/${fx.other.username}/karma/`,
          json: { delta: 1, reason: 'matrix' },
        }),
        restricted: (fx) => ({
          url: `/api/moderation/users/${fx.sysop2.username}/karma/`,
          json: { delta: 1, reason: 'matrix' },
        }),
      },
      // Nobody changes their own karma (a sysop neither); only a sysop changes a sysop's.
      expect: byResource({
        own: (actor) => (actor === 'sysop' ? 'forbid' : sysops(actor)),
        other: moderators,
        restricted: sysops,
      }),
    },
    'POST /api/messages/:id/report/': {
      on: {
        other: (fx, actor) => ({
          url: `/api/messages/${fx.per[actor].otherMessage}/report/`,
          json: { reason: 'matrix' },
        }),
        restricted: (fx, actor) => ({
          url: `/api/messages/${fx.per[actor].restrictedMessage}/report/`,
          json: { reason: 'matrix' },
        }),
      },
      expect: byResource({ other: writers, restricted: sysopsElseHidden }),
    },
    'GET /api/moderation/reports/': {
      on: { none: () => ({ url: '/api/moderation/reports/' }) },
      expect: moderators,
    },
    'POST /api/moderation/reports/:id/resolve/': {
      on: {
        other: (fx, actor) => ({
          url: `/api/moderation/reports/${fx.per[actor].otherReport}/resolve/`,
          json: { action: 'dismiss' },
        }),
        restricted: (fx, actor) => ({
          url: `/api/moderation/reports/${fx.per[actor].restrictedReport}/resolve/`,
          json: { action: 'dismiss' },
        }),
      },
      // A moderator cannot act on reports about a board they cannot read.
      expect: byResource({
        other: moderators,
        restricted: (actor) => (actor === 'moderator' ? 'hidden' : sysops(actor)),
      }),
      phase: 1,
    },
    // The bulk form of resolve; an unknown report is skipped, not refused, so the case changes
    // nothing the single-report cases above rely on.
    'POST /api/moderation/reports/resolve/': {
      on: {
        none: () => ({
          url: '/api/moderation/reports/resolve/',
          json: { report_ids: ['no-such-report'], action: 'dismiss' },
        }),
      },
      expect: moderators,
    },
    'GET /api/moderation/log/': {
      on: { none: () => ({ url: '/api/moderation/log/' }) },
      expect: moderators,
    },

    // Administration.
    'GET /api/admin/users/': { on: { none: () => ({ url: '/api/admin/users/' }) }, expect: sysops },
    'PATCH /api/admin/users/:username/': {
      on: {
        other: (fx) => ({
          url: `/api/admin/users/${fx.other.username}/`,
          json: { can_upload: true },
        }),
      },
      expect: sysops,
    },

    // Agents and their tokens (sysops only).
    'GET /api/admin/agents/': {
      on: { none: () => ({ url: '/api/admin/agents/' }) },
      expect: sysops,
    },
    'POST /api/admin/agents/': {
      on: { none: (fx) => ({ url: '/api/admin/agents/', json: { name: `agent-${fx.unique()}` } }) },
      expect: sysops,
    },
    'GET /api/admin/agents/:name/tokens/': {
      prepare: (fx) => matrixAgent(fx),
      on: { other: () => ({ url: `/api/admin/agents/${MATRIX_AGENT}/tokens/` }) },
      expect: sysops,
    },
    'POST /api/admin/agents/:name/tokens/': {
      prepare: (fx) => matrixAgent(fx),
      on: {
        other: (fx) => ({
          url: `/api/admin/agents/${MATRIX_AGENT}/tokens/`,
          json: { boards: [fx.publicBoard] },
        }),
      },
      expect: sysops,
    },
    'DELETE /api/admin/agent_tokens/:id/': {
      // Each case revokes a fresh token, issued by a sysop just before.
      prepare: async (fx) => {
        await matrixAgent(fx);
        const answer = await send(base, {
          method: 'POST',
          url: `/api/admin/agents/${MATRIX_AGENT}/tokens/`,
          token: fx.accounts.sysop!.token,
          json: { boards: [fx.publicBoard] },
        });
        agentToken = (JSON.parse(answer.text) as { data: { id: string } }).data.id;
      },
      on: { other: () => ({ url: `/api/admin/agent_tokens/${agentToken}/` }) },
      expect: sysops,
    },

    // The peer registry (federation).
    'GET /api/federation/peers/': {
      on: { none: () => ({ url: '/api/federation/peers/' }) },
      prepare: peerPresent,
      expect: sysops,
    },
    'POST /api/federation/peers/': {
      on: {
        none: () => ({
          url: '/api/federation/peers/',
          json: { base_url: peer.url, fingerprint: peer.fingerprints[0] },
        }),
      },
      prepare: (fx) => peer.clear(base, fx.accounts.sysop!.token),
      expect: sysops,
    },
    'GET /api/federation/peers/:fingerprint/': {
      on: { other: () => ({ url: peerUrl() }) },
      prepare: peerPresent,
      expect: sysops,
    },
    'PATCH /api/federation/peers/:fingerprint/': {
      on: { other: () => ({ url: peerUrl(), json: { trusted_for_moderation: true } }) },
      prepare: peerPresent,
      expect: sysops,
    },
    'POST /api/federation/peers/:fingerprint/refresh/': {
      on: { other: () => ({ url: peerUrl('refresh/') }) },
      prepare: peerPresent,
      expect: sysops,
    },
    'POST /api/federation/peers/:fingerprint/accept_key/': {
      on: {
        other: () => ({ url: peerUrl('accept_key/'), json: { fingerprint: peer.fingerprints[1] } }),
      },
      prepare: (fx) => peer.reset(base, fx.accounts.sysop!.token, true),
      expect: sysops,
    },
    'DELETE /api/federation/peers/:fingerprint/': {
      on: { other: () => ({ url: peerUrl() }) },
      prepare: peerPresent,
      expect: sysops,
    },

    // Boards and messages.
    'GET /api/boards/': { on: { none: () => ({ url: '/api/boards/' }) }, expect: readers },
    'GET /api/boards/:id/': {
      on: {
        other: (fx) => ({ url: `/api/boards/${fx.publicBoard}/` }),
        restricted: (fx) => ({ url: `/api/boards/${fx.restrictedBoard}/` }),
      },
      expect: readRule(readers),
    },
    'POST /api/boards/': {
      on: { none: (fx) => ({ url: '/api/boards/', json: { name: `matrix ${fx.unique()}` } }) },
      expect: sysops,
    },
    'PATCH /api/boards/:id/': {
      on: {
        other: (fx) => ({ url: `/api/boards/${fx.publicBoard}/`, json: { description: 'm' } }),
        restricted: (fx) => ({
          url: `/api/boards/${fx.restrictedBoard}/`,
          json: { description: 'm' },
        }),
      },
      expect: byResource({ other: sysops, restricted: sysopsElseHidden }),
    },
    'GET /api/boards/:id/messages/': {
      on: {
        other: (fx) => ({ url: `/api/boards/${fx.publicBoard}/messages/` }),
        restricted: (fx) => ({ url: `/api/boards/${fx.restrictedBoard}/messages/` }),
      },
      expect: readRule(readers),
    },
    'POST /api/messages/': {
      on: {
        other: (fx, actor) => ({
          url: '/api/messages/',
          json: {
            board_id: fx.publicBoard,
            parent_id: fx.per[actor].otherMessage,
            subject: 'matrix',
            body: 'matrix',
          },
        }),
        restricted: (fx) => ({
          url: '/api/messages/',
          json: { board_id: fx.restrictedBoard, subject: 'matrix', body: 'matrix' },
        }),
      },
      expect: byResource({ other: writers, restricted: sysopsElseHidden }),
    },
    'GET /api/messages/:id/': {
      on: {
        own: (fx, actor) => ({ url: `/api/messages/${fx.per[actor].ownMessage}/` }),
        other: (fx, actor) => ({ url: `/api/messages/${fx.per[actor].otherMessage}/` }),
        restricted: (fx, actor) => ({ url: `/api/messages/${fx.per[actor].restrictedMessage}/` }),
      },
      // A banned key's messages are hidden from everyone, its author included, as in every list.
      expect: byResource({
        own: (actor) => (actor === 'banned_pubkey' ? 'hidden' : readers(actor)),
        other: readers,
        restricted: sysopsElseHidden,
      }),
    },
    'DELETE /api/messages/:id/': {
      on: {
        own: (fx, actor) => ({ url: `/api/messages/${fx.per[actor].ownMessage}/` }),
        other: (fx, actor) => ({ url: `/api/messages/${fx.per[actor].otherMessage}/` }),
        restricted: (fx, actor) => ({ url: `/api/messages/${fx.per[actor].restrictedMessage}/` }),
      },
      // Anonymous's "own" message is another user's.
      expect: byResource({ own: members, other: moderators, restricted: sysopsElseHidden }),
      phase: 1,
    },
    // Edits: the author alone (moderators neither: an edit is signed with the author's key); a
    // banned key edits nothing. Versions: the author and moderators.
    'PATCH /api/messages/:id/': {
      on: {
        own: (fx, actor) => ({
          url: `/api/messages/${fx.per[actor].ownMessage}/`,
          json: { body: `edited by ${actor}` },
        }),
        other: (fx, actor) => ({
          url: `/api/messages/${fx.per[actor].otherMessage}/`,
          json: { body: 'matrix' },
        }),
        restricted: (fx, actor) => ({
          url: `/api/messages/${fx.per[actor].restrictedMessage}/`,
          json: { body: 'matrix' },
        }),
      },
      // Anonymous's "own" message is another user's.
      expect: byResource({
        own: writers,
        other: (actor) => (members(actor) === 'allow' ? 'forbid' : members(actor)),
        restricted: (actor) => (actor === 'sysop' ? 'forbid' : sysopsElseHidden(actor)),
      }),
    },
    'GET /api/messages/:id/versions/': {
      on: {
        own: (fx, actor) => ({ url: `/api/messages/${fx.per[actor].ownMessage}/versions/` }),
        other: (fx, actor) => ({ url: `/api/messages/${fx.per[actor].otherMessage}/versions/` }),
        restricted: (fx, actor) => ({
          url: `/api/messages/${fx.per[actor].restrictedMessage}/versions/`,
        }),
      },
      // A banned key's messages are hidden from everyone, its author included.
      expect: byResource({
        own: (actor) => (actor === 'banned_pubkey' ? 'hidden' : members(actor)),
        other: moderators,
        restricted: sysopsElseHidden,
      }),
    },
    'GET /api/search/': { on: { none: () => ({ url: '/api/search/?q=hello' }) }, expect: readers },
    // Read positions: a signed-in reader's own, on messages they may see.
    'PUT /api/messages/:id/read/': {
      on: {
        other: (fx, actor) => ({ url: `/api/messages/${fx.per[actor].otherMessage}/read/` }),
        restricted: (fx, actor) => ({
          url: `/api/messages/${fx.per[actor].restrictedMessage}/read/`,
        }),
      },
      expect: byResource({ other: members, restricted: sysopsElseHidden }),
    },
    'GET /api/read-positions/': {
      on: { none: (fx) => ({ url: `/api/read-positions/?threads=${fx.publicBoard}` }) },
      expect: members,
    },

    // The pages without JavaScript read as the API does.
    'GET /lite/': { on: { none: () => ({ url: '/lite/' }) }, expect: readers },
    'GET /lite/style.css': { on: { none: () => ({ url: '/lite/style.css' }) }, expect: everyone },
    'GET /lite/boards/:id/': {
      on: {
        other: (fx) => ({ url: `/lite/boards/${fx.publicBoard}/` }),
        restricted: (fx) => ({ url: `/lite/boards/${fx.restrictedBoard}/` }),
      },
      expect: readRule(readers),
    },
    'GET /lite/messages/:id/': {
      on: {
        own: (fx, actor) => ({ url: `/lite/messages/${fx.per[actor].ownMessage}/` }),
        other: (fx, actor) => ({ url: `/lite/messages/${fx.per[actor].otherMessage}/` }),
        restricted: (fx, actor) => ({ url: `/lite/messages/${fx.per[actor].restrictedMessage}/` }),
      },
      expect: byResource({
        own: (actor) => (actor === 'banned_pubkey' ? 'hidden' : readers(actor)),
        other: readers,
        restricted: sysopsElseHidden,
      }),
    },
    'GET /lite/search/': {
      on: { none: () => ({ url: '/lite/search/?q=hello' }) },
      expect: readers,
    },
    'GET /lite/login/': { on: { none: () => ({ url: '/lite/login/' }) }, expect: everyone },
    // Wrong credentials, whoever asks: the form's own refusal (no session is read).
    'POST /lite/login/': {
      on: {
        none: () =>
          liteForm('/lite/login/', { username: 'nobody_here', password: 'wrong', csrf: 'matrix' }),
      },
      expect: (): Expect => 'login',
    },
    'GET /lite/register/': { on: { none: () => ({ url: '/lite/register/' }) }, expect: everyone },
    // A sign-up waits out its challenge (seconds to minutes): the case tries the form without its
    // token, which everyone gets refused (tests in src/server/modules/lite/accounts.test.ts sign up).
    'POST /lite/register/': {
      on: {
        none: () =>
          liteForm('/lite/register/', {
            username: 'matrix_lite',
            password: 'correct horse battery',
            password_again: 'correct horse battery',
            challenge: 'x',
          }),
      },
      expect: (): Expect => 'forbid',
    },
    'GET /lite/recover/': { on: { none: () => ({ url: '/lite/recover/' }) }, expect: everyone },
    // A wrong recovery key, whoever asks: the form's own refusal (no session is read).
    'POST /lite/recover/': {
      on: {
        own: (fx, actor) =>
          liteForm('/lite/recover/', {
            username: account(fx, actor).username,
            recovery_key: 'not-a-recovery-key',
            new_password: 'correct horse battery',
            csrf: 'matrix',
          }),
      },
      expect: (): Expect => 'login',
    },
    'POST /lite/logout/': {
      on: { none: () => liteForm('/lite/logout/', {}) },
      expect: members,
      phase: 2,
      freshSession: true,
    },
    'POST /lite/boards/:id/': {
      on: {
        other: (fx) =>
          liteForm(`/lite/boards/${fx.publicBoard}/`, { subject: 'matrix', body: 'matrix' }),
        restricted: (fx) =>
          liteForm(`/lite/boards/${fx.restrictedBoard}/`, { subject: 'matrix', body: 'matrix' }),
      },
      expect: byResource({ other: writers, restricted: sysopsElseHidden }),
    },
    'POST /lite/messages/:id/': {
      on: {
        other: (fx, actor) =>
          liteForm(`/lite/messages/${fx.per[actor].otherMessage}/`, { body: 'matrix' }),
        restricted: (fx, actor) =>
          liteForm(`/lite/messages/${fx.per[actor].restrictedMessage}/`, { body: 'matrix' }),
      },
      expect: byResource({ other: writers, restricted: sysopsElseHidden }),
    },

    // Deleting, reporting and the report queue without JavaScript, each case on its own copy.
    'POST /lite/messages/:id/delete/': {
      on: {
        own: () => liteForm(`/lite/messages/${liteTarget}/delete/`),
        restricted: () => liteForm(`/lite/messages/${liteTarget}/delete/`),
      },
      // The actor's own fresh post; one who may not post (anonymous, a banned account or key) is
      // tried on another's, which is not theirs to delete.
      prepare: async (fx, actor, resource) => {
        const author = ['anonymous', 'banned_user', 'banned_pubkey'].includes(actor)
          ? fx.other
          : account(fx, actor);
        liteTarget =
          resource === 'own'
            ? await freshPost(base, author.token, fx.publicBoard)
            : await freshPost(base, fx.sysop2.token, fx.restrictedBoard);
      },
      expect: byResource({
        own: (actor) => (actor === 'banned_pubkey' ? 'forbid' : members(actor)),
        restricted: sysopsElseHidden,
      }),
    },
    'GET /lite/messages/:id/report/': {
      on: {
        other: (fx, actor) => ({ url: `/lite/messages/${fx.per[actor].otherMessage}/report/` }),
        restricted: (fx, actor) => ({
          url: `/lite/messages/${fx.per[actor].restrictedMessage}/report/`,
        }),
      },
      expect: readRule(readers),
    },
    'POST /lite/messages/:id/report/': {
      on: {
        other: () => liteForm(`/lite/messages/${liteTarget}/report/`, { reason: 'matrix' }),
        restricted: () => liteForm(`/lite/messages/${liteTarget}/report/`, { reason: 'matrix' }),
      },
      prepare: async (fx, _actor, resource) => {
        liteTarget =
          resource === 'other'
            ? await freshPost(base, fx.other.token, fx.publicBoard)
            : await freshPost(base, fx.sysop2.token, fx.restrictedBoard);
      },
      expect: byResource({ other: writers, restricted: sysopsElseHidden }),
    },
    'GET /lite/moderation/reports/': {
      on: { none: () => ({ url: '/lite/moderation/reports/' }) },
      expect: moderators,
    },
    'POST /lite/moderation/reports/:id/resolve/': {
      on: {
        other: () =>
          liteForm(`/lite/moderation/reports/${liteTarget}/resolve/`, { action: 'dismiss' }),
        restricted: () =>
          liteForm(`/lite/moderation/reports/${liteTarget}/resolve/`, { action: 'dismiss' }),
      },
      // A fresh report: by a third user on another's post, or by the sysop on the restricted board.
      prepare: async (fx, _actor, resource) => {
        const [author, board, reporter] =
          resource === 'other'
            ? [fx.other, fx.publicBoard, fx.third]
            : [fx.sysop2, fx.restrictedBoard, fx.accounts.sysop!];
        const message = await freshPost(base, author.token, board);
        liteTarget = await made(base, reporter.token, `/api/messages/${message}/report/`, {
          reason: 'matrix',
        });
      },
      expect: byResource({
        other: moderators,
        restricted: (actor) => (actor === 'moderator' ? 'hidden' : sysops(actor)),
      }),
    },

    // Private messages, chat and the profile without JavaScript: members only, as in the API.
    'GET /lite/private/': { on: { own: () => ({ url: '/lite/private/' }) }, expect: members },
    'GET /lite/private/write/': {
      on: { own: () => ({ url: '/lite/private/write/' }) },
      expect: members,
    },
    'POST /lite/private/write/': {
      on: {
        other: (fx) =>
          liteForm('/lite/private/write/', {
            to: fx.other.username,
            subject: 'matrix',
            body: 'matrix',
          }),
      },
      expect: writers,
    },
    'GET /lite/private/:id/': {
      on: {
        own: (fx, actor) => ({ url: `/lite/private/${fx.per[actor].ownPm}/` }),
        other: (fx, actor) => ({ url: `/lite/private/${fx.per[actor].otherPm}/` }),
      },
      expect: byResource({
        own: members,
        other: (actor) => (actor === 'banned_user' ? 'banned' : 'hidden'),
      }),
    },
    'POST /lite/private/:id/delete/': {
      on: {
        own: () => liteForm(`/lite/private/${liteTarget}/delete/`),
        other: () => liteForm(`/lite/private/${liteTarget}/delete/`),
      },
      // A fresh letter to the actor (anonymous, who has no box, is tried on the fixture's).
      prepare: async (fx, actor, resource) => {
        liteTarget =
          resource === 'other'
            ? fx.per[actor].otherPm
            : actor === 'anonymous'
              ? fx.per[actor].ownPm
              : await made(base, fx.other.token, '/api/private_messages/', {
                  to: account(fx, actor).username,
                  subject: 'matrix',
                  body: 'matrix',
                });
      },
      expect: byResource({
        own: members,
        other: (actor) => (actor === 'banned_user' ? 'banned' : 'hidden'),
      }),
    },
    'GET /lite/chat/': { on: { none: () => ({ url: '/lite/chat/' }) }, expect: members },
    'GET /lite/chat/say/': { on: { none: () => ({ url: '/lite/chat/say/' }) }, expect: members },
    'POST /lite/chat/say/': {
      on: { none: () => liteForm('/lite/chat/say/', { text: 'matrix' }) },
      expect: writers,
    },
    'GET /lite/profile/': { on: { own: () => ({ url: '/lite/profile/' }) }, expect: members },
    'POST /lite/profile/': {
      on: {
        own: (fx, actor) => liteForm('/lite/profile/', { nickname: account(fx, actor).username }),
      },
      expect: members,
    },

    // Private messages: nobody but the two parties sees one, sysops included.
    'POST /api/private_messages/': {
      on: {
        other: (fx) => ({
          url: '/api/private_messages/',
          json: { to: fx.other.username, subject: 'matrix', body: 'matrix' },
        }),
      },
      expect: writers,
    },
    'GET /api/private_messages/': {
      on: { own: () => ({ url: '/api/private_messages/' }) },
      expect: members,
    },
    'GET /api/private_messages/:id/': {
      on: {
        own: (fx, actor) => ({ url: `/api/private_messages/${fx.per[actor].ownPm}/` }),
        other: (fx, actor) => ({ url: `/api/private_messages/${fx.per[actor].otherPm}/` }),
      },
      expect: byResource({
        own: members,
        other: (actor) => (actor === 'banned_user' ? 'banned' : 'hidden'),
      }),
    },
    // Conversations are views of the caller's own boxes: another person's key shows only the
    // caller's own letters with them.
    'GET /api/private_messages/conversations/': {
      on: { own: () => ({ url: '/api/private_messages/conversations/' }) },
      expect: members,
    },
    'GET /api/private_messages/conversations/:fingerprint/': {
      on: {
        own: (fx) => ({ url: `/api/private_messages/conversations/${fx.other.fingerprint}/` }),
      },
      expect: members,
    },
    'DELETE /api/private_messages/:id/': {
      on: {
        own: (fx, actor) => ({ url: `/api/private_messages/${fx.per[actor].ownPm}/` }),
        other: (fx, actor) => ({ url: `/api/private_messages/${fx.per[actor].otherPm}/` }),
      },
      expect: byResource({
        own: members,
        other: (actor) => (actor === 'banned_user' ? 'banned' : 'hidden'),
      }),
      phase: 1,
    },

    // Notifications: each account's own; watching a thread follows its board's read rule.
    'GET /api/notifications/': {
      on: { own: () => ({ url: '/api/notifications/' }) },
      expect: members,
    },
    'POST /api/notifications/:id/read/': {
      // Nobody's notification but the reader's own is there for them.
      on: {
        other: () => ({ url: '/api/notifications/0190f000-0000-7000-8000-000000000000/read/' }),
      },
      expect: (actor) => (actor === 'banned_user' ? 'banned' : 'hidden'),
    },
    'POST /api/notifications/read_all/': {
      on: { own: () => ({ url: '/api/notifications/read_all/' }) },
      expect: members,
    },
    'GET /api/notifications/live/': {
      on: { own: () => ({ url: '/api/notifications/live/' }) },
      expect: members,
    },
    'GET /api/notifications/watches/:id/': {
      on: {
        own: (fx, actor) => ({ url: `/api/notifications/watches/${fx.per[actor].ownMessage}/` }),
        other: (fx, actor) => ({
          url: `/api/notifications/watches/${fx.per[actor].otherMessage}/`,
        }),
        restricted: (fx, actor) => ({
          url: `/api/notifications/watches/${fx.per[actor].restrictedMessage}/`,
        }),
      },
      expect: byResource({ own: members, other: members, restricted: sysopsElseHidden }),
    },
    'PUT /api/notifications/watches/:id/': {
      on: {
        own: (fx, actor) => ({
          url: `/api/notifications/watches/${fx.per[actor].ownMessage}/`,
          json: { watching: true },
        }),
        other: (fx, actor) => ({
          url: `/api/notifications/watches/${fx.per[actor].otherMessage}/`,
          json: { watching: true },
        }),
        restricted: (fx, actor) => ({
          url: `/api/notifications/watches/${fx.per[actor].restrictedMessage}/`,
          json: { watching: true },
        }),
      },
      expect: byResource({ own: members, other: members, restricted: sysopsElseHidden }),
    },

    // Real-time: AxonChat, realtime boards and applets' event buses; rooms' shared state.
    'GET /api/chat/': { on: { none: () => ({ url: '/api/chat/' }) }, expect: memberReaders },
    'GET /api/chat/events/': {
      on: { none: () => ({ url: '/api/chat/events/' }) },
      expect: memberReaders,
    },
    'POST /api/chat/post/': {
      on: { none: () => ({ url: '/api/chat/post/', json: { text: 'matrix' } }) },
      expect: writers,
    },
    'POST /api/boards/:id/post_event/': {
      on: {
        other: (fx) => ({
          url: `/api/boards/${fx.realtimeBoard}/post_event/`,
          json: { subject: 'matrix', body: 'matrix' },
        }),
        restricted: (fx) => ({
          url: `/api/boards/${fx.restrictedRealtimeBoard}/post_event/`,
          json: { subject: 'matrix', body: 'matrix' },
        }),
      },
      expect: byResource({ other: writers, restricted: sysopsElseHidden }),
    },
    'POST /api/applets/': {
      on: { none: (fx) => ({ url: '/api/applets/', json: { name: `matrix ${fx.unique()}` } }) },
      expect: sysops,
    },
    'GET /api/applets/': { on: { none: () => ({ url: '/api/applets/' }) }, expect: everyone },
    'POST /api/applets/:id/review/': {
      on: {
        other: (fx) => ({ url: `/api/applets/${fx.applet}/review/`, json: { status: 'approved' } }),
      },
      expect: moderators,
    },
    'GET /api/applets/:id/code/': {
      on: { other: (fx) => ({ url: `/api/applets/${fx.applet}/code/` }) },
      expect: readers,
    },
    'GET /api/applets/:id/data/': {
      on: { own: (fx) => ({ url: `/api/applets/${fx.applet}/data/` }) },
      expect: members,
    },
    'PUT /api/applets/:id/data/': {
      on: { own: (fx) => ({ url: `/api/applets/${fx.applet}/data/`, json: { data: { n: 1 } } }) },
      expect: members,
    },
    'GET /api/applets/:id/high_scores/': {
      on: { other: (fx) => ({ url: `/api/applets/${fx.applet}/high_scores/` }) },
      expect: memberReaders,
    },
    'POST /api/applets/:id/high_scores/': {
      on: {
        own: (fx) => ({ url: `/api/applets/${fx.applet}/high_scores/`, json: { score: 10 } }),
      },
      expect: writers,
    },
    'DELETE /api/applets/:id/high_scores/:entry_id/': {
      // Each case removes a fresh entry, made before the rows are counted.
      prepare: async (fx) => {
        scoreEntry = await fx.highScoreEntry();
      },
      on: { other: (fx) => ({ url: `/api/applets/${fx.applet}/high_scores/${scoreEntry}/` }) },
      expect: moderators,
    },
    'GET /applet-frame/': { on: { none: () => ({ url: '/applet-frame/' }) }, expect: everyone },
    'GET /api/applets/:id/': {
      on: { other: (fx) => ({ url: `/api/applets/${fx.applet}/` }) },
      expect: readers,
    },
    'POST /api/applets/:id/post_event/': {
      on: {
        other: (fx) => ({
          url: `/api/applets/${fx.applet}/post_event/`,
          json: { subject: 'matrix', body: 'matrix' },
        }),
      },
      expect: writers,
    },
    // A room is bound to its board (or its applet's event board): read and written under that
    // board's rules. Whether visitors may read a public board's room is left open by the issue.
    'GET /api/boards/:id/rooms/:room_id/shared_state/': {
      on: {
        other: (fx) => ({ url: `/api/boards/${fx.realtimeBoard}/rooms/matrix/shared_state/` }),
        restricted: (fx) => ({
          url: `/api/boards/${fx.restrictedRealtimeBoard}/rooms/matrix/shared_state/`,
        }),
      },
      expect: byResource({
        other: (actor) => (actor === 'anonymous' ? 'open-or-login' : readers(actor)),
        restricted: sysopsElseHidden,
      }),
    },
    'POST /api/boards/:id/rooms/:room_id/shared_state/': {
      on: {
        other: async (fx) => ({
          url: `/api/boards/${fx.realtimeBoard}/rooms/matrix/shared_state/`,
          json: {
            version: await roomVersion(fx, `/api/boards/${fx.realtimeBoard}/rooms/matrix/`, base),
            state: { n: 1 },
          },
        }),
        restricted: async (fx) => ({
          url: `/api/boards/${fx.restrictedRealtimeBoard}/rooms/matrix/shared_state/`,
          json: {
            version: await roomVersion(
              fx,
              `/api/boards/${fx.restrictedRealtimeBoard}/rooms/matrix/`,
              base,
            ),
            state: { n: 1 },
          },
        }),
      },
      expect: byResource({ other: writers, restricted: sysopsElseHidden }),
    },
    'GET /api/applets/:id/rooms/:room_id/shared_state/': {
      on: {
        other: (fx) => ({ url: `/api/applets/${fx.applet}/rooms/matrix/shared_state/` }),
      },
      // An applet's event board is for members: visitors are told its rooms are not there.
      expect: byResource({
        other: (actor) => (actor === 'anonymous' ? 'hidden' : readers(actor)),
      }),
    },
    'POST /api/applets/:id/rooms/:room_id/shared_state/': {
      on: {
        other: async (fx) => ({
          url: `/api/applets/${fx.applet}/rooms/matrix/shared_state/`,
          json: {
            version: await roomVersion(fx, `/api/applets/${fx.applet}/rooms/matrix/`, base),
            state: { n: 1 },
          },
        }),
      },
      expect: byResource({ other: writers }),
    },

    // Content: an attachment is readable by whoever may read a message that refers to it.
    'POST /api/content/upload/': {
      on: {
        none: () => ({
          url: '/api/content/upload/',
          raw: multipart([
            {
              name: 'file',
              filename: 'm.png',
              type: 'image/png',
              data: Buffer.concat([PNG, randomBytes(8)]),
            },
          ]),
        }),
      },
      expect: writers,
    },
    'GET /api/content/stream/:hash/': contentRule('stream'),
    'GET /api/content/metadata/:hash/': contentRule('metadata'),
    'GET /api/content/state/:hash/': contentRule('state'),
    'POST /api/content/media_token/:hash/': contentRule('media_token'),
  };

  // The event buses: read, stream and presence alike, for AxonChat, realtime boards and applets.
  for (const kind of ['read_events/', 'events/stream/', 'presence/']) {
    rules[`GET /api/chat/${kind}`] = {
      on: { none: () => ({ url: `/api/chat/${kind}` }) },
      expect: memberReaders,
    };
    rules[`GET /api/boards/:id/${kind}`] = {
      on: {
        other: (fx) => ({ url: `/api/boards/${fx.realtimeBoard}/${kind}` }),
        restricted: (fx) => ({ url: `/api/boards/${fx.restrictedRealtimeBoard}/${kind}` }),
      },
      expect: readRule(readers),
    };
    rules[`GET /api/applets/:id/${kind}`] = {
      on: { other: (fx) => ({ url: `/api/applets/${fx.applet}/${kind}` }) },
      expect: memberReaders,
    };
  }
  // Leaving a room's presence is the room's read rule, for members only (only they are listed).
  rules['DELETE /api/chat/presence/'] = {
    on: { none: () => ({ url: '/api/chat/presence/' }) },
    expect: memberReaders,
  };
  rules['DELETE /api/boards/:id/presence/'] = {
    on: {
      other: (fx) => ({ url: `/api/boards/${fx.realtimeBoard}/presence/` }),
      restricted: (fx) => ({ url: `/api/boards/${fx.restrictedRealtimeBoard}/presence/` }),
    },
    expect: readRule(members),
  };
  rules['DELETE /api/applets/:id/presence/'] = {
    on: { other: (fx) => ({ url: `/api/applets/${fx.applet}/presence/` }) },
    expect: memberReaders,
  };
  // A stream token is the stream's read rule, for members only (it is tied to a session).
  rules['POST /api/chat/events/stream_token/'] = {
    on: { none: () => ({ url: '/api/chat/events/stream_token/' }) },
    expect: memberReaders,
  };
  rules['POST /api/boards/:id/events/stream_token/'] = {
    on: {
      other: (fx) => ({ url: `/api/boards/${fx.realtimeBoard}/events/stream_token/` }),
      restricted: (fx) => ({
        url: `/api/boards/${fx.restrictedRealtimeBoard}/events/stream_token/`,
      }),
    },
    expect: readRule(members),
  };
  rules['POST /api/applets/:id/events/stream_token/'] = {
    on: { other: (fx) => ({ url: `/api/applets/${fx.applet}/events/stream_token/` }) },
    expect: memberReaders,
  };
  return rules;
}

/** Own: attached to the actor's public message. Other: attached to a PM between two other users
 * (only those two may read it). Restricted: attached to a message on the sysops' board. A media
 * token is the same read rule, for members only (it is tied to a session). */
function contentRule(kind: 'stream' | 'metadata' | 'state' | 'media_token'): RouteRule {
  const url = (hash: string) => ({ url: `/api/content/${kind}/${hash}/` });
  return {
    on: {
      own: (fx, actor) => url(fx.per[actor].ownUpload),
      other: (fx, actor) => url(fx.per[actor].otherUpload),
      restricted: (fx, actor) => url(fx.per[actor].restrictedUpload),
    },
    expect: byResource({
      own: kind === 'media_token' ? members : readers,
      other: (actor) => (actor === 'banned_user' ? 'banned' : 'hidden'),
      restricted: sysopsElseHidden,
    }),
  };
}

/**
 * The web client's routes: the page for each section the client routes, its hashed assets and
 * its top-level files — public, and token-free. `webDir` holds the build the server serves.
 */
export function webClientRules(webDir: string): Record<string, RouteRule> {
  const rules: Record<string, RouteRule> = {};
  const page: RouteRule = { on: { none: () => ({ url: '/' }) }, expect: everyone };
  // Without a build the app serves only its "not built" page at / (stated in routeRules).
  if (!existsSync(path.join(webDir, 'index.html'))) return rules;
  for (const section of WEB_CLIENT_SECTIONS) {
    rules[`GET /${section}`] = { ...page, on: { none: () => ({ url: `/${section}` }) } };
    rules[`GET /${section}/*`] = { ...page, on: { none: () => ({ url: `/${section}/x` }) } };
  }
  const assetsDir = path.join(webDir, 'assets');
  const asset = existsSync(assetsDir) ? readdirSync(assetsDir)[0] : undefined;
  if (asset !== undefined)
    rules['GET /assets/:name'] = { ...page, on: { none: () => ({ url: `/assets/${asset}` }) } };
  // Top-level files the way the app picks them: named plainly, with an extension, not the page.
  for (const name of readdirSync(webDir))
    if (name !== 'index.html' && /^[\w.-]+$/.test(name) && path.extname(name) !== '')
      rules[`GET /${name}`] = { ...page, on: { none: () => ({ url: `/${name}` }) } };
  return rules;
}
