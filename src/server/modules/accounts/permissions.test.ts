// The one permission rule, action by action.
import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  assertCan,
  can,
  userActor,
  VISITOR,
  type Action,
  type BoardAccess,
} from './permissions.js';
import type { User } from './user.js';

const base: User = {
  id: 'u',
  username: 'u',
  nickname: 'u',
  timezone: 'UTC',
  pubkey: '',
  fingerprint: '',
  avatarHash: null,
  karma: 0,
  isSysop: false,
  isModerator: false,
  isAgent: false,
  isBanned: false,
  bannedUntil: null,
  banReason: null,
  canPost: true,
  canUpload: true,
  createdAt: 0,
};
const user = (patch: Partial<User>): User => ({ ...base, ...patch });
const allowed = (u: User) =>
  (['read', 'post', 'upload', 'upload_applet', 'moderate', 'admin'] as Action[]).filter((a) =>
    can(u, a, {}, 1000),
  );

describe('can', () => {
  it('lets a new user read, post and upload, but not publish applets, moderate or administer', () => {
    expect(allowed(user({}))).toEqual(['read', 'post', 'upload']);
  });

  it('requires karma 10 (or sysop) to publish applets', () => {
    expect(can(user({ karma: 9 }), 'upload_applet')).toBe(false);
    expect(can(user({ karma: 10 }), 'upload_applet')).toBe(true);
    expect(can(user({ karma: 50, canUpload: false }), 'upload_applet')).toBe(false);
  });

  it('honours can_post and can_upload', () => {
    expect(allowed(user({ canPost: false, canUpload: false }))).toEqual(['read']);
  });

  it('gives moderators moderation and sysops everything', () => {
    expect(allowed(user({ isModerator: true }))).toEqual(['read', 'post', 'upload', 'moderate']);
    expect(allowed(user({ isSysop: true }))).toEqual([
      'read',
      'post',
      'upload',
      'upload_applet',
      'moderate',
      'admin',
    ]);
  });

  it('denies a banned account everything, even a sysop, until a timed ban runs out', () => {
    expect(allowed(user({ isSysop: true, isBanned: true }))).toEqual([]);
    expect(allowed(user({ isBanned: true, bannedUntil: 2000 }))).toEqual([]);
    expect(allowed(user({ isBanned: true, bannedUntil: 500 }))).toEqual(['read', 'post', 'upload']);
  });

  const board = (
    readAccess: BoardAccess['readAccess'],
    postAccess: BoardAccess['postAccess'],
    isArchived = false,
  ) => ({
    board: { readAccess, postAccess, isArchived },
  });

  it('lets visitors read public boards and nothing else', () => {
    expect(can(null, 'read_board', board('public', 'members'))).toBe(true);
    expect(can(null, 'read_board', board('members', 'members'))).toBe(false);
    expect(can(null, 'post_to_board', board('public', 'public'))).toBe(false);
    expect(can(null, 'read')).toBe(false);
  });

  it('applies board read and post levels', () => {
    const member = user({});
    const moderator = user({ isModerator: true });
    expect(can(member, 'read_board', board('members', 'moderators'))).toBe(true);
    expect(can(member, 'post_to_board', board('members', 'moderators'))).toBe(false);
    expect(can(moderator, 'post_to_board', board('members', 'moderators'))).toBe(true);
    expect(can(member, 'read_board', board('moderators', 'moderators'))).toBe(false);
    expect(can(moderator, 'post_to_board', board('public', 'sysops'))).toBe(false);
    expect(can(user({ isSysop: true }), 'post_to_board', board('sysops', 'sysops'))).toBe(true);
  });

  it('lets nobody post to an archived board, or post without can_post, or act while banned', () => {
    expect(can(user({ isSysop: true }), 'post_to_board', board('public', 'members', true))).toBe(
      false,
    );
    expect(can(user({ canPost: false }), 'post_to_board', board('public', 'members'))).toBe(false);
    expect(can(user({ isBanned: true }), 'read_board', board('public', 'members'))).toBe(false);
    expect(can(user({}), 'read_board')).toBe(false);
  });

  const open = {
    board: { readAccess: 'public', postAccess: 'members', isArchived: false },
  } as const;
  const staffOnly = {
    board: { readAccess: 'moderators', postAccess: 'moderators', isArchived: false },
  } as const;
  const author = (id: string | null, hidden = false) => ({ author: { id, hidden } });

  it('shows a message only on a readable board and by an author not hidden from the reader', () => {
    expect(can(null, 'read_message', { ...open, ...author('a') })).toBe(true);
    expect(can(null, 'read_message', { ...open, ...author('a', true) })).toBe(false);
    expect(can(user({}), 'read_message', { ...staffOnly, ...author('a') })).toBe(false);
    expect(can(user({ isModerator: true }), 'read_message', { ...staffOnly, ...author('a') })).toBe(
      true,
    );
    expect(can(user({}), 'read_message', open)).toBe(false);
  });

  it('lets authors delete their own messages and moderators any on a board they read', () => {
    expect(can(user({ id: 'a' }), 'delete_message', { ...open, ...author('a') })).toBe(true);
    expect(can(user({ id: 'b' }), 'delete_message', { ...open, ...author('a') })).toBe(false);
    const mod = user({ id: 'm', isModerator: true });
    expect(can(mod, 'delete_message', { ...open, ...author('a') })).toBe(true);
    const sysopsBoard = { board: { ...staffOnly.board, readAccess: 'sysops' as const } };
    expect(can(mod, 'delete_message', { ...sysopsBoard, ...author('a') })).toBe(false);
    expect(can(null, 'delete_message', { ...open, ...author(null) })).toBe(false);
  });

  it('lets members report others’ visible messages, and moderators resolve only what they read', () => {
    expect(can(user({ id: 'b' }), 'report_message', { ...open, ...author('a') })).toBe(true);
    expect(can(user({ id: 'a' }), 'report_message', { ...open, ...author('a') })).toBe(false);
    expect(can(user({ id: 'b' }), 'report_message', { ...open, ...author('a', true) })).toBe(false);
    expect(can(null, 'report_message', { ...open, ...author('a') })).toBe(false);
    expect(can(user({}), 'resolve_report', open)).toBe(false);
    expect(can(user({ isModerator: true }), 'resolve_report', staffOnly)).toBe(true);
    const sysopsBoard = { board: { ...staffOnly.board, readAccess: 'sysops' as const } };
    expect(can(user({ isModerator: true }), 'resolve_report', sysopsBoard)).toBe(false);
  });

  it('reads room state like the board and writes it like a post', () => {
    expect(can(null, 'read_room', open)).toBe(true);
    expect(can(null, 'write_room', open)).toBe(false);
    expect(can(user({}), 'write_room', open)).toBe(true);
    expect(can(user({}), 'read_room', staffOnly)).toBe(false);
    expect(can(user({ canPost: false }), 'write_room', open)).toBe(false);
    expect(can(user({}), 'write_room', { board: { ...open.board, isArchived: true } })).toBe(false);
  });

  it('opens a private message to its two parties only', () => {
    const parties = { parties: { senderId: 's', recipientId: 'r' } };
    expect(can(user({ id: 's' }), 'read_private_message', parties)).toBe(true);
    expect(can(user({ id: 'r' }), 'read_private_message', parties)).toBe(true);
    expect(can(user({ id: 'x', isSysop: true }), 'read_private_message', parties)).toBe(false);
    expect(can(user({ canPost: false }), 'send_private_message')).toBe(false);
  });

  const target = (id: string, role: 'user' | 'moderator' | 'sysop') => ({
    id,
    isModerator: role === 'moderator',
    isSysop: role === 'sysop',
  });

  it('applies ranks to bans and karma: never oneself, never above one’s own rank', () => {
    const mod = user({ id: 'm', isModerator: true });
    const sysop = user({ id: 's', isSysop: true });
    for (const action of ['ban_user', 'adjust_karma'] as const) {
      expect(can(mod, action, { target: target('u', 'user') })).toBe(true);
      expect(can(mod, action, { target: target('m2', 'moderator') })).toBe(true);
      expect(can(mod, action, { target: target('s', 'sysop') })).toBe(false);
      expect(can(mod, action, { target: target('m', 'moderator') })).toBe(false);
      expect(can(sysop, action, { target: target('s2', 'sysop') })).toBe(true);
      expect(can(sysop, action, { target: target('s', 'sysop') })).toBe(false);
      expect(can(user({}), action, { target: target('u', 'user') })).toBe(false);
      expect(can(mod, action)).toBe(false);
    }
    expect(can(mod, 'ban_pubkey', { target: null })).toBe(true);
    expect(can(mod, 'ban_pubkey', { target: target('s', 'sysop') })).toBe(false);
    expect(can(mod, 'ban_pubkey', { target: target('m', 'moderator') })).toBe(false);
    expect(can(sysop, 'ban_pubkey', { target: target('s2', 'sysop') })).toBe(true);
    expect(can(user({}), 'ban_pubkey', { target: null })).toBe(false);
    for (const action of ['unban_user', 'unban_pubkey'] as const) {
      expect(can(mod, action, { bannedBy: target('m2', 'moderator') })).toBe(true);
      expect(can(mod, action, { bannedBy: target('s', 'sysop') })).toBe(false);
      expect(can(mod, action, { bannedBy: null })).toBe(false);
      expect(can(sysop, action, { bannedBy: null })).toBe(true);
      expect(can(mod, action)).toBe(false);
    }
  });

  it('keeps board administration and the peer registry for sysops', () => {
    for (const action of ['admin_board', 'manage_peers'] as const) {
      expect(can(user({ isModerator: true }), action)).toBe(false);
      expect(can(user({ isSysop: true }), action)).toBe(true);
    }
  });

  it('lets moderators and sysops review applets, and nobody else', () => {
    expect(can(user({ isModerator: true }), 'approve_applet')).toBe(true);
    expect(can(user({ isSysop: true }), 'approve_applet')).toBe(true);
    expect(can(user({ karma: 1000 }), 'approve_applet')).toBe(false);
  });

  it('lets a banned key read and delete its own words, and nothing else', () => {
    const banned = userActor(user({ id: 'a', isSysop: true }), true);
    const resource = {
      ...open,
      ...author('a'),
      parties: { senderId: 'a', recipientId: 'b' },
      target: null,
      bannedBy: null,
    };
    expect(ACTIONS.filter((a) => can(banned, a, resource))).toEqual([
      'read',
      'read_board',
      'read_message',
      'delete_message',
      'read_room',
      'read_private_message',
    ]);
    expect(() => assertCan(banned, 'upload')).toThrow(
      expect.objectContaining({ status: 403, code: 'PUBKEY_BANNED' }),
    );
    expect(() => assertCan(userActor(user({ canUpload: false })), 'upload')).toThrow(
      expect.objectContaining({ status: 403, code: 'FORBIDDEN' }),
    );
    expect(can(VISITOR, 'read_board', open)).toBe(true);
  });

  it('answers every action for every kind of actor (no action left without a rule)', () => {
    const actors = [VISITOR, userActor(user({})), userActor(user({ isSysop: true }))];
    for (const action of ACTIONS) {
      for (const actor of actors) expect(typeof can(actor, action, {})).toBe('boolean');
      expect(can(VISITOR, action, {})).toBe(false);
    }
  });
});
