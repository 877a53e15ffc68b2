// A post with an attachment on A reaches B (its peer) and C (B's peer, not A's) through the log,
// and each receiver fetches the attachment's chunks, verifies them and serves the same bytes.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  type Chain,
  type Instance,
  registerOn,
  startChain,
  waitForEvents,
} from '../src/test-support/federation.js';

const ROOM = 'photos';
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

interface ContentState {
  state: string;
}

/** Asks the instance for the content's state until it is no longer on its way. */
async function settled(instance: Instance, hash: string): Promise<ContentState> {
  for (;;) {
    const state = await api<ContentState>(instance, `/api/content/state/${hash}/`);
    if (state.state !== 'pending' && state.state !== 'absent') return state;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function download(instance: Instance, hash: string): Promise<Buffer> {
  const response = await fetch(`${instance.url}/api/content/stream/${hash}/`);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

describe('attachments across a chain of instances', () => {
  let a: Instance;
  let b: Instance;
  let c: Instance;
  let boards: Record<string, string>;

  let chain: Chain | undefined;
  beforeAll(async () => {
    chain = await startChain(ROOM);
    ({ a, b, c, boards } = chain);
  });
  afterAll(() => chain?.close());

  it('shows the message on B and C at once, then its attachment, verified, with the same bytes', async () => {
    const alice = await registerOn(a, 'alice');
    // Three chunks (the last one short), so the fetch has several pieces to verify.
    const bytes = randomBytes(2 * 524_288 + 12_345);
    const form = new FormData();
    form.append('file', new Blob([bytes]), 'photo.bin');
    const uploaded = await fetch(`${a.url}/api/content/upload/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}` },
      body: form,
    });
    expect(uploaded.status).toBe(201);
    const hash = ((await uploaded.json()) as { data: { content_hash: string } }).data.content_hash;
    expect(hash).toBe(sha256(bytes));
    await api(a, '/api/messages/', {
      method: 'POST',
      token: alice,
      body: { board_id: boards.a, subject: 'a photo', body: 'look', attachments: [hash] },
    });

    for (const [instance, board] of [
      [b, boards.b],
      [c, boards.c],
    ] as const) {
      const [event] = await waitForEvents(instance, board!, 1);
      expect(event).toMatchObject({ subject: 'a photo', author: { user_id: null } });
      expect(event!.author.nickname).toMatch(/^alice@/);
      // C asks B for its envelope, and B may still be fetching: C asks again until B has it.
      expect(await settled(instance, hash)).toMatchObject({ state: 'complete' });
      expect(sha256(await download(instance, hash))).toBe(hash);
    }
  });
});
