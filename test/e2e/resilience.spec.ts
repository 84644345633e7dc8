// Errors in words: a lost connection says so and recovers; an unknown address is a page, not a blank.
import { expect, expectAccessible, PASSWORD, signIn, test } from './fixtures.js';
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
  await expectAccessible(page);
  await page.goto('/history/00000000-0000-4000-8000-000000000000');
  await expect(page.getByRole('alert')).toContainText(/not found/i);
});

test('the admin console is for admins only, and loads as its own chunk', async ({ page, customer }) => {
  expect(customer.username).toBeTruthy();
  await page.goto('/admin');
  await expect(page.getByRole('heading', { level: 1, name: 'Not allowed' })).toBeVisible();
  await expectAccessible(page);
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' })).toHaveCount(0);
});

test('an admin opens the console from the navigation', async ({ page }) => {
  await signIn(page, serverInfo('embedded').admin);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
  // The console opens on its users page, with its own navigation.
  await expect(page).toHaveURL(/\/admin(\/users)?$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Audit trail' })).toBeVisible();
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

test('without the event stream, an activation is followed by polling', async ({ page, admin, customer }) => {
  let streamAttempts = 0;
  await page.route('**/api/v1/events/stream/**', (route) => {
    streamAttempts += 1;
    return route.abort();
  });
  // The first look finds the activation unfinished, whatever the machine's speed: only a later
  // look (a poll, as no event can come) can see it settled.
  let looks = 0;
  await page.route('**/api/v1/activation/status/**', async (route) => {
    const response = await route.fetch();
    const body = (await response.json()) as Record<string, unknown>;
    looks += 1;
    await route.fulfill({ response, json: looks === 1 ? { ...body, status: 'PROCESSING', completed_at: null, reference: null } : body });
  });
  await admin.credit(customer.id, '20.00');
  // The stream opened at sign-up: a reload makes the page ask for it again, and be refused.
  await page.goto('/offers');
  await expect.poll(() => streamAttempts).toBeGreaterThan(0);
  await expect(page.getByTestId('balance')).toHaveText('20.00 EUR');
  await page.getByRole('button', { name: 'Activate TV Basic' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Confirm and pay 12.50 EUR' }).click();
  const progress = page.getByRole('dialog', { name: 'Activating TV Basic' });
  await expect(progress.getByText('SUCCESS', { exact: true })).toBeVisible({ timeout: 30_000 });
  expect(looks).toBeGreaterThan(1);
});

test('an expired access token is refreshed through the cookie and the request retried', async ({ page, customer }) => {
  expect(customer.username).toBeTruthy();
  let refused = 0;
  // The API's answer to an access token that is no longer valid, once.
  await page.route('**/api/v1/account/transactions/**', async (route) => {
    if (refused > 0) return route.continue();
    refused += 1;
    await route.fulfill({ status: 401, contentType: 'application/json', body: JSON.stringify({ error: 'Token expired', code: 'invalid_token' }) });
  });
  const refreshed = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/browser/refresh/') && r.status() === 200);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
  await refreshed;
  await expect(page.getByText('No transactions yet.')).toBeVisible();
  expect(refused).toBe(1);
});

test('a page whose code cannot be fetched says so instead of going blank', async ({ page }) => {
  await signIn(page, serverInfo('embedded').admin);
  await page.route('**/assets/AdminApp-*.js', (route) => route.abort());
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
  await expect(page.getByRole('alert')).toContainText('Something went wrong while showing this page.');
  // The rest of the app still works.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Dashboard' })).toBeVisible();
});
