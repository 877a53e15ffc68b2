// The refusal a banned account gets, saying why and until when: the account's own ban is told to
// its holder (at login, on a request, and at once to an open tab through the live feed).
import { AppError } from '../../http/errors.js';
import type { User } from './user.js';

export function accountBanned(user: Pick<User, 'bannedUntil' | 'banReason'>): AppError {
  const until = user.bannedUntil === null ? null : new Date(user.bannedUntil).toISOString();
  return new AppError(
    403,
    'ACCOUNT_BANNED',
    until === null ? 'this account is banned' : `this account is banned until ${until}`,
    { reason: user.banReason, until },
  );
}
