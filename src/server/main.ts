// Process entry: config → database → migrations → identity → HTTP → background services.
import { mkdirSync } from 'node:fs';
import { pino } from 'pino';
import { buildApp, requestSerializers } from './app.js';
import type { Config } from './config.js';
import { createContext } from './context.js';
import { openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { ensureInstanceIdentity, formatFingerprint } from './modules/federation/identity.js';
import { loadInstanceKeys } from './secrets.js';

export async function startServer(
  config: Config,
): Promise<{ url: string; close: () => Promise<void> }> {
  const log = pino({ level: config.logLevel, serializers: requestSerializers });
  // Private from creation: the chunk store and other files made later inherit no wider access.
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const database = openDatabase(config.database);
  try {
    const applied = await migrateToLatest(database);
    if (applied.length > 0) log.info({ migrations: applied }, 'database migrated');
    const keys = loadInstanceKeys(config.secret, config.dataDir);
    const identity = await ensureInstanceIdentity(database, keys.identitySealKey);
    const ctx = createContext(config, database, keys, identity, (service, err) =>
      log.error({ service, err }, 'background service failed'),
    );
    const app = await buildApp(ctx, { logger: log });
    await app.listen({ host: config.host, port: config.port });
    ctx.services.startAll();
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.port;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    log.info(
      { url, dialect: database.dialect, fingerprint: identity.fingerprint },
      'Axon BBS listening',
    );
    console.log(`Axon BBS is up at ${url} (${database.dialect})`);
    console.log(`Instance fingerprint: ${formatFingerprint(identity.fingerprint)}`);
    if (!(await ctx.accounts.hasSysop())) {
      console.log(
        'No sysop yet. Create one (the password is read from standard input):\n' +
          "  printf '%s' 'a long password' | npx axon user create admin --password-stdin --sysop",
      );
    }
    return {
      url,
      close: async () => {
        await app.close();
        // Together: services wait for their calls to peers, which the client bounds.
        await Promise.all([ctx.services.stopAll(), ctx.federationClient.close()]);
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
