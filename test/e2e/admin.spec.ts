// The admin console on the embedded server: users (search, credit once on a double click, disable
// and enable, by keyboard alone), offers (create, edit with the price-change notice, hide and show
// as the customer catalogue sees it), the audit trail of those changes, and the system page.
import { ApiUser, signInAsAdmin, tabTo } from './admin-helpers.js';
import { expect, expectAccessible, PASSWORD, screenshots, test, uniqueName } from './fixtures.js';
import { serverInfo } from './servers.js';

interface Transaction {
  type: string;
  amount: string;
}

test.describe('admin console', () => {
  // Long journeys with axe at two sizes on each page, on a machine other jobs share.
  test.describe.configure({ timeout: 240_000 });
  let api: ApiUser;
  test.beforeAll(async ({ server }) => {
    api = await ApiUser.login(serverInfo(server).url, serverInfo(server).admin);
  });
  test.afterAll(async () => api.dispose());

  test('an admin finds a customer, credits them once on a double click, and disables and enables them, by keyboard', async ({ page, server }) => {
    const customer = await api.createCustomer(uniqueName('carol'));
    await signInAsAdmin(page, serverInfo(server).admin);
    await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
    await expectAccessible(page);

    // Keyboard only from here: search by the start of the email, open the user, credit.
    const search = page.getByLabel('Search users');
    await tabTo(page, search);
    await page.keyboard.type(customer.email.slice(0, 12));
    const link = page.getByRole('link', { name: customer.username, exact: true });
    await expect(link).toBeVisible();
    await expect(page.getByText('1 user', { exact: true })).toBeVisible();
    await screenshots(page, 'admin-users');
    await tabTo(page, link);
    await page.keyboard.press('Enter');
    await expect(page.getByRole('heading', { level: 1, name: `User ${customer.username}` })).toBeVisible();
    await expect(page.getByTestId('admin-balance')).toHaveText('0.00 EUR');

    await tabTo(page, page.getByLabel('Amount (EUR)'));
    await page.keyboard.type('25.00');
    await page.keyboard.press('Tab');
    await expect(page.getByLabel('Reason')).toBeFocused();
    await page.keyboard.type('Goodwill after an outage');
    await page.keyboard.press('Enter');
    await expect(page.getByRole('status').filter({ hasText: 'Credited 25.00 EUR. The balance is now 25.00 EUR.' })).toBeVisible();
    await expect(page.getByTestId('admin-balance')).toHaveText('25.00 EUR');

    // An invalid amount: the API's own words next to the field.
    await tabTo(page, page.getByLabel('Amount (EUR)'));
    await page.keyboard.type('-3');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Oops');
    await page.keyboard.press('Enter');
    await expect(page.getByRole('alert').first()).toBeVisible();
    await expectAccessible(page);

    // A double click sends one credit: the form's Idempotency-Key is the same for both.
    const credits: string[] = [];
    // A double click reaches the server twice (the button turns busy only once the first click has
    // rendered); both carry the form's one key, so only the first credits.
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith(`/api/v1/admin/users/${customer.id}/credit/`)) credits.push(r.headers()['idempotency-key'] ?? '');
    });
    await page.getByLabel('Amount (EUR)').fill('10.00');
    await page.getByLabel('Reason').fill('Double-clicked credit');
    await page.getByRole('button', { name: `Credit ${customer.username}` }).dblclick();
    await expect(page.getByText('Credited 10.00 EUR. The balance is now 35.00 EUR.')).toBeVisible();
    await expect(page.getByTestId('admin-balance')).toHaveText('35.00 EUR');
    expect(new Set(credits).size).toBe(1);

    // The answer is lost on the way back (the server did credit): pressing again sends the same key,
    // so the server answers the first result instead of crediting twice.
    let lost = false;
    await page.route(`**/api/v1/admin/users/${customer.id}/credit/`, async (route) => {
      if (lost) return route.continue();
      lost = true;
      await route.fetch();
      await route.abort('connectionreset');
    });
    await page.getByLabel('Amount (EUR)').fill('5.00');
    await page.getByLabel('Reason').fill('Answer lost');
    await page.getByRole('button', { name: `Credit ${customer.username}` }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'The server cannot be reached' })).toBeVisible();
    const replayed = page.waitForResponse((r) => r.url().endsWith(`/users/${customer.id}/credit/`));
    await page.getByRole('button', { name: `Credit ${customer.username}` }).click();
    expect((await replayed).headers()['idempotent-replayed']).toBe('true');
    await expect(page.getByText('Credited 5.00 EUR. The balance is now 40.00 EUR.')).toBeVisible();
    await expect(page.getByTestId('admin-balance')).toHaveText('40.00 EUR');
    expect(credits.slice(-2)[0]).toBe(credits.slice(-1)[0]);
    await page.unroute(`**/api/v1/admin/users/${customer.id}/credit/`);

    const history = await api.json<{ results: Transaction[] }>('GET', `/api/v1/admin/transactions/?user=${customer.id}&type=CREDIT`);
    expect(history.results.map((t) => t.amount).sort()).toEqual(['10.00', '25.00', '5.00']);
    await expect(page.getByRole('table').getByRole('row').filter({ hasText: 'CREDIT' })).toHaveCount(3);
    await screenshots(page, 'admin-user');

    // Disable by keyboard: the customer can no longer sign in; enable lets them back.
    await tabTo(page, page.getByRole('button', { name: `Disable ${customer.username}` }));
    await page.keyboard.press('Enter');
    // The focus moves to the button that undoes it.
    await expect(page.getByRole('button', { name: `Enable ${customer.username}` })).toBeFocused();
    await expect(page.getByText('Disabled', { exact: true }).first()).toBeVisible();
    const refused = await api.http.post('/api/v1/auth/login/', { data: { username: customer.username, password: PASSWORD } });
    expect(refused.status()).toBe(403);
    await page.keyboard.press('Enter');
    await expect(page.getByRole('button', { name: `Disable ${customer.username}` })).toBeFocused();
    const allowed = await api.http.post('/api/v1/auth/login/', { data: { username: customer.username, password: PASSWORD } });
    expect(allowed.status()).toBe(200);

    // The audit trail shows the credit, with its reason, under this admin's name.
    await page.getByRole('link', { name: 'Audit trail' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Audit trail' })).toBeVisible();
    await page.getByLabel('Action').fill('balance.credit');
    await page.getByLabel('Target').fill(`user:${customer.id}`);
    await page.getByRole('button', { name: 'Filter' }).click();
    const rows = page.getByRole('table').getByRole('row').filter({ hasText: 'balance.credit' });
    await expect(rows).toHaveCount(3);
    await expect(rows.filter({ hasText: 'Goodwill after an outage' })).toContainText(serverInfo(server).admin.username);
    await screenshots(page, 'admin-audit');
  });

  test('an admin creates an offer, changes its price with a notice, and hides and shows it in the catalogue', async ({ page, server }) => {
    const name = uniqueName('Fibre');
    const customer = await api.createCustomer(uniqueName('dave'));
    const shopper = await ApiUser.login(serverInfo(server).url, customer);
    const catalogue = async () => (await shopper.json<{ results: { name: string; price: string }[] }>('GET', '/api/v1/offers/?limit=200')).results.find((o) => o.name === name);

    await signInAsAdmin(page, serverInfo(server).admin, '/admin/offers');
    await expect(page.getByRole('heading', { level: 1, name: 'Offers' })).toBeVisible();
    const form = page.getByRole('form', { name: 'New offer' });
    // The API's refusal in words: no price yet.
    await form.getByLabel('Name').fill(name);
    await form.getByRole('button', { name: 'Create offer' }).click();
    await expect(form.getByRole('alert')).toBeVisible();
    await form.getByLabel('Price (EUR)').fill('12.00');
    await form.getByLabel('Description').fill('1 Gbit/s, made by the e2e test');
    await form.getByRole('button', { name: 'Create offer' }).click();
    const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name }) });
    await expect(card).toContainText('12.00 EUR');
    expect(await catalogue()).toMatchObject({ price: '12.00' });

    // Editing the price says what it affects before saving.
    // By keyboard: the form takes the place of the button, and the focus goes into it.
    await tabTo(page, card.getByRole('button', { name: `Edit ${name}` }));
    await page.keyboard.press('Enter');
    const edit = page.getByRole('form', { name: `Edit ${name}` });
    await expect(edit.getByLabel('Name')).toBeFocused();
    await page.keyboard.press('Tab');
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.type('14.50');
    await expect(edit.getByLabel('Price (EUR)')).toHaveValue('14.50');
    await expect(edit.getByRole('status')).toContainText('from 12.00 EUR to 14.50 EUR');
    await expect(edit.getByRole('status')).toContainText('auto-renewal');
    await expectAccessible(page);
    await screenshots(page, 'admin-offer-price-change');
    await edit.getByRole('button', { name: `Save ${name}` }).click();
    await expect(card).toContainText('14.50 EUR');
    // Saved: back on the button that opened the form.
    await expect(card.getByRole('button', { name: `Edit ${name}` })).toBeFocused();
    expect(await catalogue()).toMatchObject({ price: '14.50' });

    // Hide and show with the keyboard (Space on the switch).
    const visible = card.getByRole('switch', { name: `Show ${name} in the catalogue` });
    await expect(visible).toHaveAttribute('aria-checked', 'true');
    await visible.focus();
    await page.keyboard.press('Space');
    await expect(visible).toHaveAttribute('aria-checked', 'false');
    await expect(card).toContainText('Hidden');
    expect(await catalogue()).toBeUndefined();
    await page.keyboard.press('Space');
    await expect(visible).toHaveAttribute('aria-checked', 'true');
    expect(await catalogue()).toMatchObject({ price: '14.50' });
    await screenshots(page, 'admin-offers');
    await shopper.dispose();
  });

  test('the system page shows health, readiness and the activation queue', async ({ page, server }) => {
    await signInAsAdmin(page, serverInfo(server).admin, '/admin/system');
    await expect(page.getByRole('heading', { level: 1, name: 'System' })).toBeVisible();
    await expect(page.getByRole('list', { name: 'Readiness checks' })).toContainText('ok');
    await expect(page.getByText('ready', { exact: true })).toBeVisible();
    await expect(page.getByTestId('queue-Needing review')).toHaveText(/^\d+$/);
    await screenshots(page, 'admin-system');
  });

  test('a customer cannot open the admin console', async ({ page, customer }) => {
    expect(customer.id).toBeGreaterThan(0);
    await page.goto('/admin/users');
    await expect(page.getByRole('heading', { level: 1, name: 'Not allowed' })).toBeVisible();
    await expect(page.getByRole('navigation', { name: 'Admin' })).toHaveCount(0);
  });
});
