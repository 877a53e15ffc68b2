// Backup and restore with real processes, on SQLite and PostgreSQL: a backup taken while the server
// writes is consistent; a restore into a fresh instance holds every row and every blob of the
// source; a damaged backup is refused before anything is written; a restore killed with SIGKILL
// can be run again; --new-identity re-keys every manifest for the new instance key.
import { registrationProof } from '../src/test-support/registration.js';
import { randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEnvelope } from '../src/bitsync/envelope.js';
import { parseManifest } from '../src/bitsync/manifest.js';
import { openDatabase, type Dialect } from '../src/server/db/database.js';
import { isEmptyDatabase } from '../src/server/backup/database-snapshot.js';
import { loadIdentity } from '../src/server/modules/federation/identity.js';
import { loadInstanceKeys } from '../src/server/secrets.js';
import type { DatabaseConfig } from '../src/server/config.js';
import {
  runAxon,
  spawnAxon,
  startAxon,
  type ChildServer,
} from '../src/test-support/axon-process.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../src/test-support/databases.js';

const PASSPHRASE = 'a long backup passphrase';
const SOURCE_SECRET = 'the source instance secret, long enough';

interface Instance {
  dataDir: string;
  db: TestDatabase;
  secret: string;
  env: Record<string, string>;
}

const made: Instance[] = [];

async function newInstance(dialect: Dialect, secret: string): Promise<Instance> {
  const db = await createTestDatabase(dialect);
  const dataDir = path.join(db.dir, 'data');
  const env: Record<string, string> = {
    AXON_DATA_DIR: dataDir,
    AXON_SECRET: secret.padEnd(40, '.'),
    AXON_REGISTER_RATE_LIMIT: '1000',
  };
  if (dialect === 'postgres') env.DATABASE_URL = db.url;
  const instance = { dataDir, db, secret: env.AXON_SECRET!, env };
  made.push(instance);
  return instance;
}

function databaseConfig(instance: Instance): DatabaseConfig {
  return instance.db.config.dialect === 'sqlite'
    ? { dialect: 'sqlite', path: path.join(instance.dataDir, 'axon.db') }
    : instance.db.config;
}

/** Every row of every table as sorted JSON lines; the AXON_SECRET-sealed key is left out. */
async function allRows(instance: Instance): Promise<Record<string, string[]>> {
  const database = openDatabase(databaseConfig(instance));
  try {
    const out: Record<string, string[]> = {};
    for (const table of await database.db.introspection.getTables()) {
      const rows = await sql<
        Record<string, unknown>
      >`SELECT * FROM ${sql.table(table.name)}`.execute(database.db);
      out[table.name] = rows.rows
        .map((row) => {
          const copy: Record<string, unknown> = { ...row };
          if (table.name === 'instance_identity') delete copy.private_key_sealed;
          if (table.name === 'axon_migrations') delete copy.applied_at;
          for (const [k, v] of Object.entries(copy))
            if (Buffer.isBuffer(v)) copy[k] = v.toString('base64');
          return JSON.stringify(copy);
        })
        .sort();
    }
    return out;
  } finally {
    await database.close();
  }
}

/** Every blob file: name → bytes (base64). */
function allBlobs(instance: Instance): Map<string, string> {
  const root = path.join(instance.dataDir, 'chunks', 'blobs');
  const blobs = new Map<string, string>();
  if (!existsSync(root)) return blobs;
  for (const fan of readdirSync(root))
    for (const name of readdirSync(path.join(root, fan)))
      blobs.set(name, readFileSync(path.join(root, fan, name)).toString('base64'));
  return blobs;
}

async function isEmpty(instance: Instance): Promise<boolean> {
  if (
    instance.db.config.dialect === 'sqlite' &&
    !existsSync(path.join(instance.dataDir, 'axon.db'))
  )
    return true;
  const database = openDatabase(databaseConfig(instance));
  try {
    return await isEmptyDatabase(database.db);
  } finally {
    await database.close();
  }
}

const restore = (instance: Instance, backup: string, extra: string[] = [], input = PASSPHRASE) =>
  runAxon(['restore', backup, '--passphrase-stdin', ...extra], { env: instance.env, input });

describe.each(DIALECTS)('backup and restore on %s', (dialect) => {
  let source: Instance;
  let server: ChildServer;
  let token: string;
  let work: string;
  let during: string;
  let after: string;
  /** The source as the `after` backup holds it (the server stopped). */
  let sourceRows: Record<string, string[]>;
  let sourceBlobs: Map<string, string>;

  async function upload(size: number): Promise<void> {
    const form = new FormData();
    form.append('file', new Blob([randomBytes(size)]), 'file.bin');
    const res = await fetch(`${server.url}/api/content/upload/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
    expect(res.status).toBe(201);
  }

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'axon-backups-'));
    during = path.join(work, 'during');
    after = path.join(work, 'after');
    source = await newInstance(dialect, SOURCE_SECRET);
    server = await startAxon({ env: source.env });
    const res = await fetch(`${server.url}/api/auth/register/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        username: 'alice',
        password: 'alice password',
        ...(await registrationProof(server.url)),
      }),
    });
    token = ((await res.json()) as { data: { token: string } }).data.token;
    // 60 chunks of 512 KiB and more: a restore has enough to do to be killed in the middle.
    for (let i = 0; i < 30; i++) await upload(600_000);
  });

  afterAll(async () => {
    await server.stop();
    for (const instance of made.splice(0)) await instance.db.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('backs up while the server writes, then incrementally; restores every row and blob', async () => {
    // Writes go on for the whole backup: uploads (rows and blobs) and new accounts.
    let backupDone = false;
    let written = 0;
    const writer = (async () => {
      while (!backupDone) {
        await upload(300_000);
        await fetch(`${server.url}/api/auth/register/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            username: `writer${written}`,
            password: 'writer password',
            ...(await registrationProof(server.url)),
          }),
        });
        written++;
      }
    })();
    const first = await runAxon(['backup', during, '--passphrase-stdin'], {
      env: source.env,
      input: PASSPHRASE,
    });
    backupDone = true;
    await writer;
    expect(first.stderr).toMatch(/chunks \d+\/\d+/);
    expect(first.code, first.stderr).toBe(0);
    expect(written).toBeGreaterThan(0);

    // The snapshot taken during writes is whole: every manifest it holds has its blobs.
    const snapshot = await newInstance(dialect, 'another secret for the snapshot copy');
    const restoredDuring = await restore(snapshot, during);
    expect(restoredDuring.code, restoredDuring.stderr).toBe(0);
    const verified = await runAxon(['content', 'verify', '--deep'], { env: snapshot.env });
    expect(verified.stdout).toMatch(/all valid/);

    await server.stop();
    sourceRows = await allRows(source);
    sourceBlobs = allBlobs(source);
    const second = await runAxon(
      ['backup', after, '--passphrase-stdin', '--incremental-from', during],
      { env: source.env, input: PASSPHRASE },
    );
    expect(second.code, second.stderr).toBe(0);
    const [, copied, inBase] = /(\d+) chunk\(s\) copied .* (\d+) already in the base/.exec(
      second.stdout,
    )!;
    expect(Number(inBase)).toBeGreaterThanOrEqual(60);
    expect(Number(copied)).toBeLessThan(Number(inBase));
    const check = await runAxon(['backup', 'verify', after]);
    expect(check.code, check.stderr).toBe(0);

    const target = await newInstance(dialect, 'a different secret on the new machine');
    const restored = await restore(target, after);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await allRows(target)).toEqual(sourceRows);
    expect(allBlobs(target)).toEqual(sourceBlobs);
    // The instance key opens under the new machine's secret: same identity.
    const [a, b] = await Promise.all([
      runAxon(['identity', '--json'], { env: source.env }),
      runAxon(['identity', '--json'], { env: target.env }),
    ]);
    expect(JSON.parse(b.stdout)).toEqual(JSON.parse(a.stdout));
  });

  it('refuses a damaged backup or a wrong passphrase before writing anything', async () => {
    const damaged = path.join(work, 'damaged');
    cpSync(during, damaged, { recursive: true });
    const fan = readdirSync(path.join(damaged, 'chunks'))[0]!;
    const blob = path.join(
      damaged,
      'chunks',
      fan,
      readdirSync(path.join(damaged, 'chunks', fan))[0]!,
    );
    const bytes = readFileSync(blob);
    bytes[100] = bytes[100]! ^ 0xff;
    writeFileSync(blob, bytes);

    const check = await runAxon(['backup', 'verify', damaged]);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain(`${path.basename(blob)}: checksum mismatch`);

    const target = await newInstance(dialect, 'a secret for the refused restore');
    const refused = await restore(target, damaged);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/damaged or incomplete/);
    const wrong = await restore(target, during, [], 'not the right passphrase');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/passphrase does not open/);
    expect(allBlobs(target).size).toBe(0);
    expect(await isEmpty(target)).toBe(true);
  });

  it('restores again after a restore killed with SIGKILL', async () => {
    const target = await newInstance(dialect, 'a secret for the interrupted restore');
    const child = spawnAxon(['restore', after, '--passphrase-stdin'], { env: target.env });
    child.stdin.end(PASSPHRASE);
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('close', (_code, signal) => resolve(signal)),
    );
    let stderr = '';
    child.stderr.on('data', (piece: string) => {
      stderr += piece;
      // The first progress line past 0 while blobs are written: kill in the middle.
      if (/chunks [1-9]\d*\/\d+/.test(stderr)) child.kill('SIGKILL');
    });
    expect(await exited).toBe('SIGKILL');
    expect(allBlobs(target).size).toBeGreaterThan(0);
    expect(await isEmpty(target)).toBe(true);

    const again = await restore(target, after);
    expect(again.code, again.stderr).toBe(0);
    expect(await allRows(target)).toEqual(sourceRows);
    expect(allBlobs(target)).toEqual(sourceBlobs);
  });

  it('re-keys every manifest for a new identity', async () => {
    const target = await newInstance(dialect, 'a secret for the new identity');
    const restored = await restore(target, after, ['--new-identity']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/new identity: \d+ manifest\(s\) re-keyed/);

    const open = async (instance: Instance) => {
      const database = openDatabase(databaseConfig(instance));
      const keys = loadInstanceKeys(instance.secret, instance.dataDir);
      const identity = (await loadIdentity(database, keys.identitySealKey))!;
      const manifests = await database.db.selectFrom('manifests').selectAll().execute();
      await database.close();
      return { identity, manifests };
    };
    const before = await open(source);
    const now = await open(target);
    expect(now.identity.fingerprint).not.toBe(before.identity.fingerprint);
    expect(now.manifests.length).toBe(before.manifests.length);
    for (const row of now.manifests) {
      const manifest = parseManifest(row.manifest);
      expect(openEnvelope(manifest, now.identity.privateKey)).toEqual(
        openEnvelope(manifest, before.identity.privateKey),
      );
    }
    const verified = await runAxon(['content', 'verify', '--deep'], { env: target.env });
    expect(verified.stdout).toMatch(/all valid/);
  });
});
