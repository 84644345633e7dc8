import { expect, test } from './fixtures.js';

test('the history pages through cursors, newest first', async ({ page, admin, customer }) => {
  for (let i = 1; i <= 23; i += 1) await admin.credit(customer.id, `${i}.00`, `Credit number ${i}`);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
  const rows = page.getByRole('row');
  await expect(page.getByText('23 transactions')).toBeVisible();
  await expect(rows).toHaveCount(21); // the header and 20 rows
  await expect(rows.nth(1)).toContainText('Credit number 23');
  await expect(page.getByRole('button', { name: 'Newer' })).toBeDisabled();

  await page.getByRole('button', { name: 'Older' }).click();
  await expect(page).toHaveURL(/cursor=/);
  await expect(rows).toHaveCount(4);
  await expect(rows.nth(1)).toContainText('Credit number 3');
  await expect(rows.nth(3)).toContainText('Credit number 1');
  await expect(page.getByRole('button', { name: 'Older' })).toBeDisabled();

  // The page is in the address: a reload stays on it.
  await page.reload();
  await expect(rows.nth(3)).toContainText('Credit number 1');
  await page.getByRole('button', { name: 'Newer' }).click();
  await expect(rows).toHaveCount(21);
  await expect(rows.nth(1)).toContainText('Credit number 23');
});
