// A first visit, with nothing in the browser's cache: the app is on screen within a second on the
// embedded server. The server is warmed up first (its own first requests read the files); the test
// runs after the others (its own project) and takes the fastest of three fresh browsers, since a
// busy machine only ever adds time.
import type { Browser } from '@playwright/test';
import { expect, test } from './fixtures.js';

async function firstLoad(browser: Browser, baseURL: string): Promise<{ load: number; bytes: number }> {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await page.goto('/signin');
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  const timing = await page.evaluate<{ load: number; bytes: number }>(`(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const bytes = performance.getEntriesByType('resource').reduce((sum, r) => sum + r.transferSize, nav.transferSize);
    return { load: nav.loadEventEnd, bytes };
  })()`);
  await context.close();
  return timing;
}

test('the first load takes under a second', async ({ browser, baseURL }) => {
  await firstLoad(browser, baseURL!);
  const runs = [await firstLoad(browser, baseURL!), await firstLoad(browser, baseURL!), await firstLoad(browser, baseURL!)];
  const loads = runs.map((run) => Math.round(run.load)).sort((a, b) => a - b);
  process.stdout.write(`first load: ${loads.join(', ')} ms, ${Math.round(runs[0]!.bytes / 1024)} KB transferred\n`);
  expect(loads[0]).toBeLessThan(1000);
});
