// Applets in real Chromium: an applet written for the original system (its bridge helper pasted
// in) runs unchanged in the sandboxed frame; code that is not the published code is refused before
// anything runs; a hostile applet tries every way out and each attempt is shown to have run and
// failed, while the host keeps answering it.
import { readFileSync } from 'node:fs';
import { expect, test, type FrameLocator } from '@playwright/test';
import { bundle, installApplet, resultsOf } from './applet-support.js';
import { baseUrl, logInThroughForm, registerViaApi, watchContext } from './support.js';

const unique = Date.now().toString(36);
const HELPER = readFileSync(new URL('./applets/original-helper.js', import.meta.url), 'utf8');

test('an applet written for the original system runs unchanged', async ({ page, context }) => {
  const watch = await watchContext(context);
  const name = `Original ${unique}`;
  const id = await installApplet(
    name,
    `${HELPER}
(async function () {
  const root = document.getElementById('applet-root');
  const user = await window.bbs.getUserInfo();
  const info = await window.bbs._postMessage('getAppletInfo');
  await window.bbs.saveData({ visits: 1 });
  const data = await window.bbs._postMessage('getData');
  const pre = document.createElement('pre');
  pre.textContent = JSON.stringify({
    username: user.username,
    appletName: info.name,
    checksum: window.BBS_APPLET_CHECKSUM,
    debug: String(window.BBS_DEBUG_MODE),
    visits: String(data.visits),
  });
  root.appendChild(pre);
})();`,
    { is_debug_mode: true },
  );
  const player = `orig${unique}`;
  await registerViaApi(baseUrl(), player);
  await logInThroughForm(page, player);
  await page.goto(`/applets/${id}`);
  const results = await resultsOf(page, name);
  const applet = (await (await fetch(`${baseUrl()}/api/applets/${id}/`)).json()) as {
    data: { code_manifest: { content_hash: string } };
  };
  expect(results).toEqual({
    username: player,
    appletName: name,
    checksum: applet.data.code_manifest.content_hash,
    debug: 'true',
    visits: '1',
  });
  expect(watch.foreignRequests).toEqual([]);
  expect(watch.pageErrors).toEqual([]);
});

test('code that is not the published code is refused before it runs', async ({ page }) => {
  const name = `Tampered ${unique}`;
  const id = await installApplet(name, "document.title = 'ran';");
  const player = `tamper${unique}`;
  await registerViaApi(baseUrl(), player);
  await logInThroughForm(page, player);
  let served = 0;
  await page.route('**/api/applets/*/code/', async (route) => {
    served++;
    await route.fulfill({
      status: 200,
      body: "document.title = 'ran'; parent.postMessage(1,'*');",
    });
  });
  await page.goto(`/applets/${id}`);
  await expect(page.getByRole('alert')).toContainText('failed its integrity check');
  expect(served).toBe(1);
  await expect(page.locator('iframe')).toHaveCount(0);
  expect(await page.title()).not.toBe('ran');
});

const HOSTILE = `${HELPER}
(async function () {
  const results = {};
  const attempt = async (name, action) => {
    try {
      const outcome = await action();
      results[name] = 'allowed: ' + String(outcome).slice(0, 200);
    } catch (error) {
      results[name] = 'blocked: ' + String(error && error.name ? error.name + ': ' + error.message : error);
    }
  };
  const loads = (make) =>
    new Promise((resolve, reject) => {
      const element = make();
      element.onload = () => resolve('loaded');
      element.onerror = () => reject(new Error('load refused'));
      document.body.appendChild(element);
    });
  const ask = (command, payload) => window.bbs._postMessage(command, payload);

  await attempt('parentDocument', () => parent.document.title);
  await attempt('topLocation', () => top.location.href);
  await attempt('localStorage', () => localStorage.getItem('axon.session'));
  await attempt('sessionStorage', () => sessionStorage.length);
  await attempt('cookies', () => document.cookie);
  await attempt('fetchApi', () => fetch('/api/user/profile/').then((r) => r.status));
  await attempt('fetchOutside', () => fetch('http://example.invalid/').then((r) => r.status));
  await attempt('xhrApi', () => new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('GET', '/api/user/profile/');
    xhr.onload = () => resolve(xhr.status);
    xhr.onerror = () => reject(new Error('xhr refused'));
    xhr.send();
  }));
  await attempt('webSocket', () => new Promise((resolve, reject) => {
    const socket = new WebSocket('ws://' + location.host + '/');
    socket.onopen = () => resolve('open');
    socket.onerror = () => reject(new Error('socket refused'));
  }));
  await attempt('outsideImage', () => loads(() => Object.assign(document.createElement('img'), { src: 'http://example.invalid/a.png' })));
  await attempt('apiImage', () => loads(() => Object.assign(document.createElement('img'), { src: '/api/user/avatar/' })));
  await attempt('outsideCss', () => loads(() => Object.assign(document.createElement('link'), { rel: 'stylesheet', href: 'http://example.invalid/a.css' })));
  await attempt('outsideFont', () => new FontFace('x', 'url(http://example.invalid/a.woff2)').load().then(() => 'font'));
  await attempt('topNavigation', () => { top.location.href = '/boards'; return 'assigned'; });
  await attempt('popup', () => { const w = window.open('/boards'); if (w === null) throw new Error('no window'); return 'opened'; });
  await attempt('form', () => {
    const form = document.createElement('form');
    form.action = '/api/auth/logout/';
    form.method = 'post';
    document.body.appendChild(form);
    form.submit();
    return 'submitted';
  });
  // A reply forged for another request id is not a request: the host never answers it.
  window.parent.postMessage({ command: 'response_getUserInfo', requestId: 0, payload: { username: 'forged' } }, '*');
  await attempt('fetchCommand', () => ask('fetch', { url: '/api/user/profile/' }));
  await attempt('unknownCommand', () => ask('readEverything', {}));
  await attempt('otherAsset', () => ask('getAttachmentBlob', { hash: '0'.repeat(64) }));
  await attempt('otherUsersData', async () => {
    const data = await ask('getData', { user: 'victim' });
    if (data && data.secret) return 'read ' + data.secret;
    throw new Error('own data only: ' + JSON.stringify(data));
  });
  const flood = [];
  for (let i = 0; i < 300; i++) flood.push(ask('getAppletInfo').then(() => 'ok', (e) => e.message));
  const answers = await Promise.all(flood);
  results.floodAnswered = String(answers.length);
  results.floodRefused = String(answers.filter((a) => a.includes('too many')).length);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  results.afterFlood = (await window.bbs.getUserInfo()).username;
  const pre = document.createElement('pre');
  pre.textContent = JSON.stringify(results);
  document.getElementById('applet-root').appendChild(pre);
})();`;

test('a hostile applet tries every way out and each attempt fails', async ({ page, context }) => {
  const watch = await watchContext(context);
  const name = `Hostile ${unique}`;
  const id = await installApplet(name, HOSTILE);
  const base = baseUrl();
  const victim = await registerViaApi(base, `victim${unique}`);
  await fetch(`${base}/api/applets/${id}/data/`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${victim.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ data: { secret: 'victim-secret' } }),
  });
  const player = `hostile${unique}`;
  await registerViaApi(base, player);
  await logInThroughForm(page, player);
  // Chromium reports the frame's attempts as requests, then fails them (the CSP blocks them
  // before anything is sent): none may finish but the frame document and its own blob: script.
  const finished: string[] = [];
  const failed: string[] = [];
  const fromFrame = (url: string, frame: unknown) =>
    frame !== page.mainFrame() && !url.endsWith('/applet-frame/') && !url.startsWith('blob:');
  page.on('requestfinished', (request) => {
    if (fromFrame(request.url(), request.frame())) finished.push(request.url());
  });
  page.on('requestfailed', (request) => {
    if (fromFrame(request.url(), request.frame())) failed.push(request.url());
  });
  await page.goto(`/applets/${id}`);
  const results = await resultsOf(page, name);
  const blocked = [
    'parentDocument',
    'topLocation',
    'localStorage',
    'sessionStorage',
    'cookies',
    'fetchApi',
    'fetchOutside',
    'xhrApi',
    'webSocket',
    'outsideImage',
    'apiImage',
    'outsideCss',
    'outsideFont',
    'topNavigation',
    'popup',
    'fetchCommand',
    'unknownCommand',
    'otherAsset',
    'otherUsersData',
  ];
  for (const attempt of blocked) expect(results[attempt], attempt).toMatch(/^blocked: /);
  expect(results.fetchCommand).toContain('getUserInfo');
  expect(results.unknownCommand).toContain('unknown command readEverything');
  expect(results.otherUsersData).not.toContain('victim-secret');
  // The form never left: the frame is still the runner's (a navigation would have stopped it).
  expect(results.form).toBe('allowed: submitted');
  await expect(page.getByText('left its frame')).toHaveCount(0);
  expect(results.floodAnswered).toBe('300');
  expect(Number(results.floodRefused)).toBeGreaterThan(0);
  expect(results.afterFlood).toBe(player);
  // Nothing the frame tried reached any server, ours or another; the app is where it was.
  expect(finished).toEqual([]);
  expect(failed).toEqual(
    expect.arrayContaining([`${base}/api/user/avatar/`, 'http://example.invalid/a.png']),
  );
  expect(watch.pageErrors).toEqual([]);
  expect(page.url()).toBe(`${base}/applets/${id}`);
  await expect(page.getByText('Signed in as')).toBeVisible();
});

test('the shared counter (SDK, shared room state) keeps two players in step', async ({
  browser,
}) => {
  const name = `Counter ${unique}`;
  const id = await installApplet(name, bundle('applets/shared-counter/main.ts'));
  const pages = [];
  for (const who of ['ann', 'ben']) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await registerViaApi(baseUrl(), `${who}${unique}`);
    await logInThroughForm(page, `${who}${unique}`);
    await page.goto(`/applets/${id}`);
    pages.push(page.frameLocator(`iframe[title="${name}"]`));
  }
  const [ann, ben] = pages as [FrameLocator, FrameLocator];
  await expect(ann.locator('#count')).toHaveText('0');
  await expect(ben.locator('#count')).toHaveText('0');
  await ann.getByRole('button', { name: 'Press' }).click();
  await expect(ben.locator('#count')).toHaveText('1');
  await ben.getByRole('button', { name: 'Press' }).click();
  await ben.getByRole('button', { name: 'Press' }).click();
  await expect(ann.locator('#count')).toHaveText('3');
  await expect(ben.locator('#count')).toHaveText('3');
});

test('the template greets and counts visits; the game keeps progress and high scores', async ({
  page,
}) => {
  const template = `Template ${unique}`;
  const templateId = await installApplet(template, bundle('applets/template/main.ts'));
  const game = `Clicker ${unique}`;
  const gameId = await installApplet(game, bundle('applets/clicker/main.ts'));
  const player = `gamer${unique}`;
  await registerViaApi(baseUrl(), player);
  await logInThroughForm(page, player);

  await page.goto(`/applets/${templateId}`);
  const greeting = page.frameLocator(`iframe[title="${template}"]`).locator('#greeting');
  await expect(greeting).toHaveText(`Hello ${player}, welcome to ${template} (visit 1).`);
  await page.reload();
  await expect(greeting).toContainText('(visit 2)');

  await page.goto(`/applets/${gameId}`);
  const frame = page.frameLocator(`iframe[title="${game}"]`);
  await expect(frame.locator('#status')).toHaveText('Level 1 · rounds 0 · presses 0/10');
  for (let i = 0; i < 10; i++) await frame.getByRole('button', { name: 'Press' }).click();
  await expect(frame.locator('#scores li')).toHaveText([`${player}: 200`]);
  // Progress survives a reload: it lives in the user's applet data, not in the frame.
  await page.reload();
  await expect(frame.locator('#status')).toHaveText('Level 2 · rounds 1 · presses 0/10');
  await expect(frame.locator('#scores li')).toHaveText([`${player}: 200`]);
});
