import { expect, expectAccessible, PASSWORD, screenshots, test, uniqueName } from './fixtures.js';

test('a visitor signs up, sees a zero balance and signs out', async ({ page }) => {
  await page.goto('/');
  // Signed out: the app sends the visitor to sign in.
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  await expectAccessible(page);
  await screenshots(page, 'sign-in');

  await page.getByRole('link', { name: 'Create an account' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Create an account' })).toBeVisible();
  await expectAccessible(page);

  // The form shows the API's own message for a password that is too short.
  const username = uniqueName('alice');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('alert')).toContainText(/password/i);
  await expectAccessible(page);

  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Dashboard' })).toBeVisible();
  await expect(page.getByTestId('balance')).toHaveText('0.00 EUR');
  await expect(page.getByText('No active offers yet.')).toBeVisible();
  await screenshots(page, 'dashboard-new');

  // The session survives a reload: the access token was in memory only, the cookie restores it.
  await page.reload();
  await expect(page.getByTestId('balance')).toHaveText('0.00 EUR');
  expect(await page.evaluate('JSON.stringify(window.localStorage)')).toBe('{}');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  await page.reload();
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();

  // And back in with the same credentials.
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('balance')).toHaveText('0.00 EUR');
});
