import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, newUser, uniqueName } from '../helpers/api.js';
import { backends, startApp, type TestApp } from '../helpers/backends.js';
import { appWithEnv, expectError, MANY_LOGINS } from '../helpers/checks.js';

/** Every test logs in from its own address, so one test's failures never lock out another's. */
const newAddress = () => `10.${[...randomBytes(3)].join('.')}`;

export function loginTests(app: () => TestApp) {
  describe('login', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = app();
    });

    const attempt = (username: unknown, password: unknown, remoteAddress = newAddress()) =>
      t.app.inject({ method: 'POST', url: '/api/v1/auth/login/', remoteAddress, payload: { username, password } });

    it('answers a token pair whose access token opens the API', async () => {
      const user = await newUser(t.app);
      const res = await attempt(user.username, user.password);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toEqual({ access: expect.any(String), refresh: expect.any(String), token_type: 'Bearer', expires_in: 900 });
      expect(body.access.split('.')).toHaveLength(3);
      const profile = await t.app.inject({ method: 'GET', url: '/api/v1/auth/profile/', headers: bearer(body.access) });
      expect(profile.json()).toMatchObject({ id: user.id, username: user.username });
    });

    it('accepts the username in another letter case', async () => {
      const user = await newUser(t.app);
      expect((await attempt(user.username.toUpperCase(), user.password)).statusCode).toBe(200);
    });

    it('gives the same 401 for an unknown user as for a wrong password', async () => {
      const user = await newUser(t.app);
      const wrong = await attempt(user.username, 'not the password');
      const unknown = await attempt(uniqueName('ghost'), 'not the password');
      const wrongBody = expectError(wrong, 401, 'invalid_credentials');
      const unknownBody = expectError(unknown, 401, 'invalid_credentials');
      expect(unknownBody).toEqual(wrongBody);
      expect(unknown.headers['www-authenticate']).toBe(wrong.headers['www-authenticate']);
    });

    it.each([
      ['no username', { password: 'whatever1' }],
      ['no password', { username: 'someone' }],
      ['an empty username', { username: '', password: 'whatever1' }],
      ['a numeric password', { username: 'someone', password: 12345678 }],
      ['no body at all', undefined],
    ])('answers 400 for %s', async (_label, payload) => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login/', remoteAddress: newAddress(), ...(payload ? { payload } : {}) });
      expectError(res, 400);
    });

    it('locks a username out with 429 and Retry-After after 5 failures, even for the right password', async () => {
      const user = await newUser(t.app);
      for (let i = 0; i < 5; i++) expectError(await attempt(user.username, `wrong ${i}`), 401, 'invalid_credentials');
      const locked = await attempt(user.username, user.password);
      expectError(locked, 429, 'rate_limited');
      const retryAfter = Number(locked.headers['retry-after']);
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(900);
      // The lock is per username: another user logs in from the same address.
      const other = await newUser(t.app);
      expect((await attempt(other.username, other.password)).statusCode).toBe(200);
    });

    it('lets no more than 5 wrong passwords through when 20 arrive at once', async () => {
      const user = await newUser(t.app);
      const burst = await Promise.all(Array.from({ length: 20 }, () => attempt(user.username, 'wrong password')));
      const codes = burst.map((r) => r.statusCode);
      expect(codes.filter((c) => c === 401).length).toBeLessThanOrEqual(5);
      expect(codes.filter((c) => c === 429).length).toBeGreaterThanOrEqual(15);
    });

    it('locks out by username whatever letter case the attempts use', async () => {
      const user = await newUser(t.app);
      for (let i = 0; i < 5; i++) await attempt(i % 2 ? user.username.toUpperCase() : user.username, 'wrong password');
      expectError(await attempt(user.username, user.password), 429, 'rate_limited');
    });

    it('answers 429 with Retry-After once an address spends its per-minute budget (AUTH_RATE_LIMIT_PER_MINUTE) on auth endpoints', async () => {
      const limitedApp = await appWithEnv(t, { AUTH_RATE_LIMIT_PER_MINUTE: '3' });
      try {
        const address = newAddress();
        const call = (remoteAddress: string) =>
          limitedApp.inject({ method: 'POST', url: '/api/v1/auth/refresh/', remoteAddress, payload: { refresh: 'not-a-token' } });
        for (let i = 0; i < 3; i++) expectError(await call(address), 401);
        const limited = await call(address);
        expectError(limited, 429, 'rate_limited');
        expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
        expectError(await call(newAddress()), 401);
      } finally {
        await limitedApp.close();
      }
    });

    it('forgets earlier failures after a successful login', async () => {
      const user = await newUser(t.app);
      for (let i = 0; i < 4; i++) await attempt(user.username, 'wrong password');
      expect((await attempt(user.username, user.password)).statusCode).toBe(200);
      for (let i = 0; i < 4; i++) await attempt(user.username, 'wrong password');
      expect((await attempt(user.username, user.password)).statusCode).toBe(200);
    });
  });
}

/** Needs its own runtime: the throttle is built from LOGIN_MAX_FAILURES when the runtime starts. */
export function loginThrottleTests() {
  describe.each(backends)('login throttle with LOGIN_MAX_FAILURES=2 on %s', (backend) => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp(backend, { ...MANY_LOGINS, LOGIN_MAX_FAILURES: '2', LOGIN_LOCKOUT_SECONDS: '60' }, { worker: false });
    });
    afterAll(async () => t?.close());

    const attempt = (username: string, password: string, remoteAddress: string) =>
      t.app.inject({ method: 'POST', url: '/api/v1/auth/login/', remoteAddress, payload: { username, password } });

    it('locks the username after the configured number of failures, for the configured time', async () => {
      const user = await newUser(t.app);
      const address = newAddress();
      expectError(await attempt(user.username, 'wrong password', address), 401);
      expectError(await attempt(user.username, 'wrong password', address), 401);
      const locked = await attempt(user.username, user.password, newAddress());
      expectError(locked, 429, 'rate_limited');
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(60);
    });

    it('locks an address that fails for many usernames, but not other addresses', async () => {
      const address = newAddress();
      // An address gets four times the room of one username: 8 failures here.
      for (let i = 0; i < 8; i++) expectError(await attempt(uniqueName('guess'), 'wrong password', address), 401);
      const user = await newUser(t.app);
      const locked = await attempt(user.username, user.password, address);
      expectError(locked, 429, 'rate_limited');
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
      expect((await attempt(user.username, user.password, newAddress())).statusCode).toBe(200);
    });
  });
}
