// Pieces of the admin console's browser tests: signing in as the admin, reaching a control with
// the Tab key alone, and a small admin/customer API client for the setup a test is not about.
import { expect, request as playwrightRequest, type APIRequestContext, type Locator, type Page } from '@playwright/test';
import { PASSWORD } from './fixtures.js';

/** Signs in through the form and lands on `path` (the sign-in page returns to where it was sent from). */
export async function signInAsAdmin(page: Page, admin: { username: string; password: string }, path = '/admin/users'): Promise<void> {
  await page.goto(path);
  await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
  await page.getByLabel('Username').fill(admin.username);
  await page.getByLabel('Password').fill(admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('navigation', { name: 'Admin' })).toBeVisible();
}

/** Presses Tab until `target` has the focus: proves it is reachable by keyboard, in the page's order. */
export async function tabTo(page: Page, target: Locator, maxPresses = 60): Promise<void> {
  for (let i = 0; i < maxPresses; i++) {
    if (await target.evaluate((el) => el === el.ownerDocument.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${target.toString()}`);
}

/** The API as one user (an admin for setup, a customer to buy), with a bearer token. */
export class ApiUser {
  private constructor(
    readonly http: APIRequestContext,
    private readonly token: string,
  ) {}

  static async login(baseURL: string, credentials: { username: string; password: string }): Promise<ApiUser> {
    const http = await playwrightRequest.newContext({ baseURL });
    const response = await http.post('/api/v1/auth/login/', { data: credentials });
    expect(response.status(), await response.text()).toBe(200);
    return new ApiUser(http, ((await response.json()) as { access: string }).access);
  }

  get headers() {
    return { authorization: `Bearer ${this.token}` };
  }

  async json<T>(method: 'GET' | 'POST' | 'PATCH', path: string, data?: unknown, extraHeaders: Record<string, string> = {}): Promise<T> {
    const response = await this.http.fetch(path, { method, headers: { ...this.headers, ...extraHeaders }, ...(data === undefined ? {} : { data }) });
    expect(response.ok(), `${method} ${path}: ${response.status()} ${await response.text()}`).toBe(true);
    return (await response.json()) as T;
  }

  /** A customer made by this admin, with an email to search by. */
  async createCustomer(username: string): Promise<{ id: number; username: string; email: string; password: string }> {
    const email = `${username}@example.test`;
    const user = await this.json<{ id: number }>('POST', '/api/v1/admin/users/', { username, password: PASSWORD, email });
    return { id: user.id, username, email, password: PASSWORD };
  }

  dispose = () => this.http.dispose();
}
