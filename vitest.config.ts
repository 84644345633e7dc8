import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The browser tests are Playwright's (npm run test:e2e).
    exclude: ['test/e2e/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one fewer than the cores: one file at a time on a 2-core machine. Most files
    // wait on spawned servers, PostgreSQL or PGlite's thread, so two at a time finish sooner.
    maxWorkers: 2,
    reporters: process.env.CI ? ['default'] : ['default'],
    // On for `npm test` (its --coverage flag), off for single-file runs while working.
    // Code run by the server processes the tests spawn is not measured, only the test workers.
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
    },
  },
});
