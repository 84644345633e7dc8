// Shared pieces of the browser tests: which server a test talks to, an admin API client (for the
// steps a customer cannot do, like crediting), a freshly signed-up customer, the accessibility
// check and the screenshots at phone and desktop size.
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { AxeBuilder } from '@axe-core/playwright';
import { test as base, expect, request as playwrightRequest, type APIRequestContext, type Page } from '@playwright/test';
import { serverInfo, type ServerName } from './servers.js';

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };
export const SCREENSHOT_DIR = 'test-results/screenshots';
export const PASSWORD = 'correct horse battery';

export interface Customer {
  id: number;
  username: string;
  password: string;
}

export class AdminApi {
  constructor(
    private readonly http: APIRequestContext,
    private readonly token: string,
  ) {}

  static async connect(baseURL: string, credentials: { username: string; password: string }): Promise<AdminApi> {
    const http = await playwrightRequest.newContext({ baseURL });
    const response = await http.post('/api/v1/auth/login/', { data: credentials });
    expect(response.status(), await response.text()).toBe(200);
    return new AdminApi(http, ((await response.json()) as { access: string }).access);
  }

  private get headers() {
    return { authorization: `Bearer ${this.token}` };
  }

  async credit(userId: number, amount: string, reason = 'Welcome credit'): Promise<void> {
    const response = await this.http.post(`/api/v1/admin/users/${userId}/credit/`, { headers: this.headers, data: { amount, reason } });
    expect(response.status(), await response.text()).toBe(201);
  }

  async createOffer(offer: { name: string; description: string; price: string; duration_days: number }): Promise<{ id: number }> {
    const response = await this.http.post('/api/v1/admin/offers/', { headers: this.headers, data: offer });
    expect(response.status(), await response.text()).toBe(201);
    return (await response.json()) as { id: number };
  }

  dispose = () => this.http.dispose();
}

export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

/** Signs up through the form (and so signs in); answers the new account with its id. */
export async function signUp(page: Page, username = uniqueName('user')): Promise<Customer> {
  await page.goto('/signup');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  const registered = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/register/') && r.request().method() === 'POST');
  await page.getByRole('button', { name: 'Create account' }).click();
  const answer = await registered;
  expect(answer.status(), await answer.text()).toBe(201);
  const { id } = (await answer.json()) as { id: number };
  await expect(page.getByRole('heading', { level: 1, name: 'Dashboard' })).toBeVisible();
  return { id, username, password: PASSWORD };
}

/** Signs in through the form. */
export async function signIn(page: Page, credentials: { username: string; password: string }): Promise<void> {
  await page.goto('/signin');
  await page.getByLabel('Username').fill(credentials.username);
  await page.getByLabel('Password').fill(credentials.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Dashboard' })).toBeVisible();
}

/** axe finds no serious or critical violation on the page as it is now. */
export async function expectAccessible(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
}

/** Full-page screenshots at phone and desktop size (test-results/screenshots/<name>-phone|desktop.png). */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const before = page.viewportSize() ?? DESKTOP;
  // A modal covers the viewport only: a full-page picture would show the page half-dimmed.
  const fullPage = (await page.locator('dialog[open]').count()) === 0;
  for (const [size, viewport] of [['phone', PHONE], ['desktop', DESKTOP]] as const) {
    await page.setViewportSize(viewport);
    await expectAccessible(page);
    await page.screenshot({ path: `${SCREENSHOT_DIR}/${name}-${size}.png`, fullPage, animations: 'disabled' });
  }
  await page.setViewportSize(before);
}

interface WorkerFixtures {
  server: ServerName;
  admin: AdminApi;
}

interface TestFixtures {
  /** A new customer, signed up and signed in on `page`. */
  customer: Customer;
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  server: ['embedded', { option: true, scope: 'worker' }],
  admin: [
    async ({ server }, use) => {
      const info = serverInfo(server);
      const admin = await AdminApi.connect(info.url, info.admin);
      await use(admin);
      await admin.dispose();
    },
    { scope: 'worker' },
  ],
  baseURL: async ({ server }, use) => use(serverInfo(server).url),
  // Every test also checks that the page broke neither the content security policy nor itself.
  page: async ({ page }, use) => {
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
    await use(page);
    expect(problems).toEqual([]);
  },
  customer: async ({ page }, use) => use(await signUp(page)),
});

export { expect };
