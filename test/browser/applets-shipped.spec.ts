// The shipped AxonChat and MIME-viewer applets, bundled with the SDK and run in the real sandboxed
// frame: two people chat through the applet's event bus (history, live lines, text never HTML);
// an attachment is offered to the viewer ("Open with …"), handed over only once the reader agrees,
// and shown (a CSV as a table, a PNG as an image); a type the applet does not open is refused.
import { expect, test } from '@playwright/test';
import { bundle, installApplet, upload } from './applet-support.js';
import { gradientPng } from './images.js';
import {
  apiCall,
  baseUrl,
  expectClean,
  logInThroughForm,
  registerViaApi,
  watchContext,
} from './support.js';

const unique = Date.now().toString(36);

test('AxonChat as an applet: history, live lines both ways, text shown as text', async ({
  browser,
}) => {
  const name = `AxonChat ${unique}`;
  const id = await installApplet(name, bundle('applets/axon-chat/main.ts'), {
    category_name: 'Chat',
  });
  const open = async (who: string) => {
    const context = await browser.newContext();
    const watch = await watchContext(context);
    const page = await context.newPage();
    await registerViaApi(baseUrl(), who);
    await logInThroughForm(page, who);
    await page.goto(`/applets/${id}`);
    const frame = page.frameLocator(`iframe[title="${name}"]`);
    await expect(frame.locator('#title')).toHaveText(`${name} — you are ${who}`);
    return { frame, watch };
  };
  const ann = `ann${unique}`;
  const ben = `ben${unique}`;
  const a = await open(ann);
  await a.frame.getByLabel('Message').fill('hello from ann');
  await a.frame.getByRole('button', { name: 'Send' }).click();
  await expect(a.frame.locator('#log li .text')).toHaveText(['hello from ann']);

  // Ben arrives later and sees the history, then both follow each other live.
  const b = await open(ben);
  await expect(b.frame.locator('#log li')).toHaveText([
    new RegExp(`^\\[.+\\] <${ann}> hello from ann$`),
  ]);
  const html = '<img src=x onerror="document.title=1"> & <b>bold</b>';
  await b.frame.getByLabel('Message').fill(html);
  await b.frame.getByRole('button', { name: 'Send' }).click();
  await expect(a.frame.locator('#log li .text')).toHaveText(['hello from ann', html]);
  await expect(a.frame.locator('#log li .who').nth(1)).toHaveText(`<${ben}> `);
  await expect(a.frame.locator('#log img, #log b')).toHaveCount(0);
  await a.frame.getByLabel('Message').fill('welcome ben');
  await a.frame.getByLabel('Message').press('Enter');
  await expect(b.frame.locator('#log li .text')).toHaveText([
    'hello from ann',
    html,
    'welcome ben',
  ]);
  // An empty line is not sent.
  await b.frame.getByRole('button', { name: 'Send' }).click();
  await expect(b.frame.locator('#log li')).toHaveCount(3);
  expectClean(a.watch);
  expectClean(b.watch);
});

test('the MIME viewer opens attachments offered with "Open with …", once the reader agrees', async ({
  page,
  context,
}) => {
  const watch = await watchContext(context);
  const base = baseUrl();
  const viewer = `Viewer ${unique}`;
  const viewerId = await installApplet(viewer, bundle('applets/mime-viewer/main.ts'), {
    handles_mime_types: ['text/csv', 'image/*'],
  });
  const poster = `poster${unique}`;
  const { token } = await registerViaApi(base, poster);
  const csv = 'name,comment\nann,"likes, commas"\nben,<b>not bold</b>\n';
  const csvHash = await upload(token, csv, 'data.csv', 'text/csv');
  const pngHash = await upload(token, gradientPng(40, 30), 'pic.png', 'image/png');
  const textHash = await upload(token, 'just text', 'notes.txt', 'text/plain');
  const boards = await apiCall<{ items: Array<{ id: string; name: string }> }>(
    base,
    '/api/boards/',
    { token },
  );
  const general = boards.items.find((b) => b.name === 'General')!;
  const message = await apiCall<{ id: string }>(base, '/api/messages/', {
    token,
    body: {
      board_id: general.id,
      subject: 'Files to view',
      body: 'see attached',
      attachments: [csvHash, pngHash, textHash],
    },
  });
  const reader = `reader${unique}`;
  await registerViaApi(base, reader);
  await logInThroughForm(page, reader);
  await page.goto(`/messages/${message.id}`);
  // Offered on the types it handles, not on the others.
  await expect(page.getByRole('link', { name: `Open pic.png with ${viewer}` })).toBeVisible();
  await expect(page.getByRole('link', { name: `Open notes.txt with ${viewer}` })).toHaveCount(0);
  await page.getByRole('link', { name: `Open data.csv with ${viewer}` }).click();
  await expect(
    page.getByText(`Open data.csv (text/csv, ${csv.length} B) with ${viewer}?`),
  ).toBeVisible();
  // Nothing runs before the reader agrees.
  await expect(page.locator('iframe')).toHaveCount(0);
  await page.getByRole('button', { name: 'Open' }).click();
  const frame = page.frameLocator(`iframe[title="${viewer}"]`);
  await expect(frame.locator('#heading')).toHaveText(`data.csv · text/csv · ${csv.length} bytes`);
  await expect(frame.locator('tr')).toHaveText([
    'namecomment',
    'annlikes, commas',
    'ben<b>not bold</b>',
  ]);
  await expect(frame.locator('td b')).toHaveCount(0);

  await page.goto(`/messages/${message.id}`);
  await page.getByRole('link', { name: `Open pic.png with ${viewer}` }).click();
  await page.getByRole('button', { name: 'Open' }).click();
  const image = frame.getByRole('img', { name: 'pic.png' });
  await expect(image).toBeVisible();
  await expect.poll(() => image.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(40);

  // A made-up link for a type the applet does not open runs nothing.
  await page.goto(`/applets/${viewerId}?attachment=${textHash}&filename=notes.txt&type=text/plain`);
  await expect(page.getByRole('alert')).toHaveText(
    `${viewer} does not open text/plain files; nothing was run.`,
  );
  await expect(page.locator('iframe')).toHaveCount(0);
  // Opened without an attachment, it says what it is for.
  await page.goto(`/applets/${viewerId}`);
  await expect(frame.locator('#heading')).toContainText('Open an attachment with this viewer');
  expectClean(watch);
});
