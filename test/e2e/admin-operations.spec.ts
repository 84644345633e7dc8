// The admin console's operations pages against a server of their own, whose partner never gives a
// definite answer (it answers 503, as an overloaded partner would) and which may send webhooks to a
// receiver on this machine: activations that may have been delivered (resolve them), one refunded
// at the deadline and flagged for review (confirm it), a redrive, and a webhook endpoint with its
// secret shown once and its delivery log.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as base } from '@playwright/test';
import { Processes, repoRoot } from '../helpers/processes.js';
import { ApiUser, signInAsAdmin, tabTo } from './admin-helpers.js';
import { expect, expectAccessible, screenshots, uniqueName } from './fixtures.js';

/** Time from a purchase until an unsettled activation is refunded and flagged for review. */
const DEADLINE_MS = 40_000;

/** A local HTTP server answering every request with `status`, recording what it got. */
class Receiver {
  readonly requests: { url: string; headers: Record<string, string | string[] | undefined>; body: string }[] = [];
  #server: Server | undefined;
  url = '';
  constructor(private readonly status: number) {}

  async start(): Promise<string> {
    this.#server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        this.requests.push({ url: req.url ?? '', headers: req.headers, body });
        res.writeHead(this.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(this.status >= 500 ? { error: 'busy, try later' } : { ok: true }));
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server!.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}

interface Ops {
  url: string;
  admin: { username: string; password: string };
  partner: Receiver;
  hooks: Receiver;
}

const test = base.extend<object, { ops: Ops }>({
  ops: [
    // Playwright reads a fixture's dependencies from this destructuring: this one has none.
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const partner = new Receiver(503);
      const hooks = new Receiver(200);
      const dataDir = mkdtempSync(join(tmpdir(), 'offers-e2e-ops-'));
      const processes = new Processes();
      try {
        const proc = await processes.start(
          'ops',
          {
            DATA_DIR: dataDir,
            WEB_DIST_DIR: join(repoRoot, 'web/dist'),
            PARTNER_URL: await partner.start(),
            ACTIVATION_RETRY_BASE_MS: '1000',
            ACTIVATION_RETRY_MAX_MS: '3000',
            ACTIVATION_DEADLINE_MS: String(DEADLINE_MS),
            WEBHOOK_ALLOW_PRIVATE: 'true',
            WEBHOOK_RETRY_BASE_MS: '1000',
            AUTH_RATE_LIMIT_PER_MINUTE: '100000',
            MALLOC_MMAP_THRESHOLD_: '131072',
          },
          [process.execPath, 'dist/server.js'],
        );
        await hooks.start();
        const password = readFileSync(join(dataDir, 'admin-password'), 'utf8').trim();
        await use({ url: proc.url, admin: { username: 'admin', password }, partner, hooks });
      } finally {
        await processes.killAll();
        await partner.stop();
        await hooks.stop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
    { scope: 'worker' },
  ],
  baseURL: async ({ ops }, use) => use(ops.url),
});

interface AdminActivation {
  transaction_id: string;
  status: string;
  needs_review: boolean;
  maybe_delivered: boolean;
}

/** A customer with money who buys `count` activations of a new offer; answers their transaction ids. */
async function buyActivations(admin: ApiUser, url: string, count: number): Promise<{ username: string; ids: string[] }> {
  const offer = await admin.json<{ id: number }>('POST', '/api/v1/admin/offers/', { name: uniqueName('Mobile'), price: '5.00', duration_days: 30 });
  const customer = await admin.createCustomer(uniqueName('erin'));
  await admin.json('POST', `/api/v1/admin/users/${customer.id}/credit/`, { amount: '100.00', reason: 'Test money' });
  const buyer = await ApiUser.login(url, customer);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const accepted = await buyer.json<{ transaction_id: string }>('POST', '/api/v1/activation/', { offer_id: offer.id }, { 'idempotency-key': uniqueName('buy') });
    ids.push(accepted.transaction_id);
  }
  await buyer.dispose();
  return { username: customer.username, ids };
}

async function activation(admin: ApiUser, id: string, filter = ''): Promise<AdminActivation | undefined> {
  const page = await admin.json<{ results: AdminActivation[] }>('GET', `/api/v1/admin/activations/?limit=200${filter}`);
  return page.results.find((a) => a.transaction_id === id);
}

test.describe('admin operations', () => {
  test('activations: resolve one the partner may have done, redrive one, confirm one refunded for review', async ({ page, ops }) => {
    test.setTimeout(240_000);
    const admin = await ApiUser.login(ops.url, ops.admin);
    const started = Date.now();
    const { ids } = await buyActivations(admin, ops.url, 3);
    const [toResolve, toRedrive, toReview] = ids as [string, string, string];
    // The partner has been called and answered 503: each may have been delivered.
    await expect.poll(async () => (await activation(admin, toResolve))?.maybe_delivered, { timeout: 20_000 }).toBe(true);

    await signInAsAdmin(page, ops.admin, '/admin/activations?status=PROCESSING');
    await expect(page.getByRole('heading', { level: 1, name: 'Activations' })).toBeVisible();
    await expect(page.getByText(ids[0]!)).toBeVisible();
    await expectAccessible(page);

    // Resolve as provisioned, with the partner's reference, by keyboard.
    const resolveCard = page.getByRole('listitem').filter({ hasText: toResolve });
    await tabTo(page, resolveCard.getByRole('button', { name: `Resolve activation ${toResolve.slice(0, 8)}` }));
    await page.keyboard.press('Enter');
    await expect(resolveCard.getByRole('radio', { name: /provisioned \(success\)/ })).toBeFocused();
    await tabTo(page, resolveCard.getByLabel('Partner reference'));
    await page.keyboard.type('PARTNER-REF-42');
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await activation(admin, toResolve))?.status).toBe('SUCCESS');
    await expect(page.getByText(toResolve)).toHaveCount(0);

    // Redrive: queued at once (the partner is called again).
    const callsBefore = ops.partner.requests.filter((r) => r.body.includes(toRedrive)).length;
    const redriveCard = page.getByRole('listitem').filter({ hasText: toRedrive });
    await redriveCard.getByRole('button', { name: `Redrive activation ${toRedrive.slice(0, 8)}` }).click();
    await expect(page.getByText('Queued now: the worker will try it at once.')).toBeVisible();
    await expect.poll(() => ops.partner.requests.filter((r) => r.body.includes(toRedrive)).length, { timeout: 20_000 }).toBeGreaterThan(callsBefore);

    // The system page counts the activation queue.
    await page.getByRole('link', { name: 'System', exact: true }).click();
    await expect(page.getByTestId('queue-Processing activations')).toHaveText(/^[1-9]\d*$/);

    // At the deadline the last one is refunded and flagged: the admin confirms it failed.
    await page.waitForTimeout(Math.max(0, DEADLINE_MS - (Date.now() - started)));
    await expect.poll(async () => (await activation(admin, toReview))?.needs_review, { timeout: 60_000 }).toBe(true);
    await page.getByRole('link', { name: 'Activations', exact: true }).click();
    // The filter lives in the address (a link can point at it), so the box turns on once the URL has.
    await page.getByLabel('Needing review only').click();
    await expect(page.getByLabel('Needing review only')).toBeChecked();
    await expect(page).toHaveURL(/needs_review=true/);
    const reviewCard = page.getByRole('listitem').filter({ hasText: toReview });
    await expect(reviewCard).toContainText('Needs review');
    await screenshots(page, 'admin-activations-review');
    await reviewCard.getByRole('button', { name: `Resolve activation ${toReview.slice(0, 8)}` }).click();
    await expect(reviewCard.getByLabel('Partner reference')).toHaveCount(0);
    await reviewCard.getByLabel('Reason').fill('The partner has no record of it');
    await reviewCard.getByRole('button', { name: 'Resolve', exact: true }).click();
    await expect(page.getByText(toReview)).toHaveCount(0);
    const confirmed = await activation(admin, toReview);
    expect(confirmed).toMatchObject({ status: 'FAILED', needs_review: false });
    await admin.dispose();
  });

  test('webhooks: an endpoint is created with its secret shown once, and its deliveries are logged', async ({ page, ops }) => {
    const admin = await ApiUser.login(ops.url, ops.admin);
    await signInAsAdmin(page, ops.admin, '/admin/webhooks');
    await expect(page.getByRole('heading', { level: 1, name: 'Webhooks' })).toBeVisible();
    const form = page.getByRole('form', { name: 'New endpoint' });
    // The API's words for an address it refuses.
    await form.getByLabel('URL').fill('not a url');
    await form.getByRole('button', { name: 'Create endpoint' }).click();
    await expect(form.getByRole('alert')).toBeVisible();

    const hookUrl = `${ops.hooks.url}/hooks/${uniqueName('e2e')}`;
    await form.getByLabel('URL').fill(hookUrl);
    await form.getByLabel('Description').fill('The e2e receiver');
    await form.getByRole('button', { name: 'Create endpoint' }).click();
    const secret = page.getByTestId('webhook-secret');
    await expect(secret).toHaveText(/\S{16,}/);
    const secretText = (await secret.textContent()) ?? '';
    await expectAccessible(page);
    await page.getByRole('button', { name: 'I have kept it' }).click();
    await expect(secret).toHaveCount(0);
    await page.reload();
    await expect(page.getByRole('link', { name: hookUrl })).toBeVisible();
    await expect(page.getByText(secretText)).toHaveCount(0);
    await screenshots(page, 'admin-webhooks');

    // An event after the endpoint exists is delivered to it and logged with the answer.
    const customer = await admin.createCustomer(uniqueName('frank'));
    await admin.json('POST', `/api/v1/admin/users/${customer.id}/credit/`, { amount: '7.00', reason: 'Webhook test' });
    await page.getByRole('link', { name: hookUrl }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Webhook endpoint' })).toBeVisible();
    const delivery = page.getByRole('listitem').filter({ hasText: 'balance.credited' }).first();
    await expect(delivery).toContainText('delivered', { timeout: 30_000 });
    await expect(delivery.getByRole('list')).toContainText('HTTP 200');
    const received = ops.hooks.requests.filter((r) => r.url.startsWith(new URL(hookUrl).pathname));
    expect(received.length).toBeGreaterThan(0);
    expect(received.some((r) => r.body.includes('balance.credited'))).toBe(true);
    await screenshots(page, 'admin-webhook-deliveries');

    // Redelivery sends the same event again.
    const before = received.length;
    await delivery.getByRole('button', { name: /^Redeliver delivery/ }).click();
    await expect(page.getByText(/is queued again/)).toBeVisible();
    await expect.poll(() => ops.hooks.requests.filter((r) => r.url.startsWith(new URL(hookUrl).pathname)).length, { timeout: 30_000 }).toBeGreaterThan(before);
    await admin.dispose();
  });
});
