// Every step with the keyboard alone: no clicks.
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixtures.js';

/** Presses Tab until `target` has the focus (at most `max` times). */
async function tabTo(page: Page, target: Locator, max = 60): Promise<void> {
  for (let i = 0; i < max; i += 1) {
    if (await target.evaluate((element) => element === element.ownerDocument.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`could not reach ${target} with Tab`);
}

test('activate an offer and turn auto-renew on with the keyboard only', async ({ page, admin, customer }) => {
  await admin.credit(customer.id, '20.00');
  await expect(page.getByTestId('balance')).toHaveText('20.00 EUR', { timeout: 20_000 });

  await tabTo(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Offers' }));
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: 'Offers' })).toBeFocused();

  await tabTo(page, page.getByRole('button', { name: 'Activate TV Basic' }));
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Activate TV Basic?' });
  await expect(dialog).toBeVisible();
  // Escape cancels and gives the focus back to the button that opened it.
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Activate TV Basic' })).toBeFocused();

  await page.keyboard.press('Enter');
  await tabTo(page, page.getByRole('button', { name: 'Confirm and pay 12.50 EUR' }), 10);
  await page.keyboard.press('Enter');
  const progress = page.getByRole('dialog', { name: 'Activating TV Basic' });
  await expect(progress.getByText('SUCCESS', { exact: true })).toBeVisible({ timeout: 30_000 });
  await tabTo(page, progress.getByRole('button', { name: 'Close' }), 10);
  await page.keyboard.press('Enter');
  await expect(progress).toHaveCount(0);

  await tabTo(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }));
  await page.keyboard.press('Enter');
  const autoRenew = page.getByRole('switch', { name: 'Auto-renew TV Basic' });
  await tabTo(page, autoRenew);
  await page.keyboard.press('Space');
  await expect(autoRenew).toHaveAttribute('aria-checked', 'true');
  await expect(page.getByTestId('balance')).toHaveText('7.50 EUR');

  await tabTo(page, page.getByRole('button', { name: 'Sign out', exact: true }));
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
});
