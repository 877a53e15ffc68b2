// `axon doctor`: checks this configuration the way the server will use it and says what is wrong
// in words. It writes nothing: a missing database or secret is reported, not created.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '../server/config.js';
import { openDatabase } from '../server/db/database.js';
import { MIGRATION_NAMES } from '../server/db/migrate.js';
import { chunkStoreOf, diskOf, LOW_DISK_BYTES } from '../server/http/health-checks.js';
import { loadIdentity } from '../server/modules/federation/identity.js';
import { torStatus } from '../server/modules/federation/tor.js';
import { loadInstanceKeys, SECRET_FILE } from '../server/secrets.js';
import { sql } from 'kysely';

type Verdict = 'ok' | 'warn' | 'FAIL';
interface Finding {
  verdict: Verdict;
  text: string;
}

const privateMode = (file: string) => (statSync(file).mode & 0o077) === 0;

async function checkDatabase(config: Config, findings: Finding[]): Promise<void> {
  const say = (verdict: Verdict, text: string) => findings.push({ verdict, text });
  if (config.database.dialect === 'sqlite' && !existsSync(config.database.path)) {
    say('warn', `no database yet at ${config.database.path}: the first start creates it`);
    return;
  }
  const database = openDatabase(config.database);
  try {
    try {
      await database.ping();
    } catch (error) {
      say(
        'FAIL',
        `the ${config.database.dialect} database is unreachable: ${(error as Error).message}`,
      );
      return;
    }
    say('ok', `the ${config.database.dialect} database answers`);
    const applied = await sql<{ name: string }>`SELECT name FROM axon_migrations`
      .execute(database.db)
      .then((r) => r.rows.map((row) => row.name))
      .catch(() => [] as string[]);
    const pending = MIGRATION_NAMES.filter((m) => !applied.includes(m));
    const unknown = applied.filter((m) => !MIGRATION_NAMES.includes(m));
    if (unknown.length > 0)
      say(
        'FAIL',
        `the database was migrated by a newer Axon (${unknown.join(', ')}): upgrade this one`,
      );
    else if (pending.length > 0)
      say(
        'warn',
        `${pending.length} migration(s) pending (${pending.join(', ')}): start or axon migrate applies them`,
      );
    else say('ok', 'the database schema is up to date');

    const secretFile = path.join(config.dataDir, SECRET_FILE);
    if (config.secret === undefined && !existsSync(secretFile)) {
      say('warn', `no AXON_SECRET and no ${secretFile} yet: the first start creates the secret`);
      return;
    }
    try {
      const identity = await loadIdentity(
        database,
        loadInstanceKeys(config.secret, config.dataDir).identitySealKey,
      );
      say(
        identity === undefined ? 'warn' : 'ok',
        identity === undefined
          ? 'no instance identity yet: the first start creates it'
          : `the instance key opens with this secret (nickname ${identity.nickname})`,
      );
    } catch (error) {
      say('FAIL', (error as Error).message);
    }
  } finally {
    await database.close();
  }
}

export async function diagnose(config: Config): Promise<Finding[]> {
  const findings: Finding[] = [];
  const say = (verdict: Verdict, text: string) => findings.push({ verdict, text });

  if (!existsSync(config.dataDir))
    say(
      'warn',
      `the data directory ${config.dataDir} does not exist yet: the first start creates it`,
    );
  else {
    if (!privateMode(config.dataDir))
      say('FAIL', `${config.dataDir} is readable by other users: chmod 700 ${config.dataDir}`);
    else say('ok', `the data directory ${config.dataDir} is private (0700)`);
    const disk = await diskOf(config.dataDir);
    if (disk.free_bytes === null)
      say('FAIL', `the free space under ${config.dataDir} cannot be read`);
    else if (disk.free_bytes < LOW_DISK_BYTES)
      say('warn', `only ${disk.free_bytes} bytes free under ${config.dataDir}`);
    else say('ok', `${Math.floor(disk.free_bytes / 2 ** 20)} MiB free under the data directory`);
    if ((await chunkStoreOf(config)) !== 'ok')
      say('FAIL', `the chunk store ${config.chunkStoreDir} cannot be written`);
    else say('ok', 'the chunk store can be written');
    const secretFile = path.join(config.dataDir, SECRET_FILE);
    if (config.secret === undefined && existsSync(secretFile) && !privateMode(secretFile))
      say('FAIL', `${secretFile} is readable by other users: chmod 600 ${secretFile}`);
  }
  if (config.secret === undefined && config.database.dialect === 'postgres')
    say(
      'warn',
      'PostgreSQL without AXON_SECRET: every process must share the same data directory (secret.key)',
    );

  await checkDatabase(config, findings);

  const onion = config.publicUrl?.includes('.onion') === true || config.tor.dir !== undefined;
  if (onion && config.metricsToken === undefined)
    say(
      'FAIL',
      'an onion service without AXON_METRICS_TOKEN: behind Tor every visitor is loopback and may read /metrics',
    );
  if (onion && !['127.0.0.1', '::1', 'localhost'].includes(config.host))
    say(
      'warn',
      `HOST=${config.host}: the onion service is also reachable without Tor; use HOST=127.0.0.1`,
    );
  if (config.tor.dir !== undefined || config.tor.socks !== undefined) {
    const tor = await torStatus(config);
    if (config.tor.dir !== undefined)
      say(
        tor.onion_address === null ? 'FAIL' : 'ok',
        tor.onion_address === null
          ? `no onion address in ${config.tor.dir}/hostname: is Tor running with the torrc of axon tor init?`
          : `onion address ${tor.onion_address}`,
      );
    if (tor.socks_ok !== null)
      say(
        tor.socks_ok ? 'ok' : 'FAIL',
        tor.socks_ok
          ? `Tor's SOCKS port ${config.tor.socks} answers`
          : `Tor's SOCKS port ${config.tor.socks} does not answer`,
      );
  }
  return findings;
}

export function doctorCommand(program: Command, failed: (message: string) => Error): void {
  program
    .command('doctor')
    .description('check this configuration and say what is wrong, in words (writes nothing)')
    .action(async () => {
      let config: Config;
      try {
        config = loadConfig();
      } catch (error) {
        if (error instanceof ConfigError) {
          console.log(`FAIL the configuration: ${error.message}`);
          throw failed('the configuration is wrong');
        }
        throw error;
      }
      const findings = await diagnose(config);
      for (const f of findings) console.log(`${f.verdict.padEnd(4)} ${f.text}`);
      const failures = findings.filter((f) => f.verdict === 'FAIL').length;
      if (failures > 0) throw failed(`${failures} problem(s) found`);
      console.log('no problem found');
    });
}
