// Crash consistency: clients post messages, upload files and send private messages at once while a
// real server is killed with SIGKILL at a seeded random moment; after each kill `axon content verify
// --deep` must pass (no torn blob), and after each restart every write that was acknowledged (its
// 2xx answer received whole) must be there, byte for byte.
import { createHash } from 'node:crypto';
import { seededRandom } from '../../bench/support.js';
import { createTestDatabase } from '../../src/test-support/databases.js';
import type { Check, CheckResult } from '../check.js';
import {
  ACCOUNTS,
  api,
  createBoard,
  login,
  preparedDataDir,
  removeDataDir,
  runAxon,
  startAxon,
  type AxonServer,
} from '../support/spawned-server.js';

/**
 * The kill comes up to this long (seeded) after each kind of write was first acknowledged in the
 * round, so it lands while posts, uploads and private messages are all under way.
 */
const KILL_SPREAD_MS = 1500;

type WriteKind = 'message' | 'upload' | 'private message';
const LARGEST_UPLOAD = 2 * 1024 * 1024;

interface Tokens {
  alice: string;
  bob: string;
}

/** Writes the server acknowledged, to be found again after every restart. */
interface Acknowledged {
  messages: { id: string; subject: string; body: string; attachments: string[]; round: number }[];
  uploads: { hash: string; sha256: string; size: number; round: number }[];
  privateMessages: { id: string; subject: string; body: string; round: number }[];
}

function text(random: () => number, length: number): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz      .,\n';
  let out = '';
  for (let i = 0; i < length; i++) out += letters[Math.floor(random() * letters.length)];
  return `${out.trim() || 'x'}`;
}

function randomBytesFrom(random: () => number, size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  let word = 0;
  for (let i = 0; i < size; i++) {
    if (i % 4 === 0) word = Math.floor(random() * 2 ** 32);
    bytes[i] = (word >>> ((i % 4) * 8)) & 0xff;
  }
  return bytes;
}

/**
 * Runs `step` again and again until the server is killed. A request cut off by the kill was never
 * acknowledged; an error before the kill is a failure.
 */
async function untilKilled(
  killed: () => boolean,
  failures: string[],
  what: string,
  step: () => Promise<void>,
): Promise<void> {
  while (!killed()) {
    try {
      await step();
    } catch (error) {
      if (!killed()) failures.push(`${what} failed before the kill: ${(error as Error).message}`);
      return;
    }
  }
}

function load(
  server: AxonServer,
  tokens: Tokens,
  boardId: string,
  round: number,
  seed: number,
  acked: Acknowledged,
  failures: string[],
  killed: () => boolean,
  onAcknowledged: (kind: WriteKind) => void,
): Promise<void>[] {
  const worker = (n: number) => seededRandom(seed * 1009 + round * 31 + n);
  const unexpected = (what: string, status: number, code: string | undefined) => {
    if (!killed())
      failures.push(`round ${round}: ${what} answered ${status} ${code} before the kill`);
  };

  const poster = (n: number, token: string, mine: boolean) => {
    const random = worker(n);
    let i = 0;
    return untilKilled(killed, failures, `round ${round} poster ${n}`, async () => {
      const subject = `round ${round} poster ${n} message ${i++}`;
      const body = text(random, 50 + Math.floor(random() * 8000));
      // Alice attaches her own acknowledged uploads now and then.
      const attachments =
        mine && acked.uploads.length > 0 && random() < 0.3
          ? [acked.uploads[Math.floor(random() * acked.uploads.length)]!.hash]
          : [];
      const parent =
        acked.messages.length > 0 && random() < 0.3
          ? acked.messages[Math.floor(random() * acked.messages.length)]!.id
          : undefined;
      const answer = await api<{ id: string }>(server.url, 'POST', '/api/messages/', {
        token,
        body: {
          board_id: boardId,
          subject,
          body,
          attachments,
          ...(parent && { parent_id: parent }),
        },
      });
      if (answer.status === 201) {
        acked.messages.push({ id: answer.data.id, subject, body, attachments, round });
        onAcknowledged('message');
      } else unexpected(`posting "${subject}"`, answer.status, answer.code);
    });
  };

  const uploader = (n: number) => {
    const random = worker(n);
    let i = 0;
    return untilKilled(killed, failures, `round ${round} uploader ${n}`, async () => {
      const size = 1 + Math.floor(random() ** 2 * LARGEST_UPLOAD);
      const bytes = randomBytesFrom(random, size);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const form = new FormData();
      form.append('file', new Blob([bytes]), `round-${round}-${i++}.bin`);
      const headers: Record<string, string> = { authorization: `Bearer ${tokens.alice}` };
      if (random() < 0.5) headers['x-content-sha256'] = sha256; // one pass and two passes alike
      const response = await fetch(`${server.url}/api/content/upload/`, {
        method: 'POST',
        headers,
        body: form,
      });
      const envelope = (await response.json()) as {
        data: { content_hash: string } | null;
        error: { code: string } | null;
      };
      if (response.status === 201) {
        acked.uploads.push({ hash: envelope.data!.content_hash, sha256, size, round });
        onAcknowledged('upload');
      } else unexpected(`uploading ${size} bytes`, response.status, envelope.error?.code);
    });
  };

  const correspondent = (n: number, token: string, to: string) => {
    const random = worker(n);
    let i = 0;
    return untilKilled(killed, failures, `round ${round} correspondent ${n}`, async () => {
      const subject = `round ${round} private ${n}.${i++}`;
      const body = text(random, 20 + Math.floor(random() * 3000));
      const answer = await api<{ id: string }>(server.url, 'POST', '/api/private_messages/', {
        token,
        body: { to, subject, body },
      });
      if (answer.status === 201) {
        acked.privateMessages.push({ id: answer.data.id, subject, body, round });
        onAcknowledged('private message');
      } else unexpected(`sending "${subject}"`, answer.status, answer.code);
    });
  };

  return [
    poster(1, tokens.alice, true),
    poster(2, tokens.bob, false),
    uploader(3),
    uploader(4),
    correspondent(5, tokens.alice, ACCOUNTS.bob),
    correspondent(6, tokens.bob, ACCOUNTS.alice),
  ];
}

/** Finds every acknowledged write again; returns how many were checked. */
async function findAcknowledged(
  server: AxonServer,
  tokens: Tokens,
  acked: Acknowledged,
  failures: string[],
  after: string,
): Promise<number> {
  for (const m of acked.messages) {
    const answer = await api<{
      message: { subject: string; body: string; signature_valid: boolean; attachments: unknown[] };
    }>(server.url, 'GET', `/api/messages/${m.id}/`, { token: tokens.alice });
    const found = answer.data?.message;
    if (answer.status !== 200 || found === undefined)
      failures.push(
        `${after}: message ${m.id} (round ${m.round}, acknowledged) answers ${answer.status} ${answer.code}`,
      );
    else if (found.subject !== m.subject || found.body !== m.body || !found.signature_valid)
      failures.push(`${after}: message ${m.id} (round ${m.round}) came back changed or unsigned`);
    else if (found.attachments.length !== m.attachments.length)
      failures.push(
        `${after}: message ${m.id} (round ${m.round}) has ${found.attachments.length} attachment(s), posted with ${m.attachments.length}`,
      );
  }
  for (const u of acked.uploads) {
    const response = await fetch(`${server.url}/api/content/stream/${u.hash}/`, {
      headers: { authorization: `Bearer ${tokens.alice}` },
    });
    const bytes = Buffer.from(await response.arrayBuffer());
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (response.status !== 200 || sha256 !== u.sha256)
      failures.push(
        `${after}: upload ${u.hash} (round ${u.round}, ${u.size} bytes, acknowledged) answers ` +
          `${response.status} with ${bytes.length} bytes ${sha256 === u.sha256 ? 'matching' : 'not matching'} what was sent`,
      );
  }
  for (const pm of acked.privateMessages) {
    // Both parties can open it; the recipient's read is the one that proves it was delivered.
    for (const token of [tokens.alice, tokens.bob]) {
      const answer = await api<{ subject: string; body: string }>(
        server.url,
        'GET',
        `/api/private_messages/${pm.id}/`,
        { token },
      );
      if (
        answer.status !== 200 ||
        answer.data.subject !== pm.subject ||
        answer.data.body !== pm.body
      )
        failures.push(
          `${after}: private message ${pm.id} (round ${pm.round}, acknowledged) answers ${answer.status} ${answer.code ?? 'with other text'}`,
        );
    }
  }
  return acked.messages.length + acked.uploads.length + acked.privateMessages.length;
}

/**
 * The first upload after a start also starts the encryption workers; one small upload before the
 * kill clock runs keeps the rounds about the writes, not the start-up.
 */
async function warmUp(server: AxonServer, token: string, acked: Acknowledged, round: number) {
  const bytes = Buffer.from(`warm-up upload of round ${round}`);
  const form = new FormData();
  form.append('file', new Blob([bytes]), 'warm-up.txt');
  const response = await fetch(`${server.url}/api/content/upload/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const envelope = (await response.json()) as { data: { content_hash: string } | null };
  if (response.status !== 201) throw new Error(`the warm-up upload answered ${response.status}`);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  acked.uploads.push({ hash: envelope.data!.content_hash, sha256, size: bytes.length, round });
}

/** `rounds` kill-and-restart rounds on one database (`databaseUrl`, or SQLite in the data dir). */
async function crashRounds(
  dialect: string,
  databaseUrl: string | undefined,
  rounds: number,
  seed: number,
): Promise<CheckResult> {
  const schedule = seededRandom(seed);
  const dataDir = await preparedDataDir('crash', databaseUrl);
  const extraEnv: Record<string, string> =
    databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl };
  const acked: Acknowledged = { messages: [], uploads: [], privateMessages: [] };
  const failures: string[] = [];
  const killTimes: number[] = [];
  let cases = 0;
  let server = await startAxon(dataDir, extraEnv);
  try {
    const tokens: Tokens = {
      alice: await login(server.url, ACCOUNTS.alice),
      bob: await login(server.url, ACCOUNTS.bob),
    };
    const sysop = await login(server.url, ACCOUNTS.sysop);
    const boardId = await createBoard(server.url, sysop, {
      name: 'crash-consistency',
      read_access: 'members',
      post_access: 'members',
    });
    for (let round = 0; round < rounds; round++) {
      await warmUp(server, tokens.alice, acked, round);
      let dead = false;
      const kinds = new Set<WriteKind>();
      let everyKind = () => undefined as void;
      const everyKindAcknowledged = new Promise<void>((resolve) => (everyKind = resolve));
      const workers = load(
        server,
        tokens,
        boardId,
        round,
        seed,
        acked,
        failures,
        () => dead,
        (kind) => {
          kinds.add(kind);
          if (kinds.size === 3) everyKind();
        },
      );
      // Workers only all end early after a failure, which is reported.
      await Promise.race([everyKindAcknowledged, Promise.all(workers)]);
      const killAfter = Math.floor(schedule() * KILL_SPREAD_MS);
      killTimes.push(killAfter);
      const victim = server;
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          dead = true;
          void victim.stop('SIGKILL').then(resolve);
        }, killAfter),
      );
      await Promise.all(workers);

      const verify = await runAxon(['content', 'verify', '--deep'], server.env);
      cases++;
      if (verify.code !== 0)
        failures.push(
          `${dialect}, after the kill of round ${round} (${killAfter} ms after every kind of write was acknowledged): axon content verify --deep ` +
            `exited ${verify.code}: ${(verify.stdout + verify.stderr).trim().split('\n').slice(-5).join(' | ')}`,
        );

      server = await startAxon(dataDir, extraEnv);
      cases += await findAcknowledged(
        server,
        tokens,
        acked,
        failures,
        `${dialect}, after restart ${round + 1}`,
      );
    }
    return {
      cases,
      failures,
      notes: [
        `crash-consistency (${dialect}): ${rounds} SIGKILLs, ${killTimes.join(', ')} ms after each round's first acknowledged post, upload and private message; acknowledged ` +
          `before them ${acked.messages.length} messages, ${acked.uploads.length} uploads ` +
          `(${(acked.uploads.reduce((n, u) => n + u.size, 0) / 1024 / 1024).toFixed(1)} MiB), ` +
          `${acked.privateMessages.length} private messages; each found again after every later restart`,
      ],
    };
  } finally {
    await server.stop('SIGKILL');
    removeDataDir(dataDir);
  }
}

async function run(long: boolean, seed: number): Promise<CheckResult> {
  const sqlite = await crashRounds('sqlite', undefined, long ? 12 : 2, seed);
  if (!long) return sqlite;
  // PostgreSQL does not fit the bounded run's time; --long runs it as well.
  const database = await createTestDatabase('postgres');
  try {
    const postgres = await crashRounds('postgres', database.url, 6, seed);
    return {
      cases: sqlite.cases + postgres.cases,
      failures: [...sqlite.failures, ...postgres.failures],
      notes: [...(sqlite.notes ?? []), ...(postgres.notes ?? [])],
    };
  } finally {
    await database.drop();
  }
}

const check: Check = {
  name: 'crash-consistency',
  run: ({ long, seed }) => run(long, seed),
};

export default check;
