import { expect, test } from './fixtures.js';

test('without enough money the catalogue says why instead of offering to pay', async ({ page, admin, customer }) => {
  await admin.credit(customer.id, '10.00');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Offers' }).click();
  await expect(page.getByTestId('balance')).toHaveText('10.00 EUR');

  const internet = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Internet 100', exact: true }) });
  await expect(internet.getByText('Not enough balance: you have 10.00 EUR, 10.00 EUR short.')).toBeVisible();
  const unavailable = internet.getByRole('button', { name: 'Activate Internet 100', exact: true });
  await expect(unavailable).toHaveAttribute('aria-disabled', 'true');
  await expect(unavailable).toHaveAccessibleDescription('Not enough balance: you have 10.00 EUR, 10.00 EUR short.');
  await unavailable.focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('dialog')).toHaveCount(0);

  // An offer the balance covers can still be bought.
  const pass = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Weekend Data Pass' }) });
  await expect(pass.getByRole('button', { name: 'Activate Weekend Data Pass' })).not.toHaveAttribute('aria-disabled', 'true');
  await pass.getByRole('button', { name: 'Activate Weekend Data Pass' }).click();
  await expect(page.getByRole('dialog').getByTestId('balance-after')).toHaveText('5.01 EUR');
  await page.getByRole('dialog').getByRole('button', { name: 'Confirm and pay 4.99 EUR' }).click();
  await expect(page.getByRole('dialog').getByText('SUCCESS', { exact: true })).toBeVisible({ timeout: 30_000 });
  await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();

  // Now 5.01 EUR is left: the cards say so, and the three-day pass is flagged as expiring soon.
  await expect(pass.getByText('Not enough balance: you have 5.01 EUR, 14.99 EUR short.')).toHaveCount(0);
  await expect(internet.getByText('Not enough balance: you have 5.01 EUR, 14.99 EUR short.')).toBeVisible();
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Expiring soon:' })).toContainText('Weekend Data Pass');
});
