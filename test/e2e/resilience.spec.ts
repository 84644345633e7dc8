// Errors in words: a lost connection says so and recovers; an unknown address is a page, not a blank.
import { expect, PASSWORD, signIn, test } from './fixtures.js';
import { serverInfo } from './servers.js';

test('a lost connection is announced, and the page recovers when it is back', async ({ page, context, customer }) => {
  expect(customer.username).toBeTruthy();
  await context.setOffline(true);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Connection lost. Trying to reconnect…' })).toBeVisible();
  await context.setOffline(false);
  await expect(page.getByRole('status').filter({ hasText: 'Connection restored.' })).toBeVisible({ timeout: 20_000 });
  await expect(page.getByText('No transactions yet.')).toBeVisible({ timeout: 20_000 });
});

test('an unknown page and a transaction that is not yours are explained', async ({ page, customer }) => {
  expect(customer.username).toBeTruthy();
  await page.goto('/nowhere');
  await expect(page.getByRole('heading', { level: 1, name: 'Page not found' })).toBeVisible();
  await page.goto('/history/00000000-0000-4000-8000-000000000000');
  await expect(page.getByRole('alert')).toContainText(/not found/i);
});

test('the admin console is for admins only, and loads as its own chunk', async ({ page, customer }) => {
  expect(customer.username).toBeTruthy();
  await page.goto('/admin');
  await expect(page.getByRole('heading', { level: 1, name: 'Not allowed' })).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' })).toHaveCount(0);
});

test('an admin opens the console from the navigation', async ({ page }) => {
  await signIn(page, serverInfo('embedded').admin);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Admin' })).toBeVisible();
});

test('signing out everywhere ends the sessions of other browsers too', async ({ page, browser, customer }) => {
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await signIn(otherPage, { username: customer.username, password: PASSWORD });

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Profile' }).click();
  await page.getByRole('button', { name: 'Sign out everywhere' }).click();
  await expect(page.getByText('You are signed out on every device.')).toBeVisible();

  // The other browser finds out at its next request, and says why.
  await otherPage.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
  await expect(otherPage.getByText('Your session has ended. Please sign in again.')).toBeVisible();
  await otherPage.reload();
  await expect(otherPage.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  await other.close();
});
