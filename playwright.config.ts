// Browser tests: real Chromium (Debian's /usr/bin/chromium; nothing is downloaded) against a real
// Axon server on SQLite, started once by test/browser/global-setup.ts.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'test/browser',
  outputDir: 'test-results/browser',
  globalSetup: './test/browser/global-setup.ts',
  fullyParallel: false,
  workers: 1,
  // A hang guard, not a speed assertion: registrations make RSA-3072 keys.
  timeout: 300_000,
  expect: { timeout: 30_000 },
  reporter: [['list']],
  use: {
    baseURL: process.env.AXON_BROWSER_TEST_URL,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
