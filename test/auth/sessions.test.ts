// Ending sessions: logout, logout-all and refresh-token reuse kill the session's access tokens too,
// on every process; a token of a deleted user opens nothing.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { activate, adminToken, bearer, login, newOffer, newUser, type TestUser } from '../helpers/api.js';
import { ADMIN, backends, startApp, type TestApp } from '../helpers/backends.js';
import { expectError, MANY_LOGINS } from '../helpers/checks.js';

const logout = (app: FastifyInstance, access: string, refresh: string) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/logout/', headers: bearer(access), payload: { refresh } });
const logoutAll = (app: FastifyInstance, access: string) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/logout-all/', headers: bearer(access) });
const refresh = (app: FastifyInstance, token: string) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/refresh/', payload: { refresh: token } });
const get = (app: FastifyInstance, access: string, url: string) => app.inject({ method: 'GET', url, headers: bearer(access) });

/** Asks `url` with the token until it answers `status`, for at most `withinMs`; returns how long it took. */
async function waitForStatus(app: FastifyInstance, access: string, url: string, status: number, withinMs: number) {
  const started = Date.now();
  for (;;) {
    const res = await get(app, access, url);
    if (res.statusCode === status) return Date.now() - started;
    if (Date.now() - started > withinMs) throw new Error(`${url} still answers ${res.statusCode} after ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(backends)('ending sessions on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(backend, { ...MANY_LOGINS, AUTH_USER_CACHE_TTL_MS: '0' }, { worker: false });
  });
  afterAll(async () => t?.close());

  it('refuses the access token on account, offers, status and admin endpoints once its session logged out', async () => {
    const user = await newUser(t.app, { balance: '50.00' });
    const offer = await newOffer(t.app);
    const accepted = await activate(t.app, user.access, offer.id);
    expect(accepted.statusCode, accepted.body).toBe(202);
    const status = `/api/v1/activation/status/${accepted.json().transaction_id}/`;
    const userUrls = ['/api/v1/account/', '/api/v1/account/transactions/', '/api/v1/offers/', status, '/api/v1/auth/profile/'];
    for (const url of userUrls) expect((await get(t.app, user.access, url)).statusCode, url).toBe(200);
    const admin = await login(t.app, ADMIN.username, ADMIN.password);
    expect((await get(t.app, admin.access, '/api/v1/admin/users/')).statusCode).toBe(200);

    expect((await logout(t.app, user.access, user.refresh)).statusCode).toBe(200);
    expect((await logout(t.app, admin.access, admin.refresh)).statusCode).toBe(200);

    for (const url of userUrls) expectError(await get(t.app, user.access, url), 401, 'invalid_token');
    expectError(await get(t.app, admin.access, '/api/v1/admin/users/'), 401, 'invalid_token');
    expectError(await logoutAll(t.app, user.access), 401, 'invalid_token');
  });

  it('keeps the access tokens of the user’s other sessions working after one logout', async () => {
    const user = await newUser(t.app);
    const other = await login(t.app, user.username, user.password);
    expect((await logout(t.app, user.access, user.refresh)).statusCode).toBe(200);
    expect((await get(t.app, other.access, '/api/v1/account/')).statusCode).toBe(200);
  });

  it('ends every session of the caller with logout-all, and no one else’s', async () => {
    const user = await newUser(t.app);
    const second = await login(t.app, user.username, user.password);
    const rotated = (await refresh(t.app, second.refresh)).json() as { access: string; refresh: string };
    const bystander = await newUser(t.app);

    const res = await logoutAll(t.app, user.access);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ message: expect.any(String) });

    for (const access of [user.access, second.access, rotated.access]) {
      expectError(await get(t.app, access, '/api/v1/account/'), 401, 'invalid_token');
    }
    expectError(await refresh(t.app, user.refresh), 401);
    expectError(await refresh(t.app, rotated.refresh), 401);
    expect((await get(t.app, bystander.access, '/api/v1/account/')).statusCode).toBe(200);
    expect((await refresh(t.app, bystander.refresh)).statusCode).toBe(200);

    const again = await login(t.app, user.username, user.password);
    expect((await get(t.app, again.access, '/api/v1/account/')).statusCode).toBe(200);
  });

  it('leaves no live token when a refresh of the same session runs at the same moment as logout-all', async () => {
    const user = await newUser(t.app);
    for (let round = 0; round < 5; round++) {
      const session = await login(t.app, user.username, user.password);
      const [out, rotated] = await Promise.all([logoutAll(t.app, session.access), refresh(t.app, session.refresh)]);
      expect(out.statusCode, out.body).toBe(200);
      if (rotated.statusCode !== 200) continue;
      expectError(await refresh(t.app, rotated.json().refresh), 401);
      expectError(await get(t.app, rotated.json().access, '/api/v1/account/'), 401, 'invalid_token');
    }
  });

  it('revokes the access tokens of a session whose rotated refresh token is presented again', async () => {
    const user = await newUser(t.app);
    const rotated = (await refresh(t.app, user.refresh)).json() as { access: string; refresh: string };
    expect((await get(t.app, rotated.access, '/api/v1/account/')).statusCode).toBe(200);
    expectError(await refresh(t.app, user.refresh), 401, 'refresh_token_reused');
    expectError(await get(t.app, rotated.access, '/api/v1/account/'), 401, 'invalid_token');
    expectError(await get(t.app, user.access, '/api/v1/offers/'), 401, 'invalid_token');
  });

  it('answers 401 invalid_token everywhere for a token whose user was deleted', async () => {
    const user = await newUser(t.app);
    const urls = ['/api/v1/account/transactions/', '/api/v1/account/', '/api/v1/offers/', '/api/v1/auth/profile/'];
    expect((await get(t.app, user.access, urls[0]!)).statusCode).toBe(200);
    await sql`DELETE FROM users WHERE id = ${user.id}`.execute(t.runtime.db);
    for (const url of urls) expectError(await get(t.app, user.access, url), 401, 'invalid_token');
  });
});

describe.each(backends)('a deleted user with AUTH_USER_CACHE_TTL_MS=300 on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(backend, { ...MANY_LOGINS, AUTH_USER_CACHE_TTL_MS: '300' }, { worker: false });
  });
  afterAll(async () => t?.close());

  it('is refused within the cache lifetime, though the token was used just before', async () => {
    const user = await newUser(t.app);
    expect((await get(t.app, user.access, '/api/v1/account/transactions/')).statusCode).toBe(200);
    await sql`DELETE FROM users WHERE id = ${user.id}`.execute(t.runtime.db);
    await waitForStatus(t.app, user.access, '/api/v1/account/transactions/', 401, 2000);
    expectError(await get(t.app, user.access, '/api/v1/offers/'), 401, 'invalid_token');
  });
});

describe.each(backends)('refresh token purge on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(backend, MANY_LOGINS, { worker: false });
  });
  afterAll(async () => t?.close());

  async function insertToken(user: TestUser, state: { expiresIn: string; usedAgo?: string; revokedAgo?: string }) {
    const id = randomUUID();
    await sql`INSERT INTO refresh_tokens (id, token_hash, family_id, user_id, expires_at, used_at, revoked_at)
              VALUES (${id}, ${id}, ${randomUUID()}, ${user.id}, now() + ${state.expiresIn}::interval,
                      now() - ${state.usedAgo ?? null}::interval, now() - ${state.revokedAgo ?? null}::interval)`.execute(t.runtime.db);
    return id;
  }

  it('deletes refresh tokens that expired or were revoked long ago, and keeps the rest, once the worker runs', async () => {
    const user = await newUser(t.app);
    const expired = await insertToken(user, { expiresIn: '-2 days' });
    const revoked = await insertToken(user, { expiresIn: '3 days', revokedAgo: '2 days' });
    const live = await insertToken(user, { expiresIn: '3 days' });
    const used = await insertToken(user, { expiresIn: '3 days', usedAgo: '2 days' });
    const justRevoked = await insertToken(user, { expiresIn: '3 days', revokedAgo: '1 second' });
    t.runtime.startWorker();
    const ids = async () =>
      (await t.runtime.db.selectFrom('refresh_tokens').select('id').where('user_id', '=', user.id).execute()).map((r) => r.id);
    const deadline = Date.now() + 10_000;
    while ((await ids()).includes(expired)) {
      if (Date.now() > deadline) throw new Error('expired refresh tokens were not purged within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const left = await ids();
    expect(left).not.toContain(revoked);
    expect(left).toEqual(expect.arrayContaining([live, used, justRevoked]));
    // The user's own login session is untouched.
    expect((await refresh(t.app, user.refresh)).statusCode).toBe(200);
  });
});

// Several API processes share PostgreSQL and Redis: a session ended on one is ended on all of them.
describe.runIf(backends.includes('postgres') && process.env.TEST_REDIS_URL)('ending sessions across processes (PostgreSQL + Redis)', () => {
  let t: TestApp;
  const others: Array<{ runtime: Runtime; app: FastifyInstance }> = [];
  beforeAll(async () => {
    t = await startApp('postgres', MANY_LOGINS, { worker: false });
  });
  afterAll(async () => {
    for (const other of others) {
      await other.app.close();
      await other.runtime.close();
    }
    await t?.close();
  });

  /** Another process of the same deployment: same database, same Redis and key prefix. */
  async function anotherProcess() {
    const runtime = await createRuntime(loadConfig(t.env));
    const app = await buildApp(runtime);
    await app.ready();
    others.push({ runtime, app });
    return app;
  }

  it('refuses a logged-out token on another process within 1 s', async () => {
    const second = await anotherProcess();
    const user = await newUser(t.app);
    const outAll = await login(t.app, user.username, user.password);
    expect((await get(second, user.access, '/api/v1/account/')).statusCode).toBe(200);
    expect((await get(second, outAll.access, '/api/v1/offers/')).statusCode).toBe(200);

    expect((await logout(t.app, user.access, user.refresh)).statusCode).toBe(200);
    expect(await waitForStatus(second, user.access, '/api/v1/account/', 401, 1000)).toBeLessThan(1000);

    const fresh = await login(t.app, user.username, user.password);
    expect((await get(second, fresh.access, '/api/v1/account/')).statusCode).toBe(200);
    expect((await logoutAll(t.app, fresh.access)).statusCode).toBe(200);
    expect(await waitForStatus(second, outAll.access, '/api/v1/offers/', 401, 1000)).toBeLessThan(1000);
    expect(await waitForStatus(second, fresh.access, '/api/v1/offers/', 401, 1000)).toBeLessThan(1000);
  });

  it('refuses a token logged out earlier on a process that starts afterwards', async () => {
    const user = await newUser(t.app);
    expect((await logout(t.app, user.access, user.refresh)).statusCode).toBe(200);
    const late = await anotherProcess();
    expectError(await get(late, user.access, '/api/v1/account/'), 401, 'invalid_token');
    expect((await get(late, await adminToken(t.app), '/api/v1/admin/users/')).statusCode).toBe(200);
  });

  it('learns from the database of a session ended while no message reached it (Redis lost it)', async () => {
    const second = await anotherProcess();
    const user = await newUser(t.app);
    expect((await get(second, user.access, '/api/v1/account/')).statusCode).toBe(200);
    // Revoked behind every process's back: no announcement, only the database knows.
    await sql`UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = ${user.id}`.execute(t.runtime.db);
    await waitForStatus(second, user.access, '/api/v1/account/', 401, 8000);
    await waitForStatus(t.app, user.access, '/api/v1/account/', 401, 8000);
  });

  it('refuses a token of a reused session on another process within 1 s', async () => {
    const second = await anotherProcess();
    const user = await newUser(t.app);
    const rotated = (await refresh(t.app, user.refresh)).json() as { access: string };
    expect((await get(second, rotated.access, '/api/v1/account/')).statusCode).toBe(200);
    expectError(await refresh(second, user.refresh), 401, 'refresh_token_reused');
    expect(await waitForStatus(t.app, rotated.access, '/api/v1/account/', 401, 1000)).toBeLessThan(1000);
  });
});
