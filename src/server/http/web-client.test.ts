// The server's side of the web client: the page for `/` and deep links, hashed assets with long
// caching and precompression, the API's 404s untouched, the client's page for a browser lost on an
// unknown path, and a helpful page when nothing is built.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test-support/app.js';

const INDEX =
  '<!doctype html><title>Axon test client</title><script type="module" src="/assets/app-abc123.js"></script>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4096))});`;

describe('the built web client', () => {
  let t: TestApp;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'axon-web-'));
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), INDEX);
    writeFileSync(path.join(dir, 'assets', 'app-abc123.js'), SCRIPT);
    writeFileSync(path.join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    t = await startTestApp('sqlite', { AXON_WEB_DIR: dir });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers / and deep links into the client with its page, revalidated each time', async () => {
    for (const url of ['/', '/boards', '/boards/b1', '/messages/m1', '/pm/new?to=x', '/admin']) {
      const res = await t.app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.body).toBe(INDEX);
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    }
  });

  it('serves hashed assets for a year, compressed when the browser accepts it', async () => {
    const plain = await t.app.inject({ url: '/assets/app-abc123.js' });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.body).toBe(SCRIPT);

    const br = await t.app.inject({
      url: '/assets/app-abc123.js',
      headers: { 'accept-encoding': 'gzip, br' },
    });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(SCRIPT);
    expect(br.rawPayload.length).toBeLessThan(SCRIPT.length / 10);

    const gz = await t.app.inject({
      url: '/assets/app-abc123.js',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.rawPayload).toString()).toBe(SCRIPT);

    const icon = await t.app.inject({ url: '/favicon.svg' });
    expect(icon.headers['content-type']).toBe('image/svg+xml');
  });

  it('keeps unknown assets, paths outside the client and API routes as 404 envelopes', async () => {
    for (const url of [
      '/assets/missing.js',
      '/assets/..%2Findex.html',
      '/assets/..%2F..%2Fpackage.json',
      '/nothing-here',
      '/api/boards/nope/',
    ]) {
      const res = await t.app.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json()).toMatchObject({ success: false, error: { code: 'NOT_FOUND' } });
    }
  });

  it('answers a browser asking for an unknown page with the client’s page, as a 404', async () => {
    const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
    for (const url of ['/nothing-here', '/boardz/typo?x=1', '/a/b/c']) {
      const res = await t.app.inject({ url, headers: html });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toBe(INDEX);
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    }
    // The API and the pages without JavaScript keep their own answers, even to a browser.
    for (const url of ['/api/nothing/', '/api', '/lite/nothing/']) {
      const res = await t.app.inject({ url, headers: html });
      expect(res.statusCode, url).toBe(404);
      expect(res.body, url).not.toBe(INDEX);
    }
    const posted = await t.app.inject({ method: 'POST', url: '/nothing-here', headers: html });
    expect(posted.json()).toMatchObject({ success: false, error: { code: 'NOT_FOUND' } });
  });
});

describe('without a built web client', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', {
      AXON_WEB_DIR: path.join(os.tmpdir(), 'axon-no-such-build'),
    });
  });
  afterAll(() => t.close());

  it('serves a page at / naming the instance, its fingerprint and how to build the client', async () => {
    const res = await t.app.inject({ url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain(t.ctx.identity.nickname);
    expect(res.body).toContain(t.ctx.identity.fingerprint.slice(0, 4));
    expect(res.body).toContain('npm run build');
    expect(res.body).not.toMatch(/<script|style=/);
    expect((await t.app.inject({ url: '/boards' })).statusCode).toBe(404);
  });
});
