// Every screen of the web client checked by axe-core in real Chromium, at a phone's width and a
// desktop's: no serious or critical violation. A new screen is one line in SCREENS.
import { AxeBuilder } from '@axe-core/playwright';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { MODERATOR, SYSOP, apiCall, baseUrl, login } from './support.js';

/** What the screens show: a board, a thread, a private message; made once. */
interface Stage {
  boardId: string;
  messageId: string;
  privateMessageId: string;
  fingerprint: string;
}

interface Screen {
  name: string;
  path: (stage: Stage) => string;
  /** Visitors see the sign-in screens; everything else is seen signed in as a sysop. */
  signedIn: boolean;
  /** A name on the screen once its data is there (a heading, a label, a button). */
  ready: string | RegExp;
}

const SCREENS: Screen[] = [
  { name: 'login', path: () => '/login', signedIn: false, ready: 'Log in' },
  { name: 'register', path: () => '/register', signedIn: false, ready: 'Register' },
  { name: 'recover', path: () => '/recover', signedIn: false, ready: /recover/i },
  { name: 'boards', path: () => '/boards', signedIn: true, ready: 'General' },
  { name: 'board', path: (s) => `/boards/${s.boardId}`, signedIn: true, ready: 'General' },
  { name: 'compose', path: (s) => `/boards/${s.boardId}/new`, signedIn: true, ready: 'Subject' },
  { name: 'message', path: (s) => `/messages/${s.messageId}`, signedIn: true, ready: 'Axe check' },
  {
    name: 'remote author',
    path: (s) => `/authors/${s.fingerprint}`,
    signedIn: true,
    ready: /author|not found|no such/i,
  },
  { name: 'search', path: () => '/search?q=axe', signedIn: true, ready: 'Search' },
  { name: 'private messages', path: () => '/pm', signedIn: true, ready: 'Axe letter' },
  { name: 'new private message', path: () => '/pm/new', signedIn: true, ready: 'Subject' },
  {
    name: 'private message',
    path: (s) => `/pm/${s.privateMessageId}`,
    signedIn: true,
    ready: 'Axe letter',
  },
  {
    name: 'conversation',
    path: (s) => `/pm/with/${s.fingerprint}`,
    signedIn: true,
    ready: 'Axe letter',
  },
  {
    name: 'person',
    path: (s) => `/people/${s.fingerprint}`,
    signedIn: true,
    ready: 'Send a private message',
  },
  { name: 'notifications', path: () => '/notifications', signedIn: true, ready: /notifications/i },
  { name: 'chat', path: () => '/chat', signedIn: true, ready: 'AxonChat' },
  { name: 'applets', path: () => '/applets', signedIn: true, ready: /applet/i },
  { name: 'profile', path: () => '/profile', signedIn: true, ready: 'Nickname' },
  { name: 'moderation', path: () => '/moderation', signedIn: true, ready: 'Reports' },
  { name: 'admin', path: () => '/admin', signedIn: true, ready: /boards/i },
  { name: 'no page here', path: () => '/no-such-page', signedIn: true, ready: /no page here/i },
];

const WIDTHS = [375, 1280];

let stage: Stage;

test.beforeAll(async () => {
  const sysop = await login(baseUrl(), SYSOP);
  const boards = await apiCall<{ items: { id: string; name: string }[] }>(
    baseUrl(),
    '/api/boards/',
    { token: sysop.token },
  );
  const boardId = boards.items.find((b) => b.name === 'General')!.id;
  const message = await apiCall<{ id: string }>(baseUrl(), '/api/messages/', {
    token: sysop.token,
    body: { board_id: boardId, subject: 'Axe check', body: 'A **thread** to look at.' },
  });
  const mod = await login(baseUrl(), MODERATOR);
  const letter = await apiCall<{ id: string }>(baseUrl(), '/api/private_messages/', {
    token: mod.token,
    body: { to: SYSOP, subject: 'Axe letter', body: 'A letter to look at.' },
  });
  stage = {
    boardId,
    messageId: message.id,
    privateMessageId: letter.id,
    fingerprint: mod.user.fingerprint,
  };
});

/** A page at this width, signed in as the sysop (the session the client keeps) when asked. */
async function pageAt(browser: Browser, width: number, signedIn: boolean): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  if (signedIn) {
    const session = await apiCall<{ token: string; expires_at: string; user: unknown }>(
      baseUrl(),
      '/api/auth/login/',
      { body: { username: SYSOP, password: 'correct horse battery staple' } },
    );
    await context.addInitScript(
      (value) => {
        localStorage.setItem('axon.session', value);
      },
      JSON.stringify({ token: session.token, expiresAt: session.expires_at, user: session.user }),
    );
  }
  return context.newPage();
}

for (const width of WIDTHS) {
  test.describe(`at ${width} px`, () => {
    for (const screen of SCREENS) {
      test(`${screen.name} has no serious or critical violations`, async ({ browser }) => {
        const page = await pageAt(browser, width, screen.signedIn);
        await page.goto(screen.path(stage));
        await expect(page.getByText(screen.ready).first()).toBeVisible();
        await expect(page.getByRole('status').filter({ hasText: /^Loading/ })).toHaveCount(0);
        const results = await new AxeBuilder({ page }).analyze();
        const serious = results.violations
          .filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .map((v) => ({
            rule: v.id,
            impact: v.impact,
            help: v.help,
            nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
          }));
        expect(serious, JSON.stringify(serious, null, 2)).toEqual([]);
        await page.context().close();
      });
    }
  });
}
