// What the browser tests share: the API for setting the stage quickly, and checks that run in
// every page (requests only to the app's own origin, no dialogs, no CSP violations).
import {
  expect,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Page,
} from '@playwright/test';
import { registrationProof } from '../../src/test-support/registration.js';

export const PASSWORD = 'correct horse battery staple';
export const SYSOP = 'sysop';
export const MODERATOR = 'mod';

export const baseUrl = () => {
  const url = process.env.AXON_BROWSER_TEST_URL;
  if (url === undefined) throw new Error('AXON_BROWSER_TEST_URL is set by global-setup.ts');
  return url;
};

interface Envelope<T> {
  success: boolean;
  data: T;
  error: { code: string; message: string } | null;
}

export async function apiCall<T = Record<string, unknown>>(
  base: string,
  path: string,
  options: { token?: string; body?: unknown; method?: string } = {},
): Promise<T> {
  const response = await fetch(base + path, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(options.body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...(options.token === undefined ? {} : { Authorization: `Bearer ${options.token}` }),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const envelope = (await response.json()) as Envelope<T>;
  if (!response.ok)
    throw new Error(`${path}: ${response.status} ${JSON.stringify(envelope.error)}`);
  return envelope.data;
}

export const login = (base: string, username: string) =>
  apiCall<{ token: string; user: { id: string; fingerprint: string } }>(base, '/api/auth/login/', {
    body: { username, password: PASSWORD },
  });

export const registerViaApi = async (base: string, username: string, nickname?: string) =>
  apiCall<{ token: string; recovery_key: string; user: { id: string; fingerprint: string } }>(
    base,
    '/api/auth/register/',
    {
      body: {
        username,
        password: PASSWORD,
        ...(nickname === undefined ? {} : { nickname }),
        ...(await registrationProof(base)),
      },
    },
  );

/** Everything a page did that it must never do, collected while a test runs. */
export interface Watch {
  foreignRequests: string[];
  dialogs: string[];
  cspViolations: string[];
  pageErrors: string[];
}

/** Watches every page of the context: requests' origins, dialogs, CSP reports, uncaught errors. */
export async function watchContext(context: BrowserContext): Promise<Watch> {
  const watch: Watch = { foreignRequests: [], dialogs: [], cspViolations: [], pageErrors: [] };
  const origin = new URL(baseUrl()).origin;
  context.on('request', (request) => {
    const url = new URL(request.url());
    if ((url.protocol === 'http:' || url.protocol === 'https:') && url.origin !== origin) {
      watch.foreignRequests.push(request.url());
    }
  });
  await context.exposeBinding('__axonCspViolation', (_source, text: string) => {
    watch.cspViolations.push(text);
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      (window as unknown as { __axonCspViolation: (t: string) => void }).__axonCspViolation(
        `${event.violatedDirective} ${event.blockedURI}`,
      );
    });
  });
  context.on('page', (page) => watchPage(page, watch));
  for (const page of context.pages()) watchPage(page, watch);
  return watch;
}

function watchPage(page: Page, watch: Watch) {
  page.on('dialog', (dialog) => {
    watch.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => watch.pageErrors.push(error.message));
}

export function expectClean(watch: Watch) {
  expect(watch.foreignRequests, 'requests to other origins').toEqual([]);
  expect(watch.dialogs, 'dialogs opened').toEqual([]);
  expect(watch.cspViolations, 'CSP violations').toEqual([]);
  expect(watch.pageErrors, 'uncaught errors').toEqual([]);
}

export async function logInThroughForm(page: Page, username: string) {
  await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByText('Signed in as')).toBeVisible();
}

/** A fresh browser context, watched, signed in through the form as `username` (null: a visitor). */
export async function openAs(
  browser: Browser,
  username: string | null,
  options: BrowserContextOptions = {},
): Promise<{ context: BrowserContext; page: Page; watch: Watch }> {
  const context = await browser.newContext(options);
  const watch = await watchContext(context);
  const page = await context.newPage();
  if (username !== null) await logInThroughForm(page, username);
  return { context, page, watch };
}

export async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: true });
}
