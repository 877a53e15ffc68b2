// `axon config export|import FILE` and `axon clone <peer-url>`: an instance's configuration as a
// file, and a new instance stood up from a trusted peer — the peer trusted (fingerprint
// confirmed), its configuration imported, its shared boards' history pulled and their
// attachments fetched. Every step is idempotent, so an interrupted clone resumes when run again.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { AppContext } from '../server/context.js';
import {
  CONFIG_MAX_BYTES,
  parseConfigDocument,
  type ImportResult,
} from '../server/modules/federation/config.js';
import { formatFingerprint } from '../server/modules/federation/identity.js';
import { PeerInput, TRANSPORTS } from '../server/modules/federation/peer-schema.js';
import type { PeerRow } from '../server/modules/federation/peers.js';
import { CommandFailed, UsageError } from './errors.js';
import { addConfirmed } from './peer.js';

type WithContext = <T>(run: (ctx: AppContext) => Promise<T>) => Promise<T>;

/** Objects asked for per sync page while cloning. */
const PAGE = 500;
const FETCH_POLL_MS = 250;

function readDocument(file: string): unknown {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new UsageError(`${file}: no such file`);
  }
  if (size > CONFIG_MAX_BYTES)
    throw new CommandFailed(
      `${file} is ${size} bytes: a configuration is at most ${CONFIG_MAX_BYTES}`,
    );
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new CommandFailed(`${file} is not JSON`);
  }
}

function describeImport(result: ImportResult): string[] {
  const line = (what: string, c: ImportResult['boards']) =>
    `${what}: ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged`;
  const lines = [line('boards', result.boards), line('applets', result.applets)];
  if (result.settings_differ.length > 0)
    lines.push(
      `settings that differ here (set them in this instance's environment): ${result.settings_differ.join(', ')}`,
    );
  return lines;
}

/** One line of progress on stderr: redrawn in place on a terminal, else printed when it ends. */
function progress(label: string, done: number, total: number | undefined, final = false): void {
  const width = 30;
  const bar =
    total === undefined || total === 0
      ? ''
      : `[${'#'.repeat(Math.round((done / total) * width)).padEnd(width, '.')}] `;
  const text = `${label} ${bar}${done}${total === undefined ? '' : `/${total}`}`;
  if (process.stderr.isTTY) process.stderr.write(`\r${text}${final ? '\n' : ''}`);
  else if (final) process.stderr.write(`${text}\n`);
}

export function configCommands(program: Command, withContext: WithContext): void {
  const config = program
    .command('config')
    .description("this instance's boards, approved applets and settings as a file");

  config
    .command('export')
    .description('write the configuration document (no users, keys, messages or secrets)')
    .argument('<file>', 'where to write it; - for standard output')
    .action(async (file: string) => {
      await withContext(async (ctx) => {
        const text = `${JSON.stringify(await ctx.configTransfer.export(), null, 2)}\n`;
        if (file === '-') process.stdout.write(text);
        else writeFileSync(file, text, { mode: 0o600 });
      });
    });

  config
    .command('import')
    .description('apply a configuration document: boards and applets by name; idempotent')
    .argument('<file>', 'a document written by `axon config export` or export_config')
    .action(async (file: string) => {
      const document = parseConfigDocument(readDocument(file));
      await withContext(async (ctx) => {
        for (const line of describeImport(await ctx.configTransfer.import(document)))
          console.log(line);
      });
    });

  program
    .command('clone')
    .description(
      "stand this instance up from a trusted peer: trust it, import its configuration, pull its shared boards' history and attachments",
    )
    .argument('<url>', "the peer's base URL")
    .option('--fingerprint <fingerprint>', 'the fingerprint its sysop gave you')
    .option('--yes', 'trust whatever fingerprint it shows, without asking')
    .addOption(
      new Option('--transport <transport>', 'how to reach it')
        .choices(TRANSPORTS)
        .default('direct'),
    )
    .option('--proxy <url>', 'with --transport socks5: socks5h://host:port')
    .action(
      async (
        url: string,
        options: { fingerprint?: string; yes?: boolean; transport: string; proxy?: string },
      ) => {
        const parsed = PeerInput.safeParse({
          base_url: url,
          transport: options.transport,
          proxy_url: options.proxy ?? null,
          trusted_for_moderation: true,
          ...(options.fingerprint === undefined ? {} : { fingerprint: options.fingerprint }),
        });
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          throw new UsageError(`${issue.path.join('.')}: ${issue.message}`);
        }
        await withContext(async (ctx) => {
          try {
            await clone(ctx, parsed.data, options.yes === true);
          } finally {
            await ctx.federationClient.close();
          }
        });
      },
    );
}

async function clone(ctx: AppContext, input: PeerInput, yes: boolean): Promise<void> {
  // 1. Trust the peer (once: a resumed clone finds it, with the key it was confirmed with).
  const known = (await ctx.peers.all()).find((p) => p.base_url === input.base_url);
  let peer: PeerRow;
  if (known !== undefined) {
    if (input.fingerprint !== undefined && input.fingerprint !== known.fingerprint)
      throw new CommandFailed(
        `${input.base_url} is trusted here already with another key (${known.fingerprint})`,
      );
    peer = known;
    console.log(`resuming: ${peer.nickname} (${formatFingerprint(peer.fingerprint)}) is trusted`);
  } else {
    peer = await addConfirmed(ctx, input, yes);
    console.log(`trusted ${peer.nickname} (${formatFingerprint(peer.fingerprint)})`);
  }

  // 2. Its configuration, fetched with a signed request and imported (idempotent).
  const answer = await ctx.federationClient.request(peer, {
    method: 'GET',
    path: '/api/federation/export_config/',
  });
  if (answer.status !== 200)
    throw new CommandFailed(
      `${peer.nickname} refused the configuration export (${answer.status}): ${answer.body.toString('utf8').slice(0, 500)}. Its sysop must add this instance as a peer (fingerprint ${formatFingerprint(ctx.identity.fingerprint)}) and share the boards with it.`,
    );
  const document = parseConfigDocument(answer.json<{ data: unknown }>().data);
  for (const line of describeImport(await ctx.configTransfer.import(document))) console.log(line);

  // 3. Its shared boards are shared with it here too.
  const rooms = new Set(document.boards.flatMap((b) => b.federation_room_id ?? []));
  for (const board of await ctx.boards.list(null, true)) {
    if (board.federationRoomId === null || !rooms.has(board.federationRoomId)) continue;
    if (board.trustedPeers.includes(peer.fingerprint)) continue;
    await ctx.boards.update(board.id, { trusted_peers: [...board.trustedPeers, peer.fingerprint] });
  }

  // 4. The history: sync pages from where the last run stopped (the inbox keeps that cursor).
  let cursor = await ctx.inbox.cursorOf(peer.fingerprint);
  let pulled = 0;
  for (;;) {
    const page = await ctx.federationClient.request(peer, {
      method: 'GET',
      path: `/api/federation/sync/?cursor=${cursor}&limit=${PAGE}`,
    });
    if (page.status !== 200)
      throw new CommandFailed(
        `${peer.nickname} refused the history (${page.status}): ${page.body.toString('utf8').slice(0, 500)}; run the clone again to resume`,
      );
    const data = page.json<{
      data: { objects: unknown[]; manifests: Record<string, unknown>; next_cursor: string };
    }>().data;
    if (data.objects.length === 0) break;
    const next = Number(data.next_cursor);
    await ctx.inbox.applyBatch(
      peer,
      { objects: data.objects, manifests: data.manifests },
      { after: cursor, last: next },
    );
    pulled += data.objects.length;
    cursor = next;
    progress('history: objects pulled', pulled, undefined);
  }
  progress('history: objects pulled', pulled, undefined, true);

  // 5. The attachments: the fetcher runs here until nothing is left that it can fetch now.
  ctx.remoteContent.start();
  try {
    for (;;) {
      const jobs = await ctx.database.db
        .selectFrom('remote_fetches')
        .select(['state', 'chunks_total', 'chunks_done', 'next_attempt_at'])
        .execute();
      const total = jobs.reduce((n, j) => n + j.chunks_total, 0);
      const done = jobs.reduce(
        (n, j) => n + (j.state === 'complete' ? j.chunks_total : j.chunks_done),
        0,
      );
      progress('attachments: chunks', done, total);
      const waiting = jobs.filter((j) => j.state === 'pending');
      if (waiting.length === 0) {
        progress('attachments: chunks', done, total, true);
        const failed = jobs.filter((j) => j.state !== 'complete');
        if (failed.length > 0)
          throw new CommandFailed(
            `${failed.length} attachment(s) could not be fetched now (${[...new Set(failed.map((j) => j.state))].join(', ')}); run the clone again to resume, or start the server: it keeps fetching`,
          );
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, FETCH_POLL_MS));
    }
  } finally {
    await ctx.remoteContent.stop();
  }
  console.log(`cloned ${peer.nickname}: ${pulled} object(s) pulled`);
}
