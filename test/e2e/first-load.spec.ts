// The first visit, nothing cached: the app is on screen within a second on the embedded server.
import { expect, test } from './fixtures.js';

test('the first load takes under a second', async ({ page }) => {
  await page.goto('/signin');
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  const timing = await page.evaluate<{ domContentLoaded: number; load: number; bytes: number }>(`(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const bytes = performance.getEntriesByType('resource').reduce((sum, r) => sum + r.transferSize, nav.transferSize);
    return { domContentLoaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd, bytes };
  })()`);
  process.stdout.write(`first load: ${Math.round(timing.load)} ms, ${Math.round(timing.bytes / 1024)} KB transferred\n`);
  expect(timing.load).toBeLessThan(1000);
});
