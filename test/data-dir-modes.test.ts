// The data directory (0700), the SQLite database with its WAL files and the instance secret (0600)
// are private from the moment they exist, even under a permissive umask.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/server/db/database.js';
import { migrateToLatest } from '../src/server/db/migrate.js';
import { SECRET_FILE, loadInstanceKeys } from '../src/server/secrets.js';

const modeOf = (file: string) => statSync(file).mode & 0o777;

describe('data directory modes', () => {
  let root: string;
  let umask: number;

  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'axon-modes-'));
    // The usual default: without explicit modes, files would be 0644 and folders 0755.
    umask = process.umask(0o022);
  });

  afterAll(() => {
    process.umask(umask);
    rmSync(root, { recursive: true, force: true });
  });

  it('creates the SQLite folder 0700 and the database, WAL and shared-memory files 0600', async () => {
    const dataDir = path.join(root, 'sqlite', 'data');
    const file = path.join(dataDir, 'axon.db');
    const database = openDatabase({ dialect: 'sqlite', path: file });
    try {
      await migrateToLatest(database);
      expect(modeOf(dataDir)).toBe(0o700);
      for (const name of [file, `${file}-wal`, `${file}-shm`]) expect(modeOf(name)).toBe(0o600);
    } finally {
      await database.close();
    }
  });

  it('creates the data folder 0700 and the instance secret 0600', () => {
    const dataDir = path.join(root, 'secret', 'data');
    loadInstanceKeys(undefined, dataDir);
    expect(modeOf(dataDir)).toBe(0o700);
    expect(modeOf(path.join(dataDir, SECRET_FILE))).toBe(0o600);
  });
});
