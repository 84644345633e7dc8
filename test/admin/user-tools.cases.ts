import { beforeAll, describe, expect, it } from 'vitest';
import { adminToken, bearer, login, newOffer, newUser, uniqueName } from '../helpers/api.js';
import { ADMIN, type TestApp } from '../helpers/backends.js';
import { expectConsistentPaging, expectError, getPage } from '../helpers/checks.js';
import { insertSubscription } from '../helpers/fixtures.js';

interface AdminUser {
  id: number;
  username: string;
  email: string | null;
  balance: string;
  disabled: boolean;
  disabled_at: string | null;
}

export function adminUserToolTests(app: () => TestApp) {
  describe('user search, detail, disable and enable', () => {
    let t: TestApp;
    let admin: Record<string, string>;
    beforeAll(async () => {
      t = app();
      admin = bearer(await adminToken(t.app));
    });

    const post = (url: string, headers = admin) => t.app.inject({ method: 'POST', url, headers });
    const get = (url: string, access: string) => t.app.inject({ method: 'GET', url, headers: bearer(access) });
    const search = (text: string) => getPage<AdminUser>(t.app, `/api/v1/admin/users/?search=${encodeURIComponent(text)}&limit=200`, admin);
    const auditOf = async (id: number) =>
      (await getPage<{ action: string; before: unknown; after: unknown }>(t.app, `/api/v1/admin/audit/?target=user:${id}`, admin)).results;

    it('finds users by the start of their username or email, in any case, and counts them', async () => {
      const stem = uniqueName('Findme');
      const made = [];
      for (const suffix of ['a', 'b']) {
        const res = await t.app.inject({
          method: 'POST',
          url: '/api/v1/admin/users/',
          headers: admin,
          payload: { username: `${stem}_${suffix}`, password: 'long enough password' },
        });
        made.push(res.json().id as number);
      }
      const byMail = await t.app.inject({
        method: 'POST',
        url: '/api/v1/admin/users/',
        headers: admin,
        payload: { username: uniqueName(), password: 'long enough password', email: `${stem}@Example.com` },
      });
      made.push(byMail.json().id as number);

      const found = await search(stem.toUpperCase());
      expect(found.results.map((u) => u.id)).toEqual(made);
      expect(found.count).toBe(3);
      expect((await search(`${stem}_b`)).results.map((u) => u.id)).toEqual([made[1]]);
      expect((await search(`${stem}@example.COM`)).results.map((u) => u.id)).toEqual([made[2]]);
      // LIKE's wildcards match only themselves.
      expect((await search(`${stem.slice(0, 3)}%`)).count).toBe(0);
      expect((await search('_')).results.every((u) => u.username.startsWith('_') || u.email?.startsWith('_'))).toBe(true);
      await expectConsistentPaging<AdminUser>(t.app, `/api/v1/admin/users/?search=${stem}`, admin, { limit: 2, key: (u) => u.id });
      expectError(await t.app.inject({ method: 'GET', url: '/api/v1/admin/users/?search=', headers: admin }), 400);
    });

    it('shows one user with balance, disabled state and the subscriptions that have not ended', async () => {
      const user = await newUser(t.app, { balance: '12.00' });
      const [live, other, ended] = [await newOffer(t.app), await newOffer(t.app), await newOffer(t.app)];
      await insertSubscription(t.runtime.db, { userId: user.id, offerId: live.id, daysLeft: 10 });
      await insertSubscription(t.runtime.db, { userId: user.id, offerId: other.id, daysLeft: 3 });
      await insertSubscription(t.runtime.db, { userId: user.id, offerId: ended.id, daysLeft: -1 });
      const res = await get(`/api/v1/admin/users/${user.id}/`, await adminToken(t.app));
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({ id: user.id, username: user.username, balance: '12.00', disabled: false, disabled_at: null });
      expect(body.subscriptions.map((s: { offer: { id: number } }) => s.offer.id)).toEqual([other.id, live.id]);
      expect(body.subscriptions[0]).toMatchObject({ status: 'ACTIVE', auto_renew: expect.any(Boolean), expires_at: expect.any(String) });
    });

    it('disables a user: login and refresh refused, every access token refused at once, audited', async () => {
      const user = await newUser(t.app);
      const second = await login(t.app, user.username, user.password);
      expect((await get('/api/v1/account/', user.access)).statusCode).toBe(200);

      const res = await post(`/api/v1/admin/users/${user.id}/disable/`);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ id: user.id, disabled: true, disabled_at: expect.any(String) });

      for (const access of [user.access, second.access]) expectError(await get('/api/v1/account/', access), 401, 'invalid_token');
      const loginAgain = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login/', payload: { username: user.username, password: user.password } });
      expectError(loginAgain, 403, 'account_disabled');
      const wrongPassword = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login/', payload: { username: user.username, password: 'not the password' } });
      expectError(wrongPassword, 401, 'invalid_credentials');
      expectError(await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh/', payload: { refresh: second.refresh } }), 403, 'account_disabled');

      const [row] = await auditOf(user.id);
      expect(row).toMatchObject({
        action: 'user.disable',
        before: { disabled: false, disabled_at: null },
        after: { disabled: true, sessions_revoked: 2 },
      });
      const listed = await search(user.username);
      expect(listed.results).toEqual([expect.objectContaining({ id: user.id, disabled: true })]);
    });

    it('enables a user again: logins work, the old sessions stay ended, audited', async () => {
      const user = await newUser(t.app);
      expect((await post(`/api/v1/admin/users/${user.id}/disable/`)).statusCode).toBe(200);
      const res = await post(`/api/v1/admin/users/${user.id}/enable/`);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ disabled: false, disabled_at: null });
      const fresh = await login(t.app, user.username, user.password);
      expect((await get('/api/v1/account/', fresh.access)).statusCode).toBe(200);
      expectError(await get('/api/v1/account/', user.access), 401, 'invalid_token');
      expect((await auditOf(user.id)).map((r) => r.action)).toEqual(['user.enable', 'user.disable']);
    });

    it('changes nothing and writes no audit row for a repeated disable or enable', async () => {
      const user = await newUser(t.app);
      expect((await post(`/api/v1/admin/users/${user.id}/enable/`)).json()).toMatchObject({ disabled: false });
      const first = (await post(`/api/v1/admin/users/${user.id}/disable/`)).json();
      const again = (await post(`/api/v1/admin/users/${user.id}/disable/`)).json();
      expect(again.disabled_at).toBe(first.disabled_at);
      expect((await auditOf(user.id)).map((r) => r.action)).toEqual(['user.disable']);
    });

    it('refuses to disable the acting admin, an unknown user, and a non-admin caller', async () => {
      const me = await login(t.app, ADMIN.username, ADMIN.password);
      const profile = (await get('/api/v1/auth/profile/', me.access)).json();
      expectError(await post(`/api/v1/admin/users/${profile.id}/disable/`), 409, 'cannot_disable_self');
      expectError(await post('/api/v1/admin/users/2147483647/disable/'), 404);
      expectError(await post('/api/v1/admin/users/2147483647/enable/'), 404);
      expectError(await post('/api/v1/admin/users/abc/disable/'), 400);
      const user = await newUser(t.app);
      expectError(await post(`/api/v1/admin/users/${user.id}/disable/`, bearer(user.access)), 403);
      expect((await get('/api/v1/account/', user.access)).statusCode).toBe(200);
    });
  });
}
