// `axon doctor` as a sysop runs it: a sound configuration passes and nothing is written; each kind
// of mistake is named in words and makes it exit 1.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAxon } from '../src/test-support/axon-process.js';

const SECRET = 'a doctor test secret, long enough to pass';

describe('axon doctor', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'axon-doctor-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes a fresh configuration and writes nothing', async () => {
    const fresh = path.join(dir, 'fresh');
    const ran = await runAxon(['doctor'], { env: { AXON_DATA_DIR: fresh, AXON_SECRET: SECRET } });
    expect(ran.stdout).toMatch(/no database yet/);
    expect(ran.stdout).toMatch(/no problem found/);
    expect(ran.code).toBe(0);
    expect(readdirSync(dir)).not.toContain('fresh');
  });

  it('passes an instance that has started, and names a secret that does not open its key', async () => {
    const data = path.join(dir, 'started');
    const env = { AXON_DATA_DIR: data, AXON_SECRET: SECRET };
    expect((await runAxon(['identity'], { env })).code).toBe(0);
    const good = await runAxon(['doctor'], { env });
    expect(good.stdout).toMatch(/ok {3}the instance key opens with this secret/);
    expect(good.code).toBe(0);

    const wrong = await runAxon(['doctor'], {
      env: { ...env, AXON_SECRET: 'another secret of more than 32 characters' },
    });
    expect(wrong.stdout).toMatch(
      /FAIL the instance private key cannot be decrypted with this secret/,
    );
    expect(wrong.code).toBe(1);
  });

  it('names an unreachable database, an onion without a metrics token and a bad variable', async () => {
    const env = { AXON_DATA_DIR: path.join(dir, 'other'), AXON_SECRET: SECRET };
    const pg = await runAxon(['doctor'], {
      env: { ...env, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' },
    });
    expect(pg.stdout).toMatch(/FAIL the postgres database is unreachable/);
    expect(pg.code).toBe(1);

    const onion = await runAxon(['doctor'], {
      env: { ...env, AXON_PUBLIC_URL: `http://${'a'.repeat(56)}.onion` },
    });
    expect(onion.stdout).toMatch(/FAIL an onion service without AXON_METRICS_TOKEN/);
    expect(onion.code).toBe(1);

    const bad = await runAxon(['doctor'], { env: { ...env, AXON_SECRET: 'short' } });
    expect(bad.stdout).toMatch(/FAIL the configuration: AXON_SECRET/);
    expect(bad.code).toBe(1);
  });
});
