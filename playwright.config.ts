// Browser tests of the web app (test/e2e) in Debian's Chromium, against the built server
// (`npm run test:e2e` builds first). test/e2e/global-setup.ts starts the servers: the embedded
// default, one whose simulated partner refuses every activation, and, when TEST_DATABASE_URL and
// TEST_REDIS_URL are set, ROLE=api + ROLE=worker processes on PostgreSQL + Redis.
import { defineConfig } from '@playwright/test';
import type { ServerName } from './test/e2e/servers.js';

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const scaled = Boolean(process.env.TEST_DATABASE_URL && process.env.TEST_REDIS_URL);

export default defineConfig<object, { server: ServerName }>({
  testDir: 'test/e2e',
  testMatch: '*.spec.ts',
  globalSetup: './test/e2e/global-setup.ts',
  outputDir: 'test-results/e2e',
  fullyParallel: false,
  workers: 2,
  retries: 0,
  forbidOnly: Boolean(process.env.CI),
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: process.env.CI ? [['list']] : [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    browserName: 'chromium',
    viewport: { width: 1280, height: 800 },
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: chromium,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  projects: [
    { name: 'embedded', testIgnore: 'first-load.spec.ts', use: { server: 'embedded' } },
    ...(scaled ? [{ name: 'postgres', testMatch: 'journey.spec.ts', use: { server: 'postgres' as const } }] : []),
    // Timed, so alone: after the others.
    { name: 'first-load', testMatch: 'first-load.spec.ts', dependencies: scaled ? ['embedded', 'postgres'] : ['embedded'], use: { server: 'embedded' } },
  ],
});
