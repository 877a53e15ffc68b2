// The `axon` command: start the server, migrate, show the identity, manage users. It reads the same
// environment as the server and calls the same services. Exit codes: 0 done, 1 failed, 2 bad usage.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from '../server/config.js';
import { createContext, type AppContext } from '../server/context.js';
import { openDatabase } from '../server/db/database.js';
import { migrateToLatest } from '../server/db/migrate.js';
import { AppError } from '../server/http/errors.js';
import {
  ensureInstanceIdentity,
  formatFingerprint,
} from '../server/modules/federation/identity.js';
import { startServer } from '../server/main.js';
import { isWorkerProcess, runPrimary, workerCount, WorkersError } from '../server/workers.js';
import { loadInstanceKeys } from '../server/secrets.js';
import { runRetention } from '../server/services/retention.js';
import type { User } from '../server/modules/accounts/user.js';
import { OPERATOR } from '../server/modules/moderation/modlog.js';
import { contentUsage } from '../server/modules/content/usage.js';
import { parseDuration } from './duration.js';
import { CommandFailed, UsageError } from './errors.js';
import { peerCommands } from './peer.js';
import { agentCommands } from './agent.js';
import { configCommands } from './config.js';
import { backupCommands } from './backup.js';
import { doctorCommand } from './doctor.js';
import { readSecretFromStdin, StdinUsageError } from './stdin.js';
import { torCommands } from './tor.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

async function withContext<T>(run: (ctx: AppContext) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const database = openDatabase(config.database);
  try {
    await migrateToLatest(database);
    const keys = loadInstanceKeys(config.secret, config.dataDir);
    const identity = await ensureInstanceIdentity(database, keys.identitySealKey);
    return await run(createContext(config, database, keys, identity));
  } finally {
    await database.close();
  }
}

const json = (value: unknown) => console.log(JSON.stringify(value, null, 2));

function describeUser(u: User): Record<string, unknown> {
  return {
    id: u.id,
    username: u.username,
    nickname: u.nickname,
    fingerprint: u.fingerprint,
    roles: [u.isSysop && 'sysop', u.isModerator && 'moderator', u.isAgent && 'agent'].filter(
      Boolean,
    ),
    banned: u.isBanned,
    banned_until: u.bannedUntil === null ? null : new Date(u.bannedUntil).toISOString(),
    karma: u.karma,
    created_at: new Date(u.createdAt).toISOString(),
  };
}

export function buildProgram(): Command {
  const program = new Command('axon')
    .description('Axon BBS: a federated, anonymous bulletin board system')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();

  program
    .command('start')
    .description(
      'run the BBS server (HOST, PORT, DATABASE_URL, AXON_DATA_DIR … from the environment)',
    )
    .option(
      '--workers <n>',
      'server processes sharing the port (PostgreSQL only); default 1',
      (value) => Number(value),
      1,
    )
    .action(async (options: { workers: number }) => {
      const config = loadConfig();
      const workers = workerCount(options.workers, config);
      if (workers > 1 && !isWorkerProcess()) return runPrimary(config, workers);
      // Signals are handled from the first moment: startServer announces "up" before it returns,
      // and a SIGTERM right after that must still close the server cleanly, not kill the process.
      const starting = startServer(config);
      const stop = () => {
        void starting.then(
          (server) => server.close().then(() => process.exit(0)),
          () => undefined, // start failed: run() reports it and sets the exit code
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await starting;
    });

  program
    .command('migrate')
    .description('apply pending database migrations')
    .action(async () => {
      const config = loadConfig();
      const database = openDatabase(config.database);
      try {
        const applied = await migrateToLatest(database);
        console.log(
          applied.length === 0 ? 'database is up to date' : `applied: ${applied.join(', ')}`,
        );
      } finally {
        await database.close();
      }
    });

  program
    .command('identity')
    .description("show this instance's public key and fingerprint (created on first use)")
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withContext(async (ctx) => {
        const { fingerprint, nickname, pubkey } = ctx.identity;
        if (options.json)
          return json({ fingerprint, nickname, pubkey, base_url: ctx.config.publicUrl ?? null });
        console.log(`nickname:    ${nickname}`);
        console.log(`fingerprint: ${formatFingerprint(fingerprint)}`);
        console.log(pubkey.trimEnd());
      });
    });

  program
    .command('cleanup')
    .description("delete messages past their board's retention (the server also does this hourly)")
    .action(async () => {
      await withContext(async (ctx) => {
        const result = await runRetention(ctx.database, Date.now(), { content: ctx.content });
        const boards = Object.entries(result.byBoard).map(([name, n]) => `${name}: ${n}`);
        console.log(
          `deleted ${result.messagesDeleted} expired message(s)${boards.length > 0 ? ` (${boards.join(', ')})` : ''}`,
        );
        const c = result.content;
        if (c !== undefined) {
          console.log(
            `removed ${c.attachments} unreferenced attachment(s), ${c.manifests} manifest(s), ${c.blobs} blob(s)`,
          );
        }
      });
    });

  const content = program.command('content').description('the encrypted content store (BitSync)');

  content
    .command('verify')
    .description(
      'check every stored content: blobs present and valid (--deep: also decrypt and check hashes)',
    )
    .option('--deep', 'decrypt every chunk and check its tag and the content hash')
    .action(async (options: { deep?: boolean }) => {
      await withContext(async (ctx) => {
        let checked = 0;
        const failures = await ctx.content.verifyAll(options.deep === true, () => {
          checked++;
        });
        for (const f of failures) {
          for (const hash of f.missing) console.log(`MISSING  ${hash}  (content ${f.contentHash})`);
          for (const hash of f.corrupt) console.log(`CORRUPT  ${hash}  (content ${f.contentHash})`);
          if (f.contentHashCheck === 'mismatch')
            console.log(
              `MISMATCH content ${f.contentHash}: the decrypted whole does not hash to it`,
            );
        }
        console.log(
          `checked ${checked} content item(s): ${failures.length === 0 ? 'all valid' : `${failures.length} damaged`}`,
        );
        if (failures.length > 0)
          throw new CommandFailed(`${failures.length} content item(s) damaged`);
      });
    });

  content
    .command('gc')
    .description('remove blobs, manifests and uploads nothing refers to any more')
    .action(async () => {
      await withContext(async (ctx) => {
        const result = await ctx.content.collect();
        console.log(
          `removed ${result.attachments} unreferenced attachment(s), ${result.manifests} manifest(s), ` +
            `${result.garbage.removedBlobs.length} blob(s), ${result.garbage.removedScratch.length} stale scratch file(s)`,
        );
      });
    });

  content
    .command('usage')
    .description('disk used by content, by board, and local (uploaded here) versus remote')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withContext(async (ctx) => {
        const usage = await contentUsage(ctx.database);
        if (options.json) return json(usage);
        for (const line of usage.places)
          console.log(
            `${line.place.padEnd(32)} ${String(line.contents).padStart(8)} content(s) ${String(line.bytes).padStart(14)} bytes`,
          );
        for (const line of usage.peers)
          console.log(
            `from ${line.place.padEnd(27)} ${String(line.contents).padStart(8)} content(s) ${String(line.bytes).padStart(14)} bytes`,
          );
        console.log(`local:  ${usage.local.contents} content(s), ${usage.local.bytes} bytes`);
        console.log(`remote: ${usage.remote.contents} content(s), ${usage.remote.bytes} bytes`);
      });
    });

  const applet = program.command('applet').description('review and remove applets');

  applet
    .command('list')
    .description('applets in one status (default: pending, the ones waiting for review)')
    .option('--status <status>', 'pending, approved or rejected', 'pending')
    .option('--json', 'print JSON')
    .action(async (options: { status: string; json?: boolean }) => {
      const status = options.status;
      if (status !== 'pending' && status !== 'approved' && status !== 'rejected')
        throw new InvalidArgumentError('--status is pending, approved or rejected');
      await withContext(async (ctx) => {
        const applets = await ctx.applets.list(status);
        if (options.json)
          return json(
            applets.map((a) => ({
              id: a.id,
              name: a.name,
              status: a.status,
              code_hash: a.codeHash,
            })),
          );
        for (const a of applets) console.log(`${a.id}  ${a.name}  code ${a.codeHash ?? '(none)'}`);
        console.log(`${applets.length} ${status} applet(s)`);
      });
    });

  for (const [verb, status] of [
    ['approve', 'approved'],
    ['reject', 'rejected'],
  ] as const)
    applet
      .command(verb)
      .description(`${verb} an applet by its id`)
      .argument('<id>')
      .option('--reason <text>', "why (shown to the applet's owner and reviewers)", '')
      .action(async (id: string, options: { reason: string }) => {
        await withContext(async (ctx) => {
          const a = await ctx.applets.setStatus(id, status, options.reason.trim().slice(0, 500));
          console.log(`${status} ${a.name}`);
        });
      });

  applet
    .command('remove')
    .description('remove an applet, its event board, rooms, data and scores')
    .argument('<id>')
    .action(async (id: string) => {
      await withContext(async (ctx) => {
        await ctx.applets.remove(id);
        console.log(`removed ${id}`);
      });
    });

  const user = program.command('user').description('manage accounts');

  user
    .command('create')
    .description('create an account without prompts; prints its recovery key once')
    .argument('<username>')
    .requiredOption('--password-stdin', 'read the password from standard input')
    .option('--nickname <nickname>', 'display name (default: the username)')
    .option('--sysop', 'full administrator')
    .option('--moderator', 'moderation powers')
    .option('--json', 'print JSON')
    .action(
      async (
        username: string,
        options: {
          nickname?: string;
          sysop?: boolean;
          moderator?: boolean;
          json?: boolean;
        },
      ) => {
        const password = await readSecretFromStdin('--password-stdin');
        await withContext(async (ctx) => {
          const { user: u, recoveryKey } = await ctx.accounts.createAccount(
            {
              username,
              password,
              ...(options.nickname === undefined ? {} : { nickname: options.nickname }),
            },
            { isSysop: options.sysop, isModerator: options.moderator },
          );
          if (options.json) return json({ ...describeUser(u), recovery_key: recoveryKey });
          const roles = (describeUser(u).roles as string[]).join(', ');
          console.log(`created ${u.username}${roles === '' ? '' : ` (${roles})`}`);
          console.log(`fingerprint:  ${formatFingerprint(u.fingerprint)}`);
          console.log(`recovery key: ${recoveryKey}`);
          console.log('Keep the recovery key somewhere safe: it is shown only now.');
        });
      },
    );

  user
    .command('ban')
    .description('ban an account now; its sessions end at once')
    .argument('<username>')
    .option('--reason <text>', 'why (shown to moderators)', 'banned by the operator')
    .option('--for <duration>', 'how long, e.g. 30m, 12h, 7d (default: for good)', (v) => {
      const ms = parseDuration(v);
      if (ms === undefined) throw new InvalidArgumentError('use a number with m, h or d, e.g. 12h');
      return ms;
    })
    .action(async (username: string, options: { reason: string; for?: number }) => {
      await withContext(async (ctx) => {
        const u = await ctx.accounts.ban(username, {
          reason: options.reason,
          until: options.for === undefined ? null : Date.now() + options.for,
          actor: OPERATOR,
        });
        console.log(
          `banned ${u.username}${u.bannedUntil === null ? ' for good' : ` until ${new Date(u.bannedUntil).toISOString()}`}`,
        );
      });
    });

  user
    .command('unban')
    .description('lift a ban')
    .argument('<username>')
    .action(async (username: string) => {
      await withContext(async (ctx) => {
        const u = await ctx.accounts.unban(username, OPERATOR);
        console.log(`unbanned ${u.username}`);
      });
    });

  user
    .command('ban-key')
    .description(
      "ban a key instance-wide (PEM, base64 DER or fingerprint): its holder's streams end",
    )
    .argument('<pubkey>')
    .option('--reason <text>', 'why (shown to moderators)', 'banned by the operator')
    .action(async (pubkey: string, options: { reason: string }) => {
      await withContext(async (ctx) => {
        const ban = await ctx.bannedPubkeys.ban({
          pubkey,
          reason: options.reason,
          expiresAt: null,
          actor: OPERATOR,
        });
        console.log(`banned key ${ban.fingerprint}`);
      });
    });

  user
    .command('list')
    .description('list accounts in sign-up order')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withContext(async (ctx) => {
        const all: User[] = [];
        let cursor: string | undefined;
        do {
          const page = await ctx.accounts.listUsers({ cursor, limit: 100 });
          all.push(...page.items);
          cursor = page.next_cursor ?? undefined;
        } while (cursor !== undefined);
        if (options.json) return json(all.map(describeUser));
        if (all.length === 0) return console.log('no accounts yet');
        for (const u of all) {
          const d = describeUser(u);
          const roles = (d.roles as string[]).join(',') || '-';
          const ban = u.isBanned
            ? u.bannedUntil === null
              ? 'banned'
              : `banned until ${d.banned_until as string}`
            : '';
          console.log(`${u.username.padEnd(32)} ${roles.padEnd(24)} ${ban}`.trimEnd());
        }
      });
    });

  torCommands(program);
  program.addCommand(peerCommands(withContext));
  program.addCommand(agentCommands(withContext));
  configCommands(program, withContext);
  backupCommands(program);
  doctorCommand(program, (message) => new CommandFailed(message));

  return program;
}

export async function run(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not failures; commander has printed the usage message already.
      return error.exitCode === 0 || error.code === 'commander.helpDisplayed' ? 0 : 2;
    }
    if (error instanceof CommandFailed) {
      console.error(`axon: ${error.message}`);
      return 1;
    }
    if (
      error instanceof UsageError ||
      error instanceof StdinUsageError ||
      error instanceof WorkersError
    ) {
      console.error(`axon: ${error.message}`);
      return 2;
    }
    if (error instanceof ConfigError) {
      console.error(`axon: configuration error: ${error.message}`);
      return 1;
    }
    if (error instanceof AppError) {
      console.error(`axon: ${error.message}`);
      return 1;
    }
    console.error(`axon: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

process.exitCode = await run(process.argv);
