// Everything a request, a CLI command or a background service needs, built once per process.
import type { Config } from './config.js';
import type { AxonDatabase } from './db/database.js';
import { deleteExpiredSessions, SessionTokens } from './modules/accounts/sessions.js';
import { AccountService } from './modules/accounts/service.js';
import { IgnoredPubkeys } from './modules/accounts/ignored-pubkeys.js';
import { BannedPubkeys } from './modules/moderation/banned-pubkeys.js';
import type { InstanceIdentity } from './modules/federation/identity.js';
import type { InstanceKeys } from './secrets.js';
import { periodicService, ServiceRegistry } from './services/registry.js';

export interface AppContext {
  config: Config;
  database: AxonDatabase;
  keys: InstanceKeys;
  identity: InstanceIdentity;
  accounts: AccountService;
  ignoredPubkeys: IgnoredPubkeys;
  bannedPubkeys: BannedPubkeys;
  sessions: SessionTokens;
  services: ServiceRegistry;
}

export function createContext(
  config: Config,
  database: AxonDatabase,
  keys: InstanceKeys,
  identity: InstanceIdentity,
  onServiceError: (service: string, error: unknown) => void = () => undefined,
): AppContext {
  const sessions = new SessionTokens(keys.tokenKey);
  const services = new ServiceRegistry();
  services.add(
    periodicService(
      'session-cleanup',
      60 * 60 * 1000,
      () => deleteExpiredSessions(database.db),
      (e) => onServiceError('session-cleanup', e),
    ),
  );
  return {
    config,
    database,
    keys,
    identity,
    sessions,
    services,
    accounts: new AccountService(database, sessions),
    ignoredPubkeys: new IgnoredPubkeys(database),
    bannedPubkeys: new BannedPubkeys(database),
  };
}
