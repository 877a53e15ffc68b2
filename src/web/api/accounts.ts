// Accounts: registering (the recovery key is in the answer, shown once), logging in and out, and
// recovering an account with its recovery key. The session itself is kept by session.ts.
import { api } from './client';
import type {
  LoginBody,
  RecoverAnswer,
  RecoverBody,
  RegisterAnswer,
  RegisterBody,
  RegisterChallenge,
  SessionAnswer,
} from './types';

/** A fresh proof-of-work challenge a sign-up must solve (src/shared/proof-of-work.ts). */
export const registerChallenge = () => api<RegisterChallenge>('/api/auth/register/challenge/');

export const registerAccount = (account: RegisterBody) =>
  api<RegisterAnswer>('/api/auth/register/', { method: 'POST', body: account });

export const logIn = (credentials: LoginBody) =>
  api<SessionAnswer>('/api/auth/login/', { method: 'POST', body: credentials });

export const recoverAccount = (recovery: RecoverBody) =>
  api<RecoverAnswer>('/api/auth/recover/', { method: 'POST', body: recovery });

/** Ends this session on the server. */
export async function logOut(): Promise<void> {
  await api('/api/auth/logout/', { method: 'POST' });
}
