// Realtime.publishEvent, the one entry point for committed events (local posts and, through
// MessageService.insertRemote, peers' events), on SQLite and PostgreSQL: it hands the event to this
// process's waiters except to readers who ignore its author (looked up only when someone waits),
// and when that lookup fails it still wakes every waiter, to read the event from the database, and
// reports the failure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventHub } from '../../services/event-hub.js';
import {
  bearer,
  registerCast,
  startTestApp,
  type Cast,
  type TestApp,
} from '../../../test-support/app.js';
import { DIALECTS } from '../../../test-support/databases.js';
import { handedOver, type BoardEvent } from './events.js';
import { Realtime } from './realtime.js';

describe.each(DIALECTS)('publishing events on %s', (dialect) => {
  let t: TestApp;
  let cast: Cast;
  let authorFingerprint: string;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    cast = await registerCast(t);
    authorFingerprint = (await t.ctx.accounts.getUser(cast.alice.id)).fingerprint;
    const ignored = await t.app.inject({
      method: 'POST',
      url: '/api/user/ignored_pubkeys/',
      headers: bearer(cast.bob.token),
      payload: { pubkey: authorFingerprint },
    });
    expect(ignored.statusCode, ignored.body).toBe(201);
  });
  afterAll(() => t.close());

  const event: () => BoardEvent = () => ({
    cursor: 8,
    id: 'e8',
    boardId: 'b1',
    subject: 's',
    body: 'b',
    author: {
      fingerprint: authorFingerprint,
      nickname: 'alice',
      userId: null,
      avatarHash: null,
      isAgent: false,
    },
    createdAt: 0,
  });

  /** A Realtime on its own hub, with this app's database and connections. */
  function realtime(ignorersOf: (fingerprint: string) => Promise<ReadonlySet<string>>) {
    const errors: unknown[] = [];
    const lookups: string[] = [];
    const hub = new EventHub();
    const subject = new Realtime(hub, t.ctx.database, {
      connections: t.ctx.realtime.connections,
      ignorersOf: (fingerprint) => {
        lookups.push(fingerprint);
        return ignorersOf(fingerprint);
      },
      onError: (error) => errors.push(error),
    });
    return { subject, errors, lookups };
  }

  it('hands the event to waiters, except to readers who ignore its author', async () => {
    const { subject, errors, lookups } = realtime((f) => t.ctx.ignoredPubkeys.ignorersOf(f));
    const got: Array<{ seq: number; payload: unknown }> = [];
    subject.subscribe({ kind: 'board', boardId: 'b1' }, (seq, payload) =>
      got.push({ seq, payload }),
    );
    await subject.publishEvent(event());
    expect(lookups).toEqual([authorFingerprint]);
    expect(got.map((g) => g.seq)).toEqual([8]);
    expect(handedOver(got[0]!.payload, 7, cast.sysop.id)?.map((e) => e.id)).toEqual(['e8']);
    expect(handedOver(got[0]!.payload, 7, null)?.map((e) => e.id)).toEqual(['e8']);
    expect(handedOver(got[0]!.payload, 7, cast.bob.id)).toBeUndefined();
    // A reader further behind reads from the database.
    expect(handedOver(got[0]!.payload, 6, cast.sysop.id)).toBeUndefined();
    expect(errors).toEqual([]);
  });

  it('looks nothing up when nobody here waits on the board', async () => {
    const { subject, lookups } = realtime((f) => t.ctx.ignoredPubkeys.ignorersOf(f));
    await subject.publishEvent(event());
    expect(lookups).toEqual([]);
  });

  it('wakes every waiter to read from the database when the lookup fails, and reports it', async () => {
    const failure = new Error('lookup failed');
    const { subject, errors } = realtime(() => Promise.reject(failure));
    const got: Array<{ seq: number; payload: unknown }> = [];
    subject.subscribe({ kind: 'board', boardId: 'b1' }, (seq, payload) =>
      got.push({ seq, payload }),
    );
    await subject.publishEvent(event());
    expect(got).toEqual([{ seq: 8, payload: undefined }]);
    expect(errors).toEqual([failure]);
  });
});
