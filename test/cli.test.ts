// The `axon` CLI end to end, as a child process (bin/axon.js → dist/cli/main.js) on SQLite and
// PostgreSQL: help, migrate, identity and the instance secret, user create/list/ban/unban, config
// errors, and `axon start` serving HTTP, stopping cleanly on SIGTERM and keeping its data.
// The tests in each dialect's block run in order and build on one another's database state.
import { createHash, createPublicKey } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Dialect } from '../src/server/db/database.js';
import {
  REPO_ROOT as ROOT,
  runAxon,
  startAxon,
  type ChildServer as Server,
  type Env,
} from '../src/test-support/axon-process.js';
import { DIALECTS, createTestDatabase, type TestDatabase } from '../src/test-support/databases.js';

const PASSWORD = 'correct horse battery staple';
const OTHER_SECRET = 'a-different-instance-secret-of-40-chars!';

/** Runs `axon ARGS` to completion; stdin gets `input` (or nothing) and is then closed. */
const axon = (args: string[], env: Env, input = '') => runAxon(args, { env, input });

async function axonJson<T>(args: string[], env: Env, input = ''): Promise<T> {
  const result = await axon(args, env, input);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}

interface Envelope<T> {
  success: boolean;
  data: T | null;
  error: { code: string; message: string } | null;
}

async function api<T>(
  url: string,
  init: { method?: string; body?: unknown; token?: string } = {},
): Promise<{ status: number; body: Envelope<T> }> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: response.status, body: (await response.json()) as Envelope<T> };
}

interface LoginData {
  token: string;
  user: { username: string; is_sysop: boolean; fingerprint: string };
}

const login = (server: Server, username: string, password: string) =>
  api<LoginData>(`${server.url}/api/auth/login/`, {
    method: 'POST',
    body: { username, password },
  });

interface IdentityJson {
  fingerprint: string;
  nickname: string;
  pubkey: string;
  base_url: string | null;
}

interface UserJson {
  id: string;
  username: string;
  nickname: string;
  fingerprint: string;
  roles: string[];
  banned: boolean;
  banned_until: string | null;
  karma: number;
  created_at: string;
  recovery_key?: string;
}

beforeAll(() => {
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/cli/main.js is missing: run `npm run build` (npm test does it)');
  }
});

describe('axon help', () => {
  it('lists the commands and exits 0', async () => {
    const top = await axon(['--help'], {});
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^Usage: axon /);
    for (const command of ['start', 'migrate', 'identity', 'user']) {
      expect(top.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }

    const user = await axon(['user', '--help'], {});
    expect(user.code).toBe(0);
    expect(user.stdout).toMatch(/^Usage: axon user /);
    for (const command of ['create', 'ban', 'unban', 'list']) {
      expect(user.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
  });

  it('--version prints the package version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    const result = await axon(['--version'], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${version}\n`);
  });

  it('exits 2 on an unknown command', async () => {
    const result = await axon(['frobnicate'], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown command 'frobnicate'");
  });
});

describe.each(DIALECTS)('axon on %s', (dialect: Dialect) => {
  let test: TestDatabase;
  let env: Env;
  const servers: Server[] = [];

  /** Opens the test database directly, to check what the CLI wrote. */
  async function inDatabase<T>(
    read: (db: ReturnType<typeof openDatabase>['db']) => Promise<T>,
  ): Promise<T> {
    const database = openDatabase(test.config);
    try {
      return await read(database.db);
    } finally {
      await database.close();
    }
  }

  const userRow = (username: string) =>
    inDatabase((db) =>
      db
        .selectFrom('users')
        .select(['is_sysop', 'is_moderator', 'is_banned', 'banned_until', 'ban_reason'])
        .where('username_lower', '=', username.toLowerCase())
        .executeTakeFirst(),
    );

  async function serve(): Promise<Server> {
    const server = await startAxon({ env });
    servers.push(server);
    return server;
  }

  beforeAll(async () => {
    test = await createTestDatabase(dialect);
    env = {
      DATABASE_URL: test.url,
      AXON_DATA_DIR: test.dir,
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: '0',
    };
  });

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop('SIGKILL')));
    await test?.drop();
  });

  it('a bad configuration value stops the process with exit 1, naming the variable', async () => {
    const cases: Array<[string, string, string[]]> = [
      ['PORT', 'notaport', ['migrate']],
      ['PORT', 'notaport', ['start']],
      ['DATABASE_URL', 'mysql://x', ['migrate']],
      ['DATABASE_URL', 'mysql://x', ['start']],
      ['AXON_SECRET', 'too short', ['identity']],
      ['LOG_LEVEL', 'loud', ['user', 'list']],
    ];
    const results = await Promise.all(
      cases.map(([variable, value, args]) => axon(args, { ...env, [variable]: value })),
    );
    results.forEach((result, i) => {
      const variable = cases[i]![0];
      expect(result.code, `${variable} case ${i}`).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`^axon: configuration error: ${variable}: `));
      expect(result.stdout).toBe('');
    });
    // Nothing was touched: no secret made, and (below) the first migrate still has work to do.
    expect(existsSync(path.join(test.dir, 'secret.key'))).toBe(false);
  });

  it('migrate applies the foundation once, then reports the database up to date', async () => {
    const first = await axon(['migrate'], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied: .*\b0001_foundation\b/);

    const second = await axon(['migrate'], env);
    expect(second.code).toBe(0);
    expect(second.stdout.trim()).toBe('database is up to date');

    const tables = await inDatabase((db) => db.introspection.getTables());
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(['users', 'instance_identity']),
    );
  });

  describe('identity', () => {
    let identity: IdentityJson;

    it('prints the nickname, the grouped fingerprint and the public key', async () => {
      const result = await axon(['identity'], env);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^nickname: {4}axon-[0-9a-f]{6}$/m);
      expect(result.stdout).toMatch(/^fingerprint: ([0-9a-f]{4} ){15}[0-9a-f]{4}$/m);
      expect(result.stdout).toContain('-----BEGIN PUBLIC KEY-----');
    });

    it('--json gives a fingerprint that is the SHA-256 of the key, and it persists', async () => {
      identity = await axonJson<IdentityJson>(['identity', '--json'], env);
      const der = createPublicKey(identity.pubkey).export({ type: 'spki', format: 'der' });
      expect(identity.fingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(identity.fingerprint).toBe(createHash('sha256').update(der).digest('hex'));
      expect(identity.base_url).toBeNull();

      const again = await axonJson<IdentityJson>(['identity', '--json'], env);
      expect(again).toEqual(identity);

      const text = await axon(['identity'], env);
      expect(text.stdout.replace(/ /g, '')).toContain(`fingerprint:${identity.fingerprint}`);

      const stored = await inDatabase((db) =>
        db.selectFrom('instance_identity').select(['fingerprint', 'pubkey']).execute(),
      );
      expect(stored).toEqual([{ fingerprint: identity.fingerprint, pubkey: identity.pubkey }]);
    });

    it('keeps the default secret in <AXON_DATA_DIR>/secret.key, mode 0600', () => {
      const stat = statSync(path.join(test.dir, 'secret.key'));
      expect(stat.isFile()).toBe(true);
      expect(stat.mode & 0o777).toBe(0o600);
    });

    it('refuses a secret.key that other users can read', async () => {
      const file = path.join(test.dir, 'secret.key');
      chmodSync(file, 0o644);
      try {
        const result = await axon(['identity'], env);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain(`chmod 600 ${file}`);
      } finally {
        chmodSync(file, 0o600);
      }
    });

    it('fails with exit 1 naming AXON_SECRET when the secret differs', async () => {
      const result = await axon(['identity'], { ...env, AXON_SECRET: OTHER_SECRET });
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^axon: .*cannot be decrypted.*AXON_SECRET/);

      const served = await axon(['start'], { ...env, AXON_SECRET: OTHER_SECRET });
      expect(served.code).toBe(1);
      expect(served.stderr).toContain('AXON_SECRET');
      expect(served.stdout).not.toContain('is up at');

      // The refusal changed nothing: the right secret still opens the same identity.
      expect(await axonJson<IdentityJson>(['identity', '--json'], env)).toEqual(identity);
    });
  });

  it('start serves HTTP, asks for a first sysop, and exits 0 on SIGTERM', async () => {
    const server = await serve();
    await server.waitForLine(/^No sysop yet\./);
    expect(server.stdout()).toContain('npx axon user create admin --password-stdin --sysop');

    const health = await api<{ status: string; database: { dialect: string; status: string } }>(
      `${server.url}/api/health`,
    );
    expect(health.status).toBe(200);
    expect(health.body.success).toBe(true);
    expect(health.body.data?.status).toBe('healthy');
    expect(health.body.data?.database).toEqual({ dialect, status: 'connected' });

    expect(await server.stop()).toEqual({ code: 0, signal: null });
    expect(server.stderr()).toBe('');
  });

  it('start exits 0 on a SIGTERM sent the moment it says it is up', async () => {
    const server = await serve();
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  });

  describe('user create', () => {
    it('creates a sysop from a password on stdin and prints the recovery key', async () => {
      const result = await axon(
        ['user', 'create', 'alice', '--password-stdin', '--sysop'],
        env,
        `${PASSWORD}\n`,
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^created alice \(sysop\)$/m);
      expect(result.stdout).toMatch(/^fingerprint: {2}([0-9a-f]{4} ){15}[0-9a-f]{4}$/m);
      expect(result.stdout).toMatch(/^recovery key: [0-9A-Z]{4}(-[0-9A-Z]{4}){7}$/m);
      const row = await userRow('alice');
      expect(row).toBeDefined();
      expect(Boolean(row?.is_sysop)).toBe(true);
      expect(Boolean(row?.is_moderator)).toBe(false);
      expect(Boolean(row?.is_banned)).toBe(false);
    });

    it('--json returns the account with its roles and recovery key', async () => {
      const bob = await axonJson<UserJson>(
        [
          'user',
          'create',
          'bob',
          '--password-stdin',
          '--sysop',
          '--moderator',
          '--nickname',
          'Bobby',
          '--json',
        ],
        env,
        PASSWORD,
      );
      expect(bob).toMatchObject({ username: 'bob', nickname: 'Bobby', banned: false, karma: 0 });
      expect(bob.roles).toEqual(['sysop', 'moderator']);
      expect(bob.fingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(bob.recovery_key).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){7}$/);
      expect(bob.banned_until).toBeNull();
    });

    it('exits 1 when the username is taken, in any case', async () => {
      const names = ['alice', 'ALICE'];
      const results = await Promise.all(
        names.map((name) => axon(['user', 'create', name, '--password-stdin'], env, PASSWORD)),
      );
      results.forEach((result, i) => {
        expect(result.code).toBe(1);
        expect(result.stderr).toBe(`axon: username ${names[i]!} is taken\n`);
      });
    });

    it('exits 1 naming the password when it is shorter than 8 characters', async () => {
      const result = await axon(['user', 'create', 'carol', '--password-stdin'], env, 'short\n');
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^axon: .*password.*at least 8 characters/);
      expect(await userRow('carol')).toBeUndefined();
    });

    it('exits 2 without --password-stdin', async () => {
      const result = await axon(['user', 'create', 'carol'], env, PASSWORD);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("required option '--password-stdin' not specified");
      expect(result.stderr).toContain('Usage: axon user create');
      expect(await userRow('carol')).toBeUndefined();
    });
  });

  describe('user list, ban and unban', () => {
    it('lists the accounts in sign-up order', async () => {
      const users = await axonJson<UserJson[]>(['user', 'list', '--json'], env);
      expect(users.map((u) => [u.username, u.roles, u.banned])).toEqual([
        ['alice', ['sysop'], false],
        ['bob', ['sysop', 'moderator'], false],
      ]);
      expect(users.every((u) => !('recovery_key' in u))).toBe(true);

      const text = await axon(['user', 'list'], env);
      expect(text.code).toBe(0);
      expect(text.stdout.split('\n').filter(Boolean)).toEqual([
        expect.stringMatching(/^alice +sysop$/),
        expect.stringMatching(/^bob +sysop,moderator$/),
      ]);
    });

    it('bans for a while, ending sessions at once, and unbans', async () => {
      const server = await serve();
      const before = await login(server, 'alice', PASSWORD);
      expect(before.status).toBe(200);
      const token = before.body.data?.token ?? '';
      const profile = () => api(`${server.url}/api/user/profile/`, { token });
      expect((await profile()).status).toBe(200);

      const bannedAt = Date.now();
      const ban = await axon(['user', 'ban', 'alice', '--reason', 'spam', '--for', '2h'], env);
      expect(ban.stderr).toBe('');
      expect(ban.code).toBe(0);
      expect(ban.stdout).toMatch(/^banned alice until \d{4}-\d\d-\d\dT/);

      const listed = await axonJson<UserJson[]>(['user', 'list', '--json'], env);
      const alice = listed.find((u) => u.username === 'alice');
      expect(alice?.banned).toBe(true);
      const until = Date.parse(alice?.banned_until ?? '');
      expect(until).toBeGreaterThanOrEqual(bannedAt + 2 * 3_600_000);
      expect(until).toBeLessThanOrEqual(Date.now() + 2 * 3_600_000);
      expect(listed.find((u) => u.username === 'bob')?.banned).toBe(false);
      expect((await axon(['user', 'list'], env)).stdout).toMatch(
        new RegExp(`^alice +sysop +banned until ${alice?.banned_until ?? '?'}$`, 'm'),
      );
      const row = await userRow('alice');
      expect(Boolean(row?.is_banned)).toBe(true);
      expect(row?.banned_until).toBe(until);
      expect(row?.ban_reason).toBe('spam');

      // The running server sees the CLI's ban: the old session is gone, a new login is refused.
      expect((await profile()).status).toBe(401);
      const refused = await login(server, 'alice', PASSWORD);
      expect(refused.status).toBe(403);
      expect(refused.body.error?.code).toBe('ACCOUNT_BANNED');

      const unban = await axon(['user', 'unban', 'alice'], env);
      expect(unban.code).toBe(0);
      expect(unban.stdout).toBe('unbanned alice\n');
      const after = await axonJson<UserJson[]>(['user', 'list', '--json'], env);
      expect(after.find((u) => u.username === 'alice')).toMatchObject({
        banned: false,
        banned_until: null,
      });
      expect(await userRow('alice')).toMatchObject({ banned_until: null, ban_reason: null });
      expect((await login(server, 'alice', PASSWORD)).status).toBe(200);

      expect(await server.stop()).toEqual({ code: 0, signal: null });
    });

    it('bans for good without --for', async () => {
      const result = await axon(['user', 'ban', 'bob'], env);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe('banned bob for good\n');
      expect(await userRow('bob')).toMatchObject({
        banned_until: null,
        ban_reason: 'banned by the operator',
      });
      expect((await axon(['user', 'list'], env)).stdout).toMatch(/^bob +sysop,moderator +banned$/m);
      expect((await axon(['user', 'unban', 'bob'], env)).code).toBe(0);
    });

    it('exits 1 with "not found" for an unknown user', async () => {
      const results = await Promise.all(
        ['ban', 'unban'].map((command) => axon(['user', command, 'nobody'], env)),
      );
      for (const result of results) {
        expect(result.code).toBe(1);
        expect(result.stderr).toBe('axon: user nobody not found\n');
      }
    });

    it('exits 2 on a duration it cannot read', async () => {
      const durations = ['5x', '0h', '2'];
      const results = await Promise.all(
        durations.map((duration) => axon(['user', 'ban', 'alice', '--for', duration], env)),
      );
      results.forEach((result, i) => {
        expect(result.code).toBe(2);
        expect(result.stderr).toContain(`'${durations[i]!}' is invalid`);
      });
      expect(Boolean((await userRow('alice'))?.is_banned)).toBe(false);
    });
  });

  it('start lets the CLI-made sysop log in, and the data survives a restart', async () => {
    const first = await serve();
    const logged = await login(first, 'alice', PASSWORD);
    expect(logged.status).toBe(200);
    expect(logged.body.success).toBe(true);
    expect(logged.body.data?.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(logged.body.data?.user).toMatchObject({ username: 'alice', is_sysop: true });
    const wrong = await login(first, 'alice', 'not the password');
    expect(wrong.status).toBe(401);
    expect(await first.stop()).toEqual({ code: 0, signal: null });
    expect(first.stdout()).not.toContain('No sysop yet');
    expect(first.stderr()).toBe('');

    const second = await serve();
    expect(second.stdout()).toContain(`(${dialect})`);
    const again = await login(second, 'alice', PASSWORD);
    expect(again.status).toBe(200);
    expect(again.body.data?.user.fingerprint).toBe(logged.body.data?.user.fingerprint);
    const token = again.body.data?.token ?? '';
    const profile = await api<{ username: string }>(`${second.url}/api/user/profile/`, { token });
    expect(profile.status).toBe(200);
    expect(profile.body.data?.username).toBe('alice');
    expect(await second.stop()).toEqual({ code: 0, signal: null });
  });
});
