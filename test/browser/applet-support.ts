// What the applet browser tests share: installing an applet as an author would (upload the code,
// register it), bundling a shipped applet with the SDK, and reading what an applet reported.
import { buildSync } from 'esbuild';
import { expect, type Page } from '@playwright/test';
import { SYSOP, baseUrl, login } from './support.js';

/** Uploads `content` as the holder of `token`; answers its content hash. */
export async function upload(
  token: string,
  content: string | Uint8Array,
  filename: string,
  type = 'text/javascript',
): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([content as BlobPart], { type }), filename);
  const uploaded = await fetch(`${baseUrl()}/api/content/upload/`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
    body: form,
  });
  expect(uploaded.status).toBe(201);
  return ((await uploaded.json()) as { data: { content_hash: string } }).data.content_hash;
}

/** Uploads code as `token`'s holder (the sysop by default) and registers an applet with it. */
export async function installApplet(
  name: string,
  code: string,
  extra: object = {},
  token?: string,
): Promise<string> {
  const as = token ?? (await login(baseUrl(), SYSOP)).token;
  const hash = await upload(as, code, 'applet.js');
  const created = await fetch(`${baseUrl()}/api/applets/`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${as}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, code_hash: hash, ...extra }),
  });
  expect(created.status, await created.clone().text()).toBe(201);
  return ((await created.json()) as { data: { id: string } }).data.id;
}

/** What the applet wrote into its #applet-root as JSON once it finished. */
export async function resultsOf(page: Page, name: string): Promise<Record<string, string>> {
  const root = page.frameLocator(`iframe[title="${name}"]`).locator('#applet-root pre');
  await expect(root).toBeVisible();
  return JSON.parse((await root.textContent()) ?? '{}') as Record<string, string>;
}

/** A shipped applet bundled with the SDK, as its author would upload it. */
export function bundle(entry: string): string {
  const out = buildSync({ entryPoints: [entry], bundle: true, format: 'iife', write: false });
  return out.outputFiles[0]!.text;
}
