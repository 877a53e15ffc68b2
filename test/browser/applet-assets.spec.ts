// Asset packages and vetted libraries in real Chromium: an applet written for the original system
// lists required_libraries ["jszip"] and an asset_package_hash; the runner hands it the library
// (no network: the frame cannot load anything) and it fetches the ZIP with getAttachmentBlob,
// unpacks it with JSZip.loadAsync and with AxonZip, and shows an image and a text from it — as a
// member who is not the ZIP's uploader. A library the instance does not ship is refused.
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { zip } from '../../src/test-support/zip.js';
import { installApplet, resultsOf, upload } from './applet-support.js';
import { gradientPng } from './images.js';
import {
  SYSOP,
  baseUrl,
  expectClean,
  login,
  logInThroughForm,
  registerViaApi,
  watchContext,
} from './support.js';

const unique = Date.now().toString(36);
const HELPER = readFileSync(new URL('./applets/original-helper.js', import.meta.url), 'utf8');

const LOADER = `${HELPER}
(async function () {
  const root = document.getElementById('applet-root');
  const info = await window.bbs._postMessage('getAppletInfo');
  const hash = info.parameters.asset_package_hash;
  const blob = await window.bbs._postMessage('getAttachmentBlob', { hash });
  const zip = await JSZip.loadAsync(blob);
  const names = Object.keys(zip.files).filter((n) => !zip.files[n].dir);
  const readme = await zip.files['docs/readme.txt'].async('string');
  const image = document.createElement('img');
  image.alt = 'ship';
  image.src = URL.createObjectURL(await zip.files['textures/ship.png'].async('blob'));
  await new Promise((resolve, reject) => { image.onload = resolve; image.onerror = reject; root.appendChild(image); });
  const direct = await AxonZip.open(blob);
  const pre = document.createElement('pre');
  pre.textContent = JSON.stringify({
    blobType: String(blob instanceof Blob),
    names: names.join(','),
    readme,
    width: String(image.naturalWidth),
    direct: String(direct.entries.length),
  });
  root.appendChild(pre);
})();`;

test('an applet unpacks its asset package with the vetted JSZip library', async ({
  page,
  context,
}) => {
  const watch = await watchContext(context);
  const { token } = await login(baseUrl(), SYSOP);
  const png = gradientPng(64, 32);
  const archive = zip([
    { name: 'textures/', data: Buffer.alloc(0), method: 0 },
    { name: 'textures/ship.png', data: png, method: 0 },
    { name: 'docs/readme.txt', data: Buffer.from('Fly the ship.\n'.repeat(100)) },
  ]);
  const assetHash = await upload(token, archive, 'assets.zip', 'application/zip');
  const name = `Assets ${unique}`;
  const id = await installApplet(name, LOADER, {
    parameters: { asset_package_hash: assetHash, required_libraries: ['jszip'] },
  });
  const player = `pilot${unique}`;
  await registerViaApi(baseUrl(), player);
  await logInThroughForm(page, player);
  await page.goto(`/applets/${id}`);
  expect(await resultsOf(page, name)).toEqual({
    blobType: 'true',
    names: 'textures/ship.png,docs/readme.txt',
    readme: 'Fly the ship.\n'.repeat(100),
    width: '64',
    direct: '3',
  });
  expectClean(watch);
});

test('libraries the instance does not ship are refused, at upload and in the runner', async ({
  page,
}) => {
  const base = baseUrl();
  const { token } = await login(base, SYSOP);
  const refused = await fetch(`${base}/api/applets/`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      name: `Outside ${unique}`,
      parameters: { required_libraries: ['https://cdn.example/jszip.js'] },
    }),
  });
  expect(refused.status).toBe(400);
  expect(await refused.text()).toContain('body.parameters.required_libraries');

  // Should an applet's record say otherwise, the runner still refuses to run it.
  const name = `Unknown lib ${unique}`;
  const id = await installApplet(name, "document.title = 'ran';");
  const player = `libs${unique}`;
  await registerViaApi(base, player);
  await logInThroughForm(page, player);
  await page.route(`**/api/applets/${id}/`, async (route) => {
    const response = await route.fetch();
    const body = (await response.json()) as { data: { parameters: object } };
    body.data.parameters = { required_libraries: ['three.js'] };
    await route.fulfill({ response, json: body });
  });
  await page.goto(`/applets/${id}`);
  await expect(page.getByRole('alert')).toContainText(
    'asks for libraries this instance does not ship (three.js',
  );
  await expect(page.locator('iframe')).toHaveCount(0);
  expect(await page.title()).not.toBe('ran');
});
