// `axon backup FILE`, `axon backup verify FILE`, `axon restore FILE` (docs/operations.md, "Backups").
import type { Command } from 'commander';
import { loadConfig } from '../server/config.js';
import { openDatabase } from '../server/db/database.js';
import { loadIdentity } from '../server/modules/federation/identity.js';
import { loadInstanceKeys } from '../server/secrets.js';
import { createBackup } from '../server/backup/create.js';
import { BackupInvalidError } from '../server/backup/format.js';
import { progressTo } from '../server/backup/progress.js';
import { restoreBackup } from '../server/backup/restore.js';
import { MIN_PASSPHRASE_LENGTH } from '../server/backup/sealed-key.js';
import { openBackup, verifyBackup } from '../server/backup/verify.js';
import { readSecretFromStdin, StdinUsageError } from './stdin.js';

async function passphrase(): Promise<string> {
  const value = await readSecretFromStdin('--passphrase-stdin');
  if (value.length < MIN_PASSPHRASE_LENGTH)
    throw new StdinUsageError(
      `the passphrase must have at least ${MIN_PASSPHRASE_LENGTH} characters`,
    );
  return value;
}

export function backupCommands(program: Command): void {
  const backup = program
    .command('backup')
    .description('back up the running instance: database, chunk blobs, instance key (sealed)')
    .argument('<dir>', 'the backup to create (a new directory)')
    .option(
      '--passphrase-stdin',
      'read the passphrase that seals the instance key from standard input (required)',
    )
    .option('--incremental-from <dir>', 'an earlier backup: its chunks are referenced, not copied')
    .action(
      async (dir: string, options: { incrementalFrom?: string; passphraseStdin?: boolean }) => {
        // Not a required option: commander would then demand it of `backup verify` too.
        if (options.passphraseStdin !== true)
          throw new StdinUsageError(
            'axon backup needs --passphrase-stdin (the passphrase sealing the instance key)',
          );
        const secret = await passphrase();
        const config = loadConfig();
        const database = openDatabase(config.database);
        try {
          const identity = await loadIdentity(
            database,
            loadInstanceKeys(config.secret, config.dataDir).identitySealKey,
          );
          if (identity === undefined)
            throw new Error(
              'this instance has no identity yet: start it once (or run axon identity) first',
            );
          const summary = await createBackup(dir, {
            config,
            identity,
            passphrase: secret,
            ...(options.incrementalFrom === undefined
              ? {}
              : { incrementalFrom: options.incrementalFrom }),
            progress: progressTo(process.stderr),
          });
          console.log(
            `backup written to ${summary.dir}: ${summary.chunksCopied} chunk(s) copied (${summary.bytes} bytes), ${summary.chunksInBase} already in the base backup`,
          );
        } finally {
          await database.close();
        }
      },
    );

  backup
    .command('verify')
    .description('check every checksum of a backup (and of the backups it is incremental from)')
    .argument('<dir>')
    .action(async (dir: string) => {
      const opened = await openBackup(dir);
      const problems = await verifyBackup(opened, progressTo(process.stderr));
      if (problems.length > 0) throw new BackupInvalidError(problems);
      console.log(
        `${opened.dir}: all ${opened.manifest.entries.length} entries match their checksums`,
      );
    });

  program
    .command('restore')
    .description(
      'restore a backup onto an EMPTY instance (server stopped); checks everything first',
    )
    .argument('<dir>')
    .requiredOption(
      '--passphrase-stdin',
      'read the passphrase the backup was made with from standard input',
    )
    .option(
      '--new-identity',
      'give the restored instance a new key and re-key every manifest for it',
    )
    .action(async (dir: string, options: { newIdentity?: boolean }) => {
      const secret = await passphrase();
      const config = loadConfig();
      const summary = await restoreBackup(dir, {
        config,
        keys: () => loadInstanceKeys(config.secret, config.dataDir),
        passphrase: secret,
        newIdentity: options.newIdentity === true,
        progress: progressTo(process.stderr),
      });
      console.log(
        `restored ${summary.chunks} chunk(s); instance fingerprint ${summary.fingerprint}`,
      );
      if (summary.keyChange !== undefined) {
        console.log(
          `new identity: ${summary.manifestsRekeyed} manifest(s) re-keyed; previous fingerprint ${summary.keyChange.previousFingerprint}`,
        );
        console.log(
          `a key-change notice signed by the previous and the new key waits for ${summary.keyChange.peersNotified} peer(s): it is sent when the server starts`,
        );
        console.log(
          "Tell your peers' sysops the new fingerprint: they accept it with `axon peer accept-key`.",
        );
      }
    });
}
