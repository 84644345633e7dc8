import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, login, uniqueName } from '../helpers/api.js';
import { ADMIN, backends } from '../helpers/backends.js';
import { type CliBackend, type CliResult, CLI_TIMEOUT, cliBackend, runCli } from './run-cli.js';

describe.each(backends)('CLI commands on %s', (backend) => {
  let b: CliBackend;
  let firstMigrate: CliResult;
  beforeAll(async () => {
    b = await cliBackend(backend);
    firstMigrate = await runCli(['migrate'], b.env);
  }, CLI_TIMEOUT);
  afterAll(async () => b?.cleanup());

  it('applies the migrations to a fresh database, then reports it up to date', async () => {
    expect(firstMigrate).toMatchObject({ code: 0, stdout: 'Applied migration 001_initial\nApplied migration 002_activation_duration\nApplied migration 003_history_filter_indexes\nApplied migration 004_session_revocation\nApplied migration 005_activation_review\nApplied migration 006_events\nApplied migration 007_lifecycle\nApplied migration 008_notifications\nApplied migration 009_audit\nApplied migration 010_webhooks\n' });
    const second = await runCli(['migrate'], b.env);
    expect(second).toMatchObject({ code: 0, stdout: 'Database is up to date.\n' });
  }, CLI_TIMEOUT);

  it('creates users who can log in, and admins only with --admin', async () => {
    const user = uniqueName('cli');
    const admin = uniqueName('cli_admin');
    const created = await runCli(['create-user', user, '--email', 'cli@example.com'], { ...b.env, OFFERS_PASSWORD: 'from the environment' });
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toMatch(new RegExp(`^Created user ${user} \\(id \\d+\\)\\n$`));
    const createdAdmin = await runCli(['create-user', admin, '--admin', '--password', 'admin password'], b.env);
    expect(createdAdmin).toMatchObject({ code: 0, stderr: '' });
    expect(createdAdmin.stdout).toMatch(new RegExp(`^Created admin ${admin} \\(id \\d+\\)\\n$`));

    await b.withApp(async (app) => {
      const userToken = (await login(app, user, 'from the environment')).access;
      const profile = await app.inject({ method: 'GET', url: '/api/v1/auth/profile/', headers: bearer(userToken) });
      expect(profile.json()).toMatchObject({ username: user, email: 'cli@example.com', is_admin: false });
      const balance = await app.inject({ method: 'GET', url: '/api/v1/account/balance/', headers: bearer(userToken) });
      expect(balance.json()).toMatchObject({ balance: '0.00' });
      const asUser = await app.inject({ method: 'GET', url: '/api/v1/admin/users/', headers: bearer(userToken) });
      expect(asUser.statusCode).toBe(403);

      const adminToken = (await login(app, admin, 'admin password')).access;
      const asAdmin = await app.inject({ method: 'GET', url: '/api/v1/admin/users/', headers: bearer(adminToken) });
      expect(asAdmin.statusCode).toBe(200);
    });
  }, CLI_TIMEOUT);

  it('rejects a weak password, an invalid email and a taken username with the API messages and exit code 1', async () => {
    const taken = uniqueName('cli_taken');
    const weak = uniqueName('cli_weak');
    expect((await runCli(['create-user', taken, '--password', 'long enough'], b.env)).code).toBe(0);
    const results = {
      weak: await runCli(['create-user', weak, '--password', 'short'], b.env),
      email: await runCli(['create-user', uniqueName('cli'), '--password', 'long enough', '--email', 'not-an-email'], b.env),
      taken: await runCli(['create-user', taken.toUpperCase(), '--password', 'long enough'], b.env),
    };

    await b.withApp(async (app, db) => {
      const register = (payload: object) => app.inject({ method: 'POST', url: '/api/v1/auth/register/', payload });
      const api = {
        weak: await register({ username: uniqueName(), password: 'short' }),
        email: await register({ username: uniqueName(), password: 'long enough', email: 'not-an-email' }),
        taken: await register({ username: taken, password: 'long enough' }),
      };
      for (const key of ['weak', 'email', 'taken'] as const) {
        expect(api[key].statusCode).toBeGreaterThanOrEqual(400);
        expect(results[key]).toMatchObject({ code: 1, stdout: '', stderr: `${api[key].json().error}\n` });
      }
      expect(await db.selectFrom('users').select('id').where('username', '=', weak).executeTakeFirst()).toBeUndefined();
    });
  }, CLI_TIMEOUT);

  it('asks for a password instead of prompting when stdin is not a terminal (exit code 2)', async () => {
    const res = await runCli(['create-user', uniqueName('cli')], b.env);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('create-user needs a password: set OFFERS_PASSWORD, pass --password, or run it in a terminal');
  }, CLI_TIMEOUT);

  it('credits a user, prints the transaction id and new balance, and writes the transaction and its ledger row', async () => {
    const username = uniqueName('cli_credit');
    expect((await runCli(['create-user', username, '--password', 'credit password'], b.env)).code).toBe(0);
    const first = await runCli(['credit', username, '50.00', 'welcome', 'bonus'], b.env);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    const match = /^Credited 50\.00 EUR to (\S+): transaction ([0-9a-f-]{36}), new balance 50\.00 EUR\n$/.exec(first.stdout);
    expect(match?.[1]).toBe(username);
    const second = await runCli(['credit', username, '2.5', 'top-up'], b.env);
    expect(second.stdout).toMatch(/new balance 52\.50 EUR\n$/);

    await b.withApp(async (app, db) => {
      const { access } = await login(app, username, 'credit password');
      const balance = await app.inject({ method: 'GET', url: '/api/v1/account/balance/', headers: bearer(access) });
      expect(balance.json()).toEqual({ balance: '52.50', currency: 'EUR' });
      const tx = await app.inject({ method: 'GET', url: `/api/v1/account/transactions/${match?.[2]}/`, headers: bearer(access) });
      expect(tx.statusCode).toBe(200);
      expect(tx.json()).toMatchObject({ type: 'CREDIT', status: 'SUCCESS', amount: '50.00', description: 'welcome bonus' });

      const ledger = await db
        .selectFrom('ledger_entries')
        .innerJoin('users', 'users.id', 'ledger_entries.user_id')
        .select(['ledger_entries.amount', 'ledger_entries.balance_after', 'ledger_entries.transaction_id'])
        .where('users.username', '=', username)
        .orderBy('ledger_entries.id')
        .execute();
      expect(ledger).toEqual([
        { amount: '50.00', balance_after: '50.00', transaction_id: match?.[2] },
        { amount: '2.50', balance_after: '52.50', transaction_id: expect.any(String) },
      ]);
    });
  }, CLI_TIMEOUT);

  it('credits once when run again with the same --idempotency-key, and refuses the key for another amount', async () => {
    const username = uniqueName('cli_idem');
    expect((await runCli(['create-user', username, '--password', 'credit password'], b.env)).code).toBe(0);
    const first = await runCli(['credit', username, '40.00', 'retry', 'safe', '--idempotency-key', 'batch-7'], b.env);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    const again = await runCli(['credit', username, '40.00', 'retry', 'safe', '--idempotency-key', 'batch-7'], b.env);
    expect(again.code).toBe(0);
    const id = /transaction ([0-9a-f-]{36})/.exec(first.stdout)?.[1];
    expect(again.stdout).toBe(`Already credited (same idempotency key) 40.00 EUR to ${username}: transaction ${id}, new balance 40.00 EUR\n`);
    const other = await runCli(['credit', username, '41.00', 'retry', 'safe', '--idempotency-key', 'batch-7'], b.env);
    expect(other).toMatchObject({ code: 1, stdout: '', stderr: 'This Idempotency-Key was already used with a different request\n' });

    await b.withApp(async (app) => {
      const { access } = await login(app, username, 'credit password');
      const balance = await app.inject({ method: 'GET', url: '/api/v1/account/balance/', headers: bearer(access) });
      expect(balance.json()).toEqual({ balance: '40.00', currency: 'EUR' });
    });
  }, CLI_TIMEOUT);

  it('rejects malformed and negative amounts with the API messages, and fails for an unknown user', async () => {
    const amounts = ['5.001', '-3'];
    const cli: CliResult[] = [];
    for (const amount of amounts) cli.push(await runCli(['credit', ADMIN.username, '--', amount, 'x'], b.env));
    const unknown = await runCli(['credit', uniqueName('nobody'), '5.00', 'x'], b.env);
    expect(unknown).toMatchObject({ code: 1, stdout: '' });
    expect(unknown.stderr).toMatch(/^User not found: nobody_[0-9a-f]+\n$/);

    await b.withApp(async (app) => {
      const admin = await login(app, ADMIN.username, ADMIN.password);
      const profile = await app.inject({ method: 'GET', url: '/api/v1/auth/profile/', headers: bearer(admin.access) });
      for (const [i, amount] of amounts.entries()) {
        const api = await app.inject({
          method: 'POST',
          url: `/api/v1/admin/users/${profile.json().id}/credit/`,
          headers: bearer(admin.access),
          payload: { amount, reason: 'x' },
        });
        expect(api.statusCode).toBe(400);
        expect(cli[i]).toMatchObject({ code: 1, stdout: '', stderr: `${api.json().error}\n` });
      }
      const history = await app.inject({ method: 'GET', url: '/api/v1/account/transactions/', headers: bearer(admin.access) });
      expect(history.json()).toMatchObject({ count: 0 });
    });
  }, CLI_TIMEOUT);

  if (backend === 'embedded') {
    it('refuses, in one line, to open an embedded database that a server holds', async () => {
      await b.withApp(async () => {
        const res = await runCli(['seed'], b.env);
        expect(res.code).toBe(1);
        expect(res.stderr).toMatch(/^The embedded database in \S+ is in use by process \d+; stop it first/);
        expect(res.stderr.trim().split('\n')).toHaveLength(1);
      });
    }, CLI_TIMEOUT);
  }
});

describe('CLI usage', () => {
  // No command below reaches the database, so DATA_DIR may point nowhere.
  const env = { DATA_DIR: '/nonexistent/never-created', JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256', LOG_LEVEL: 'silent' };

  it('prints the usage on stdout and exits 0 for help', async () => {
    const res = await runCli(['help'], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^Usage: offers-api <command>/);
    for (const command of ['migrate', 'create-user USERNAME', 'credit USERNAME AMOUNT REASON', 'seed']) {
      expect(res.stdout).toContain(command);
    }
  }, CLI_TIMEOUT);

  it('exits 2 with the usage on stderr for an unknown command', async () => {
    const res = await runCli(['frobnicate'], env);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/^Unknown command: frobnicate\n\nUsage: offers-api/);
  }, CLI_TIMEOUT);

  it('exits 2 when a command is missing arguments or given an unknown option', async () => {
    const missing = await runCli(['credit', 'someone', '5.00'], env);
    expect(missing).toMatchObject({ code: 2, stderr: 'credit takes USERNAME AMOUNT REASON\nRun "offers-api help" for usage.\n' });
    const unknown = await runCli(['seed', '--userz', '5'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--userz'");
  }, CLI_TIMEOUT);

  it('reports a configuration error in one line, without a stack trace, and exits 1', async () => {
    const res = await runCli(['migrate'], { ...env, LOG_LEVEL: 'loud' });
    expect(res).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'Configuration error: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"\n',
    });
  }, CLI_TIMEOUT);
});
