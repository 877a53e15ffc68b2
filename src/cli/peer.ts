// `axon peer …`: the peer registry from the command line, acting as the operator through the same
// service as the sysop API (PeerRegistry), with each peer's federation health.
import { createInterface } from 'node:readline/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import type { AppContext } from '../server/context.js';
import { AppError } from '../server/http/errors.js';
import type { PeerHealthReport } from '../server/modules/federation/health.js';
import { formatFingerprint } from '../server/modules/federation/identity.js';
import {
  PeerInput,
  PeerPatch,
  peerFingerprint,
  TRANSPORTS,
} from '../server/modules/federation/peer-schema.js';
import type { PeerRow } from '../server/modules/federation/peers.js';
import { CommandFailed, UsageError } from './errors.js';

type WithContext = <T>(run: (ctx: AppContext) => Promise<T>) => Promise<T>;

const json = (value: unknown) => console.log(JSON.stringify(value, null, 2));
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The zod error of a command-line value, as a usage error naming the option. */
function parseOrUsage<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length === 0 ? '' : `${issue.path.join('.')}: `;
  throw new UsageError(`${where}${issue.message}`);
}

/** A peer by its fingerprint, or by a prefix of it (at least 8 hex digits) that names only one. */
async function resolvePeer(ctx: AppContext, text: string): Promise<PeerRow> {
  const compact = text.replaceAll(/\s/g, '').toLowerCase();
  if (/^[0-9a-f]{64}$/.test(compact)) return ctx.peers.get(compact);
  if (!/^[0-9a-f]{8,63}$/.test(compact))
    throw new UsageError(`${text} is not a fingerprint (64 hex digits, or its first 8 or more)`);
  const matches = (await ctx.peers.all()).filter((p) => p.fingerprint.startsWith(compact));
  if (matches.length === 1) return matches[0]!;
  throw new CommandFailed(
    matches.length === 0
      ? `no peer's fingerprint starts with ${compact}`
      : `${compact} names several peers: give more digits`,
  );
}

function describePeer(row: PeerRow, h: PeerHealthReport): Record<string, unknown> {
  return {
    fingerprint: row.fingerprint,
    nickname: row.nickname,
    base_url: row.base_url,
    trusted: Boolean(row.trusted),
    trusted_for_moderation: Boolean(row.trusted_for_moderation),
    transport: row.transport,
    proxy_url: row.proxy_url,
    pending_fingerprint: row.pending_fingerprint,
    limits: {
      max_attachment_bytes: row.max_attachment_bytes,
      bytes_per_day: row.bytes_per_day,
      objects_per_minute: row.objects_per_minute,
    },
    created_at: iso(row.created_at),
    health: {
      ...h,
      last_success_at: iso(h.last_success_at),
      last_error_at: iso(h.last_error_at),
      oldest_undelivered_at: iso(h.oldest_undelivered_at),
    },
  };
}

async function healthOf(ctx: AppContext, row: PeerRow): Promise<PeerHealthReport> {
  return (await ctx.federationHealth.of([row])).get(row.fingerprint)!;
}

function printPeer(row: PeerRow, h: PeerHealthReport): void {
  console.log(`nickname:    ${row.nickname}`);
  console.log(`fingerprint: ${formatFingerprint(row.fingerprint)}`);
  console.log(`base URL:    ${row.base_url}`);
  console.log(`transport:   ${row.transport}${row.proxy_url === null ? '' : ` ${row.proxy_url}`}`);
  console.log(
    `trusted:     ${row.trusted ? 'yes' : 'no'}; for moderation: ${row.trusted_for_moderation ? 'yes' : 'no'}`,
  );
  if (row.pending_fingerprint !== null)
    console.log(`KEY CHANGE:  ${formatFingerprint(row.pending_fingerprint)} waits for acceptance`);
  printStatus(h);
}

function printStatus(h: PeerHealthReport): void {
  console.log(`state:       ${h.state} (${h.reason})`);
  console.log(
    `queue:       ${h.queue_length} object(s), oldest ${h.oldest_undelivered_at === null ? '-' : `${h.lag_seconds} s old`}`,
  );
  console.log(`last success: ${iso(h.last_success_at) ?? 'never'}`);
  if (h.last_error_at !== null)
    console.log(
      `last error:  ${iso(h.last_error_at)} ${h.last_error ?? ''} (${h.consecutive_failures} in a row)`,
    );
  console.log(
    `moved:       out ${h.objects_out} object(s) / ${h.bytes_out} B; in ${h.objects_in} / ${h.bytes_in} B, ${h.refused_in} refused`,
  );
  console.log(`chunk fetches pending: ${h.chunk_fetches_pending}`);
}

async function confirmOnTerminal(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/**
 * Adds a peer once its fingerprint is confirmed: given (--fingerprint), accepted without asking
 * (--yes), or typed yes to on the terminal; without any of them nothing is added.
 */
export async function addConfirmed(
  ctx: AppContext,
  input: PeerInput,
  yes: boolean,
): Promise<PeerRow> {
  try {
    return await ctx.peers.add(input);
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== 'PEER_CONFIRMATION_REQUIRED') throw error;
    const shown = error.details as { fingerprint: string; nickname: string };
    console.log(`${input.base_url} is "${shown.nickname}", fingerprint:`);
    console.log(`  ${formatFingerprint(shown.fingerprint)}`);
    if (!yes) {
      if (!process.stdin.isTTY)
        throw new CommandFailed(
          'not added: compare the fingerprint with its sysop, then run again with --fingerprint <it> (or --yes)',
        );
      if (!(await confirmOnTerminal('Is this the fingerprint its sysop gave you? [y/N] ')))
        throw new CommandFailed('not added');
    }
    return ctx.peers.add({ ...input, fingerprint: shown.fingerprint });
  }
}

interface AddOptions {
  fingerprint?: string;
  yes?: boolean;
  transport: string;
  proxy?: string;
  moderation?: boolean;
  nickname?: string;
  json?: boolean;
}

export function peerCommands(withContext: WithContext): Command {
  const peer = new Command('peer').description('the peer instances this one trusts (federation)');

  peer
    .command('add')
    .description("fetch a peer's identity, show its fingerprint and add it once confirmed")
    .argument('<url>', "the peer's base URL, e.g. https://bbs.example or http://xyz.onion")
    .option(
      '--fingerprint <fingerprint>',
      'the fingerprint its sysop gave you: add only if it matches',
    )
    .option('--yes', 'add whatever fingerprint it shows, without asking')
    .addOption(
      new Option('--transport <transport>', 'how to reach it')
        .choices(TRANSPORTS)
        .default('direct'),
    )
    .option('--proxy <url>', 'with --transport socks5: socks5h://host:port')
    .option('--moderation', 'also trust its moderation actions')
    .option('--nickname <name>', 'what to call it here (default: its own nickname)')
    .option('--json', 'print JSON')
    .action(async (url: string, options: AddOptions) => {
      const input = parseOrUsage(PeerInput, {
        base_url: url,
        transport: options.transport,
        proxy_url: options.proxy ?? null,
        trusted_for_moderation: options.moderation === true,
        ...(options.fingerprint === undefined ? {} : { fingerprint: options.fingerprint }),
        ...(options.nickname === undefined ? {} : { nickname: options.nickname }),
      });
      await withContext(async (ctx) => {
        const row = await addConfirmed(ctx, input, options.yes === true);
        const h = await healthOf(ctx, row);
        if (options.json) return json(describePeer(row, h));
        console.log(`added ${row.nickname} (${formatFingerprint(row.fingerprint)})`);
      });
    });

  peer
    .command('list')
    .description('list the peers with their state')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withContext(async (ctx) => {
        const rows = await ctx.peers.all();
        const health = await ctx.federationHealth.of(rows);
        if (options.json) return json(rows.map((r) => describePeer(r, health.get(r.fingerprint)!)));
        if (rows.length === 0) return console.log('no peers yet');
        for (const r of rows) {
          const h = health.get(r.fingerprint)!;
          const flags = [
            r.trusted_for_moderation && 'moderation',
            r.pending_fingerprint !== null && 'KEY CHANGE',
          ]
            .filter(Boolean)
            .join(',');
          console.log(
            `${r.fingerprint.slice(0, 16)}  ${r.nickname.padEnd(24)} ${h.state.padEnd(9)} ${String(h.queue_length).padStart(6)} queued  ${r.base_url} ${flags}`.trimEnd(),
          );
        }
      });
    });

  peer
    .command('show')
    .description('one peer: identity, transport, trust and health')
    .argument('<fingerprint>', 'its fingerprint, or its first 8 or more hex digits')
    .option('--json', 'print JSON')
    .action(async (fingerprint: string, options: { json?: boolean }) => {
      await withContext(async (ctx) => {
        const row = await resolvePeer(ctx, fingerprint);
        const h = await healthOf(ctx, row);
        if (options.json) return json(describePeer(row, h));
        printPeer(row, h);
      });
    });

  for (const [name, trusted] of [
    ['trust', true],
    ['untrust', false],
  ] as const) {
    peer
      .command(name)
      .description(
        trusted
          ? 'trust a peer: exchange objects with it'
          : 'stop trusting a peer (it stays listed)',
      )
      .argument('<fingerprint>', 'its fingerprint, or its first 8 or more hex digits')
      .action(async (fingerprint: string) => {
        await withContext(async (ctx) => {
          const row = await ctx.peers.update((await resolvePeer(ctx, fingerprint)).fingerprint, {
            trusted,
          });
          console.log(`${row.nickname} is ${trusted ? 'trusted' : 'no longer trusted'}`);
        });
      });
  }

  peer
    .command('limits')
    .description(
      "set a peer's limits; each a number, or 'default' for the instance's (AXON_PEER_* variables)",
    )
    .argument('<fingerprint>', 'its fingerprint, or its first 8 or more hex digits')
    .option('--objects-per-minute <n>', 'objects it may send in a minute (past it: 429, it waits)')
    .option('--max-attachment-bytes <n>', 'largest attachment taken from it')
    .option('--bytes-per-day <n>', 'attachment bytes taken from it in 24 hours')
    .action(
      async (
        fingerprint: string,
        options: { objectsPerMinute?: string; maxAttachmentBytes?: string; bytesPerDay?: string },
      ) => {
        const value = (text: string | undefined) =>
          text === undefined ? undefined : text === 'default' ? null : Number(text);
        const patch = parseOrUsage(PeerPatch, {
          objects_per_minute: value(options.objectsPerMinute),
          max_attachment_bytes: value(options.maxAttachmentBytes),
          bytes_per_day: value(options.bytesPerDay),
        });
        await withContext(async (ctx) => {
          const row = await ctx.peers.update(
            (await resolvePeer(ctx, fingerprint)).fingerprint,
            patch,
          );
          const shown = (n: number | null) => (n === null ? 'default' : String(n));
          console.log(
            `${row.nickname}: objects per minute ${shown(row.objects_per_minute)}, ` +
              `largest attachment ${shown(row.max_attachment_bytes)} bytes, ` +
              `${shown(row.bytes_per_day)} bytes per day`,
          );
        });
      },
    );

  peer
    .command('remove')
    .description('remove a peer, its delivery state and its place on shared boards')
    .argument('<fingerprint>', 'its fingerprint, or its first 8 or more hex digits')
    .action(async (fingerprint: string) => {
      await withContext(async (ctx) => {
        const row = await resolvePeer(ctx, fingerprint);
        await ctx.peers.remove(row.fingerprint);
        console.log(`removed ${row.nickname} (${formatFingerprint(row.fingerprint)})`);
      });
    });

  peer
    .command('status')
    .description('federation health of one peer, or of every peer')
    .argument('[fingerprint]', 'its fingerprint, or its first 8 or more hex digits')
    .option('--json', 'print JSON')
    .action(async (fingerprint: string | undefined, options: { json?: boolean }) => {
      await withContext(async (ctx) => {
        const rows =
          fingerprint === undefined ? await ctx.peers.all() : [await resolvePeer(ctx, fingerprint)];
        const health = await ctx.federationHealth.of(rows);
        if (options.json) return json(rows.map((r) => describePeer(r, health.get(r.fingerprint)!)));
        if (rows.length === 0) return console.log('no peers yet');
        rows.forEach((r, i) => {
          if (i > 0) console.log('');
          console.log(`${r.nickname} (${r.fingerprint.slice(0, 16)})`);
          printStatus(health.get(r.fingerprint)!);
        });
      });
    });

  peer
    .command('refresh')
    .description("fetch a peer's identity again; a new key waits for accept-key")
    .argument('<fingerprint>', 'its fingerprint, or its first 8 or more hex digits')
    .action(async (fingerprint: string) => {
      await withContext(async (ctx) => {
        const { keyChanged, peer: row } = await ctx.peers.refresh(
          (await resolvePeer(ctx, fingerprint)).fingerprint,
        );
        if (!keyChanged) return console.log(`${row.nickname} shows the key it was added with`);
        console.log(`${row.nickname} now shows ANOTHER key:`);
        console.log(`  ${formatFingerprint(row.pending_fingerprint!)}`);
        console.log('It is not trusted under that key until you run `axon peer accept-key`.');
      });
    });

  peer
    .command('accept-key')
    .description("accept a peer's key change; give the new fingerprint its sysop confirmed")
    .argument('<fingerprint>', 'its current fingerprint, or its first 8 or more hex digits')
    .argument('<new-fingerprint>', 'the new fingerprint, in full', (value: string) => {
      const parsed = peerFingerprint.safeParse(value);
      if (!parsed.success) throw new InvalidArgumentError('give the 64 hex digits of the new key');
      return parsed.data;
    })
    .action(async (fingerprint: string, next: string) => {
      await withContext(async (ctx) => {
        const row = await ctx.peers.acceptKey(
          (await resolvePeer(ctx, fingerprint)).fingerprint,
          next,
        );
        console.log(`${row.nickname} is trusted under ${formatFingerprint(row.fingerprint)}`);
      });
    });

  return peer;
}
