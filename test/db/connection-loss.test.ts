// PostgreSQL ends the service's idle pooled connections (a restart, pg_terminate_backend, a
// DROP DATABASE … WITH (FORCE)): the process must log it and keep serving, not die of an uncaught
// 'error' event from the pool.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { newOffer, newUser } from '../helpers/api.js';
import { backends, startApp, type TestApp } from '../helpers/backends.js';

describe.runIf(backends.includes('postgres'))('idle database connections ended by PostgreSQL', () => {
  let t: TestApp;
  let admin: pg.Client;
  beforeAll(async () => {
    t = await startApp('postgres', {}, { worker: false });
    admin = new pg.Client({ connectionString: t.env.DATABASE_URL });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await t?.close();
  });

  const otherSessions = async () =>
    (await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')).rows[0]!.n;

  it('logs the lost connections and answers the next requests from fresh ones', async () => {
    const user = await newUser(t.app, { balance: '5.00' });
    await newOffer(t.app);
    // Several requests at once leave several idle connections in the pool.
    await Promise.all(Array.from({ length: 6 }, () => t.app.inject({ method: 'GET', url: '/api/v1/account/', headers: { authorization: `Bearer ${user.access}` } })));
    expect(await otherSessions()).toBeGreaterThan(0);
    const warn = vi.spyOn(t.runtime.log, 'warn');

    const ended = (
      await admin.query<{ n: number }>(
        'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      )
    ).rows[0]!.n;
    await vi.waitFor(async () => expect(await otherSessions()).toBe(0));
    // The pool drops a connection when it hears of its end, which can be after the server has closed
    // it: a request before that would take a dead connection. One warning per connection, so once
    // there are as many warnings as ended connections, the pool holds none of them.
    const lost = () => warn.mock.calls.filter(([, message]) => /database connection lost/.test(String(message)));
    await vi.waitFor(() => expect(lost()).toHaveLength(ended));
    expect(lost().every(([fields]) => typeof (fields as { err?: unknown }).err === 'string')).toBe(true);

    expect((await t.app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
    const account = await t.app.inject({ method: 'GET', url: '/api/v1/account/', headers: { authorization: `Bearer ${user.access}` } });
    expect(account.statusCode, account.body).toBe(200);
    expect(account.json().balance).toBe('5.00');
    warn.mockRestore();
  });
});
