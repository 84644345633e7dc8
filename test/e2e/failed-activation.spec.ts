// On a server whose simulated partner refuses every activation (PARTNER_SIM_FAILURE_RATE=1).
import { expect, screenshots, test } from './fixtures.js';

test.use({ server: 'failing' });

test('a failed activation shows the reason and links to its refund', async ({ page, admin, customer }) => {
  await admin.credit(customer.id, '30.00');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Offers' }).click();
  await expect(page.getByTestId('balance')).toHaveText('30.00 EUR');

  await page.getByRole('button', { name: 'Activate Internet 100', exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Confirm and pay 20.00 EUR' }).click();
  const progress = page.getByRole('dialog', { name: 'Activating Internet 100' });
  await expect(progress.getByText('FAILED', { exact: true })).toBeVisible({ timeout: 30_000 });
  await expect(progress.getByText(/The activation failed: .+/)).toBeVisible();
  await expect(progress.getByText('20.00 EUR was refunded to your balance.')).toBeVisible();
  await screenshots(page, 'activation-failed');

  await progress.getByRole('link', { name: 'See the refund' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Transaction' })).toBeVisible();
  await expect(page.getByRole('heading', { level: 2 })).toContainText('Refund');
  await page.getByRole('link', { name: 'See the activation this refunds' }).click();
  await expect(page.getByRole('heading', { level: 2 })).toContainText('Internet 100');
  await expect(page.getByRole('heading', { level: 2 })).toContainText('FAILED');
  await expect(page.getByRole('link', { name: 'See the refund of this activation' })).toBeVisible();

  await page.getByRole('link', { name: 'Back to the history' }).click();
  await page.getByLabel('Status').selectOption('FAILED');
  const rows = page.getByRole('row');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(1)).toContainText('Internet 100');
  await page.getByLabel('Status').selectOption('');
  await page.getByLabel('Type').selectOption('REFUND');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(1)).toContainText('+20.00 EUR');

  await page.getByRole('link', { name: 'Dashboard' }).click();
  await expect(page.getByTestId('balance')).toHaveText('30.00 EUR');
  await expect(page.getByText('No active offers yet.')).toBeVisible();
});
