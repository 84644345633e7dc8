// Under pressure the API refuses work at once with 503 + Retry-After in its error shape, instead of
// queueing it: an overloaded event loop or heap (under-pressure), a login storm (argon2 wait list).
import { availableParallelism } from 'node:os';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, newUser, type TestUser } from '../helpers/api.js';
import { type TestApp } from '../helpers/backends.js';
import { appWithEnv, expectError, MANY_LOGINS, sharedApp } from '../helpers/checks.js';

/** Repeats `attempt` until it answers `status` (under-pressure samples once a second), or gives up. */
async function untilStatus(attempt: () => Promise<LightMyRequestResponse>, status: number, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await attempt();
    if (res.statusCode === status || Date.now() > deadline) return res;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const expectShed = (res: LightMyRequestResponse) => {
  expectError(res, 503, 'service_unavailable');
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
};

describe('load shedding', () => {
  // Parallel logins of one user all count against its lockout until one succeeds: lift it here.
  const shared = sharedApp('embedded', { ...MANY_LOGINS, LOGIN_MAX_FAILURES: '1000' });
  let t: TestApp;
  let user: TestUser;
  beforeAll(async () => {
    t = shared();
    user = await newUser(t.app);
  });

  describe('when the heap is over its limit', () => {
    let app: FastifyInstance;
    const offers = () => app.inject({ method: 'GET', url: '/api/v1/offers/', headers: bearer(user.access) });
    beforeAll(async () => {
      // Any heap at all is over a ten-thousandth of V8's limit.
      app = await appWithEnv(t, { MAX_HEAP_USED_RATIO: '0.0001' });
      await untilStatus(offers, 503);
    });
    afterAll(async () => app?.close());

    it('answers API requests with 503 service_unavailable and Retry-After', async () => {
      expectShed(await offers());
      expectShed(await app.inject({ method: 'POST', url: '/api/v1/auth/login/', payload: { username: user.username, password: user.password } }));
    });

    it('keeps /health answering, and /ready says why it is not ready', async () => {
      const health = await app.inject({ method: 'GET', url: '/health' });
      expect(health.statusCode).toBe(200);
      const ready = await app.inject({ method: 'GET', url: '/ready' });
      expect(ready.statusCode).toBe(503);
      expect(Number(ready.headers['retry-after'])).toBeGreaterThan(0);
      expect(ready.json()).toEqual({ status: 'unavailable', checks: { load: 'under pressure (heapUsedBytes)' } });
    });
  });

  it('sheds requests while the event loop lags beyond MAX_EVENT_LOOP_DELAY_MS', async () => {
    const app = await appWithEnv(t, { MAX_EVENT_LOOP_DELAY_MS: '1' });
    try {
      const afterABlockedLoop = () => {
        const blockedUntil = Date.now() + 200;
        while (Date.now() < blockedUntil);
        return app.inject({ method: 'GET', url: '/api/v1/offers/', headers: bearer(user.access) });
      };
      expectShed(await untilStatus(afterABlockedLoop, 503));
      expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('answers a login storm beyond the password hash wait list with 503s, and serves the rest', async () => {
    const app = await appWithEnv(t, { PASSWORD_HASH_QUEUE_MAX: '1' });
    const login = (username: string) =>
      app.inject({ method: 'POST', url: '/api/v1/auth/login/', payload: { username, password: user.password } });
    try {
      // Every hash slot busy and the wait list full several times over.
      const storm = Array.from({ length: 3 * (availableParallelism() + 1) }, () => login(user.username));
      // Someone who does not exist meets the full wait list too (their decoy hash is refused).
      const stranger = login('nobody_at_all');
      const answers = await Promise.all(storm);
      const statuses = answers.map((r) => r.statusCode);
      expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
      expect(statuses).toContain(200);
      expect(statuses).toContain(503);
      answers.filter((r) => r.statusCode === 503).forEach(expectShed);
      expect([401, 503]).toContain((await stranger).statusCode);
      // Once the storm has passed, logins work again: nothing stays stuck.
      expect((await login(user.username)).statusCode).toBe(200);
      expectError(await login('nobody_at_all'), 401, 'invalid_credentials');
    } finally {
      await app.close();
    }
  });
});
