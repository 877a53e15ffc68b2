// deploy/ checked by the tools that will read it: Tor accepts both torrcs, systemd accepts the
// unit without a warning, the onion-service lines are those `axon tor init` writes, and the
// Dockerfile builds where a Docker daemon runs (that one check is reported as skipped otherwise).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runAxon } from '../src/test-support/axon-process.js';

const deploy = (...parts: string[]) => path.join(REPO_ROOT, 'deploy', ...parts);

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', (error) => resolve({ code: null, output: error.message }));
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** The torrc's settings (comments and blank lines aside). */
const settings = (text: string) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

describe('deploy/', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'axon-deploy-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The torrc with its folders moved under the temp dir (0700), as Tor checks them. */
  function localCopy(file: string, name: string): string {
    const text = readFileSync(file, 'utf8').replace(
      /\/var\/lib\/tor\/([a-z]+)/g,
      (_m, folder: string) => {
        const local = path.join(dir, name, folder);
        mkdirSync(local, { recursive: true, mode: 0o700 });
        return local;
      },
    );
    const copy = path.join(dir, name, 'torrc');
    mkdirSync(path.dirname(copy), { recursive: true });
    const data = path.join(dir, name, 'data');
    mkdirSync(data, { recursive: true, mode: 0o700 });
    writeFileSync(copy, text.includes('DataDirectory') ? text : `DataDirectory ${data}\n${text}`);
    return copy;
  }

  it.each([
    ['the Debian torrc lines', deploy('tor', 'torrc')],
    ["the compose file's torrc", deploy('docker', 'torrc')],
  ])('tor --verify-config accepts %s', async (name, file) => {
    const checked = await run('tor', [
      '--verify-config',
      '-f',
      localCopy(file, path.basename(path.dirname(file))),
    ]);
    expect(checked.output).toMatch(/Configuration was valid/);
    expect(checked.code, checked.output).toBe(0);
  });

  it('has the onion-service lines `axon tor init` writes for 127.0.0.1:8000', async () => {
    const hidden = path.join(dir, 'init', 'hidden_service');
    const ran = await runAxon(['tor', 'init', '--dir', hidden, '--socks', '127.0.0.1:9050'], {
      env: { AXON_DATA_DIR: path.join(dir, 'init'), HOST: '127.0.0.1', PORT: '8000' },
    });
    expect(ran.code, ran.stderr).toBe(0);
    const written = settings(readFileSync(path.join(dir, 'init', 'torrc'), 'utf8'));
    const ours = settings(readFileSync(deploy('tor', 'torrc'), 'utf8'));
    const keyword = (line: string) => line.split(/\s+/)[0];
    for (const line of ours.filter((l) => keyword(l) !== 'HiddenServiceDir'))
      expect(written).toContain(line);
    expect(ours.map(keyword).sort()).toEqual(
      written
        .map(keyword)
        .filter((k) => k !== 'DataDirectory')
        .sort(),
    );
  });

  it.each([
    ['axon.service', 'axon.service'],
    ['axon@.service', 'axon@1.service'],
  ])('systemd-analyze verify accepts %s without a warning', async (file, instance) => {
    // A template is checked as one of its instances.
    const unit = path.join(dir, instance);
    writeFileSync(unit, readFileSync(deploy('systemd', file)));
    const checked = await run('systemd-analyze', ['verify', unit]);
    expect(checked.code, checked.output).toBe(0);
    expect(checked.output.trim()).toBe('');
    const text = readFileSync(unit, 'utf8');
    for (const hardening of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'User=axon'])
      expect(text).toContain(hardening);
  });

  it('builds the Docker image where a Docker daemon runs', async () => {
    const daemon = await run('docker', ['info']);
    if (daemon.code !== 0) {
      console.log('SKIPPED: the Docker image build (no Docker daemon on this machine)');
      // What can be checked without Docker: every file the images copy is in the repository.
      for (const file of ['Dockerfile', 'tor.Dockerfile']) {
        const text = readFileSync(deploy('docker', file), 'utf8');
        for (const [, source] of text.matchAll(/^COPY (?!--from)(\S+) /gm))
          if (source !== '.') expect(readFileSync(path.join(REPO_ROOT, source!))).toBeDefined();
      }
      return;
    }
    const built = await run('docker', [
      'build',
      '-f',
      deploy('docker', 'Dockerfile'),
      '-t',
      'axon-bbs:test',
      '.',
    ]);
    expect(built.code, built.output).toBe(0);
  });
});
