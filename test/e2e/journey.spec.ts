// A new customer's whole journey. Runs on the embedded server and, when TEST_DATABASE_URL and
// TEST_REDIS_URL are set, against ROLE=api + ROLE=worker processes on PostgreSQL + Redis.
import { expect, screenshots, signUp, test } from './fixtures.js';

test('sign up, get credit, activate live, see the history, turn auto-renew on, sign out', async ({ page, admin }) => {
  const customer = await signUp(page);
  await expect(page.getByTestId('balance')).toHaveText('0.00 EUR');

  await admin.credit(customer.id, '50.00');
  // The credit arrives over the event stream (or at the next look): the balance updates by itself.
  await expect(page.getByTestId('balance')).toHaveText('50.00 EUR', { timeout: 20_000 });
  await expect(page.getByRole('link', { name: /Notifications, [1-9]\d* unread/ })).toBeVisible({ timeout: 20_000 });

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Offers' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Offers' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Activate Internet 100', exact: true })).toBeVisible();
  await screenshots(page, 'offers');

  await page.getByRole('button', { name: 'Activate Internet 100', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Activate Internet 100?' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByText('20.00 EUR').first()).toBeVisible();
  await expect(dialog.getByTestId('balance-after')).toHaveText('30.00 EUR');
  await screenshots(page, 'activate-confirm');

  await dialog.getByRole('button', { name: 'Confirm and pay 20.00 EUR' }).click();
  const progress = page.getByRole('dialog', { name: 'Activating Internet 100' });
  await expect(progress.getByText('SUCCESS', { exact: true })).toBeVisible({ timeout: 30_000 });
  await expect(progress.getByText(/Internet 100 is active\. Reference SIM-/)).toBeVisible();
  await screenshots(page, 'activation-success');
  await progress.getByRole('button', { name: 'Close' }).click();
  await expect(page.getByTestId('balance')).toHaveText('30.00 EUR');

  await page.getByRole('link', { name: 'Dashboard' }).click();
  await expect(page.getByTestId('balance')).toHaveText('30.00 EUR');
  const autoRenew = page.getByRole('switch', { name: 'Auto-renew Internet 100' });
  await expect(autoRenew).toHaveAttribute('aria-checked', 'false');
  await expect(page.getByText(/29 days|30 days/)).toBeVisible();
  await autoRenew.click();
  await expect(autoRenew).toHaveAttribute('aria-checked', 'true');
  await expect(page.getByText('Auto-renew for Internet 100 is on.')).toBeVisible();
  await page.reload();
  await expect(page.getByRole('switch', { name: 'Auto-renew Internet 100' })).toHaveAttribute('aria-checked', 'true');
  await screenshots(page, 'dashboard');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'History' })).toBeVisible();
  const rows = page.getByRole('row');
  await expect(rows).toHaveCount(3); // header, activation, credit
  await expect(rows.nth(1)).toContainText('Internet 100');
  await expect(rows.nth(1)).toContainText('SUCCESS');
  await expect(rows.nth(2)).toContainText('Welcome credit');
  await screenshots(page, 'history');
  await page.getByLabel('Type').selectOption('CREDIT');
  await expect(page).toHaveURL(/type=CREDIT/);
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(1)).toContainText('+50.00 EUR');
  await page.getByLabel('Type').selectOption('');
  await page.getByRole('link', { name: 'Internet 100' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Transaction' })).toBeVisible();
  await expect(page.getByText(/^SIM-/)).toBeVisible();
  await screenshots(page, 'transaction');

  await page.getByRole('link', { name: /Notifications, \d+ unread/ }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Notifications' })).toBeVisible();
  await expect(page.getByRole('heading', { name: /Internet 100/ }).first()).toBeVisible({ timeout: 20_000 });
  await screenshots(page, 'notifications');
  await page.getByLabel('The balance is running low').uncheck();
  await page.getByRole('button', { name: 'Save email settings' }).click();
  await expect(page.getByText('Email settings saved.')).toBeVisible();
  await page.reload();
  await expect(page.getByLabel('The balance is running low')).not.toBeChecked();
  await expect(page.getByLabel('An activation failed (with its refund)')).toBeChecked();
  await page.getByRole('button', { name: 'Mark all as read' }).click();
  await expect(page.getByText('Nothing unread.')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Notifications, 0 unread' })).toBeVisible();

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Profile' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Profile' })).toBeVisible();
  await page.getByLabel('Email address').fill(`${customer.username}@example.com`);
  await page.getByRole('button', { name: 'Save email' }).click();
  await expect(page.getByText('Email address saved.')).toBeVisible();
  await screenshots(page, 'profile');

  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  await page.goto('/history');
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
});
