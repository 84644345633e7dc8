import { beforeAll, describe, expect, it } from 'vitest';
import { adminToken, bearer, login, uniqueName } from '../helpers/api.js';
import { type TestApp } from '../helpers/backends.js';
import { appWithEnv, expectError } from '../helpers/checks.js';

const PASSWORD = 'correct horse battery';

export function registrationTests(app: () => TestApp) {
  describe('registration', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = app();
    });

    const register = (payload: unknown) =>
      t.app.inject({ method: 'POST', url: '/api/v1/auth/register/', payload: payload as object });

    it('creates a user with an empty account who can log in and read their profile', async () => {
      const username = uniqueName();
      const email = `${username}@example.com`;
      const res = await register({ username, password: PASSWORD, email });
      expect(res.statusCode).toBe(201);
      const created = res.json();
      expect(created).toEqual({ id: expect.any(Number), username, email });

      const { access } = await login(t.app, username, PASSWORD);
      const profile = await t.app.inject({ method: 'GET', url: '/api/v1/auth/profile/', headers: bearer(access) });
      expect(profile.statusCode).toBe(200);
      const body = profile.json();
      expect(body).toEqual({ id: created.id, username, email, is_admin: false, date_joined: expect.any(String) });
      expect(Math.abs(Date.parse(body.date_joined) - Date.now())).toBeLessThan(3_600_000);

      const balance = await t.app.inject({ method: 'GET', url: '/api/v1/account/balance/', headers: bearer(access) });
      expect(balance.json()).toEqual({ balance: '0.00', currency: 'EUR' });
    });

    it('stores no email when none is given', async () => {
      const res = await register({ username: uniqueName(), password: PASSWORD });
      expect(res.statusCode).toBe(201);
      expect(res.json().email).toBeNull();
    });

    it('never makes a self-registered user an admin, whatever the body says', async () => {
      const res = await register({ username: uniqueName(), password: PASSWORD, is_admin: true });
      if (res.statusCode !== 201) {
        expectError(res, 400);
        return;
      }
      const admin = await adminToken(t.app);
      const user = await t.app.inject({ method: 'GET', url: `/api/v1/admin/users/${res.json().id}/`, headers: bearer(admin) });
      expect(user.json().is_admin).toBe(false);
    });

    it('answers 409 for a taken username, in any letter case', async () => {
      const username = uniqueName();
      expect((await register({ username, password: PASSWORD })).statusCode).toBe(201);
      expectError(await register({ username, password: 'another password' }), 409, 'username_taken');
      expectError(await register({ username: username.toUpperCase(), password: PASSWORD }), 409, 'username_taken');
    });

    it.each([
      ['seven characters', 'abcdefg'],
      ['an empty password', ''],
    ])('refuses a weak password (%s) with 400 and creates nobody', async (_label, password) => {
      const username = uniqueName();
      const body = expectError(await register({ username, password }), 400);
      expect(body.error).toMatch(/password/);
      expect((await register({ username, password: PASSWORD })).statusCode).toBe(201);
    });

    it('accepts a password of exactly eight characters', async () => {
      expect((await register({ username: uniqueName(), password: 'abcdefgh' })).statusCode).toBe(201);
    });

    it.each([
      ['too short', 'ab'],
      ['with a space', 'has space'],
      ['with a slash', 'bad/name'],
      ['with a quote', "o'brien"],
      ['non-ASCII', 'jürgen'],
      ['too long', 'a'.repeat(151)],
      ['not a string', 12345],
    ])('refuses an invalid username (%s) with 400', async (_label, username) => {
      const body = expectError(await register({ username, password: PASSWORD }), 400);
      expect(body.error).toMatch(/username/);
    });

    it('answers 403 and creates nobody when REGISTRATION_ENABLED=false, while admins can still add users', async () => {
      const closed = await appWithEnv(t, { REGISTRATION_ENABLED: 'false' });
      try {
        const username = uniqueName();
        const res = await closed.inject({ method: 'POST', url: '/api/v1/auth/register/', payload: { username, password: PASSWORD } });
        expectError(res, 403, 'registration_disabled');
        const created = await closed.inject({
          method: 'POST',
          url: '/api/v1/admin/users/',
          headers: bearer(await adminToken(t.app)),
          payload: { username, password: PASSWORD },
        });
        expect(created.statusCode).toBe(201);
      } finally {
        await closed.close();
      }
    });

    it.each([
      ['no username', { password: PASSWORD }],
      ['no password', { username: 'someone_new' }],
      ['an invalid email', { username: 'someone_new', password: PASSWORD, email: 'not-an-email' }],
      ['a body that is not an object', [1, 2]],
    ])('refuses a body with %s with 400', async (_label, payload) => {
      expectError(await register(payload), 400);
    });
  });
}
