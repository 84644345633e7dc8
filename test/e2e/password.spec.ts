// Changing the password on the profile page: the API's refusal is shown, the change sticks across
// signing out and in again, and the form passes the accessibility check.
import { expect, expectAccessible, PASSWORD, test } from './fixtures.js';

const NEW_PASSWORD = 'a brand new passphrase';

test('change the password, sign out, sign in with the new one', async ({ page, customer }) => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Profile' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Password' })).toBeVisible();
  await expectAccessible(page);

  const current = page.getByLabel('Current password', { exact: true });
  const next = page.getByLabel('New password', { exact: true });
  const confirm = page.getByLabel('Confirm new password', { exact: true });
  const submit = page.getByRole('button', { name: 'Change password' });

  // A wrong current password: the API's own message, and nothing changed.
  await current.fill('not my password');
  await next.fill(NEW_PASSWORD);
  await confirm.fill(NEW_PASSWORD);
  await submit.click();
  await expect(page.getByRole('alert')).toHaveText('The current password is not correct');
  await expectAccessible(page);

  // The confirmation must match before anything is sent.
  await current.fill(PASSWORD);
  await confirm.fill('something else entirely');
  await submit.click();
  await expect(page.getByText('The two new passwords do not match.')).toBeVisible();

  await confirm.fill(NEW_PASSWORD);
  const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/password/') && r.request().method() === 'POST');
  await submit.click();
  expect((await answered).status()).toBe(204);
  await expect(page.getByRole('status').filter({ hasText: 'Password changed.' })).toBeVisible();
  await expect(current).toHaveValue('');
  await expectAccessible(page);

  // The current session kept working: the page still talks to the API.
  await page.reload();
  await expect(page.getByRole('heading', { level: 1, name: 'Profile' })).toBeVisible();

  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  await page.goto('/signin');
  await page.getByLabel('Username').fill(customer.username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await page.getByLabel('Password').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('button', { name: 'Sign out', exact: true })).toBeVisible();
  await expect(page.getByRole('banner').getByText(customer.username)).toBeVisible();
});
