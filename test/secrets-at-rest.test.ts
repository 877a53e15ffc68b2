// No user private key, password, token or recovery key appears in clear in any database row or in
// any log line, on SQLite and on PostgreSQL, after every account flow has run.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, registerUser, startTestApp, type TestApp } from '../src/test-support/app.js';
import { DIALECTS } from '../src/test-support/databases.js';
import { dumpDatabase } from '../src/test-support/dump.js';

/** Every way a secret could be written down: as is, and its bytes in base64, base64url and hex. */
function forms(secret: string | Buffer): string[] {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  const text = typeof secret === 'string' ? [secret] : [];
  // A long secret is matched by a 48-character slice, so a prefix or an embedded copy still counts.
  const cut = (s: string) => (s.length > 64 ? s.slice(8, 56) : s);
  return [
    ...text,
    bytes.toString('base64'),
    bytes.toString('base64url'),
    bytes.toString('hex'),
  ].map(cut);
}

describe.each(DIALECTS)('secrets at rest on %s', (dialect) => {
  let t: TestApp;
  const secrets: Array<[string, string | Buffer]> = [];

  beforeAll(async () => {
    t = await startTestApp(dialect);
    const user = await registerUser(t.app, 'keeper', 'first secret password');
    secrets.push(
      ['password 1', 'first secret password'],
      ['token 1', user.token],
      ['recovery key 1', user.recoveryKey],
    );
    secrets.push(['recovery key 1, bare', user.recoveryKey.replace(/-/g, '')]);

    const login = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { username: 'keeper', password: 'first secret password' },
    });
    secrets.push(['token 2', login.json().data.token]);

    const changed = await t.app.inject({
      method: 'POST',
      url: '/api/user/password/',
      headers: bearer(login.json().data.token),
      payload: {
        current_password: 'first secret password',
        new_password: 'second secret password',
      },
    });
    expect(changed.statusCode).toBe(200);
    secrets.push(['password 2', 'second secret password'], ['token 3', changed.json().data.token]);

    const recovered = await t.app.inject({
      method: 'POST',
      url: '/api/auth/recover/',
      payload: {
        username: 'keeper',
        recovery_key: user.recoveryKey,
        new_password: 'third secret password',
      },
    });
    expect(recovered.statusCode).toBe(200);
    const data = recovered.json().data;
    secrets.push(
      ['password 3', 'third secret password'],
      ['token 4', data.token],
      ['recovery key 2', data.recovery_key],
    );

    // The session ids inside the tokens, and the private key itself, in every encoding.
    for (const [name, value] of secrets.filter(([n]) => n.startsWith('token'))) {
      const payload = JSON.parse(
        Buffer.from(String(value).split('.')[1]!, 'base64url').toString('utf8'),
      );
      secrets.push([`${name} session id`, payload.sid]);
    }
    const session = await t.ctx.sessions.resolve(t.ctx.database.db, data.token);
    const der = session.privateKeyDer();
    secrets.push(['user private key (DER)', der]);
    const pemBody = (await import('node:crypto'))
      .createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
      .export({ type: 'pkcs8', format: 'pem' })
      .toString()
      .split('\n')[1]!;
    secrets.push(['user private key (PEM line)', pemBody]);
    const instanceDer = t.ctx.identity.privateKey.export({ type: 'pkcs8', format: 'der' });
    secrets.push(['instance private key (DER)', instanceDer]);
    secrets.push([
      'instance secret file',
      readFileSync(path.join(t.db.dir, 'secret.key'), 'utf8').trim(),
    ]);
  });
  afterAll(() => t.close());

  it('keeps every secret out of every database row', async () => {
    const dump = await dumpDatabase(t);
    expect(dump).toContain('keeper');
    for (const [name, secret] of secrets) {
      for (const form of forms(secret))
        expect(dump.includes(form), `${name} found in the database`).toBe(false);
    }
  });

  it('keeps every secret out of every log line, even at trace level', () => {
    // One line per request: the sign-up's challenge, the sign-up, login, password change, recovery.
    expect(t.logs.length).toBeGreaterThanOrEqual(5);
    const logs = t.logs.join('\n');
    expect(logs).toContain('/api/auth/login/');
    for (const [name, secret] of secrets) {
      for (const form of forms(secret))
        expect(logs.includes(form), `${name} found in the logs`).toBe(false);
    }
    expect(logs).not.toMatch(/127\.0\.0\.1|remoteAddress/);
  });
});
