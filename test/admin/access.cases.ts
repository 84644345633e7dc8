import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminToken, bearer, login, newOffer, newUser, type TestUser, uniqueName } from '../helpers/api.js';
import { type TestApp } from '../helpers/backends.js';
import { expectError } from '../helpers/checks.js';

type Method = 'GET' | 'POST' | 'PATCH';

export function accessTests(app: () => TestApp) {
  describe('admin-only access', () => {
    let t: TestApp;
    let user: TestUser;
    let offerId: number;
    beforeAll(async () => {
      t = app();
      user = await newUser(t.app);
      offerId = (await newOffer(t.app)).id;
    });

    /** Every admin route, with a body an admin would get a 2xx for. */
    const routes = (): [Method, string, object | undefined][] => [
      ['POST', '/api/v1/admin/users/', { username: uniqueName(), password: 'long enough password' }],
      ['GET', '/api/v1/admin/users/', undefined],
      ['GET', `/api/v1/admin/users/${user.id}/`, undefined],
      ['POST', `/api/v1/admin/users/${user.id}/credit/`, { amount: '10.00', reason: 'test' }],
      ['GET', '/api/v1/admin/offers/', undefined],
      ['POST', '/api/v1/admin/offers/', { name: uniqueName('offer'), price: '5.00', duration_days: 3 }],
      ['GET', `/api/v1/admin/offers/${offerId}/`, undefined],
      ['PATCH', `/api/v1/admin/offers/${offerId}/`, { description: 'changed' }],
      ['GET', '/api/v1/admin/transactions/', undefined],
      ['GET', '/api/v1/admin/activations/', undefined],
    ];

    const call = (method: Method, url: string, payload: object | undefined, headers: Record<string, string>) =>
      t.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });

    async function state() {
      const row = await sql<{ users: number; offers: number; credits: number; balance: string; description: string }>`
        SELECT (SELECT count(*)::int FROM users) AS users,
               (SELECT count(*)::int FROM offers) AS offers,
               (SELECT count(*)::int FROM transactions) AS credits,
               (SELECT balance::text FROM accounts WHERE user_id = ${user.id}) AS balance,
               (SELECT description FROM offers WHERE id = ${offerId}) AS description`.execute(t.runtime.db);
      return row.rows[0];
    }

    it('answers 401 on every admin route without a token, and changes nothing', async () => {
      const before = await state();
      for (const [method, url, payload] of routes()) {
        const res = await call(method, url, payload, {});
        expectError(res, 401, 'not_authenticated');
      }
      expect(await state()).toEqual(before);
    });

    it('answers 401 on every admin route with an invalid token', async () => {
      for (const [method, url, payload] of routes()) expectError(await call(method, url, payload, bearer('not.a.token')), 401);
    });

    it('answers 403 on every admin route for a user who is not an admin, and changes nothing', async () => {
      const before = await state();
      for (const [method, url, payload] of routes()) {
        expectError(await call(method, url, payload, bearer(user.access)), 403, 'forbidden');
      }
      expect(await state()).toEqual(before);
    });

    it('answers 403 before looking at the body or the id', async () => {
      expectError(await call('POST', '/api/v1/admin/users/', { junk: true }, bearer(user.access)), 403);
      expectError(await call('GET', '/api/v1/admin/users/not-a-number/', undefined, bearer(user.access)), 403);
    });

    it('lets an admin through on every admin route', async () => {
      const admin = await adminToken(t.app);
      for (const [method, url, payload] of routes()) {
        const res = await call(method, url, payload, bearer(admin));
        expect([200, 201], `${method} ${url}: ${res.body}`).toContain(res.statusCode);
      }
    });

    it('takes admin rights from the database, so a demoted admin is refused at once', async () => {
      const username = uniqueName('admin');
      const created = await call('POST', '/api/v1/admin/users/', { username, password: 'long enough password', is_admin: true }, bearer(await adminToken(t.app)));
      expect(created.statusCode).toBe(201);
      const { access } = await login(t.app, username, 'long enough password');
      expect((await call('GET', '/api/v1/admin/users/', undefined, bearer(access))).statusCode).toBe(200);
      await t.runtime.db.updateTable('users').set({ is_admin: false }).where('username', '=', username).execute();
      expectError(await call('GET', '/api/v1/admin/users/', undefined, bearer(access)), 403);
    });
  });
}
