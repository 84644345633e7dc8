import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, login, uniqueName } from '../helpers/api.js';
import { ADMIN, backends } from '../helpers/backends.js';
import { type CliBackend, type CliResult, CLI_TIMEOUT, cliBackend, runCli } from './run-cli.js';

describe.each(backends)('CLI credit on %s', (backend) => {
  let b: CliBackend;
  beforeAll(async () => {
    b = await cliBackend(backend);
  });
  afterAll(async () => b?.cleanup());

  async function newCliUser() {
    const username = uniqueName('cli_credit');
    const res = await runCli(['create-user', username, '--password', 'credit password'], b.env);
    expect(res.code).toBe(0);
    return username;
  }

  it('credits a user, prints the transaction id and new balance, and writes the transaction and its ledger row', async () => {
    const username = await newCliUser();
    const first = await runCli(['credit', username, '50.00', 'welcome', 'bonus'], b.env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^Credited 50\.00 EUR/);
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

  it('rejects malformed and non-positive amounts with the API messages, and changes nothing', async () => {
    const username = await newCliUser();
    const amounts = ['5.001', '-3'];
    const cli: CliResult[] = [];
    for (const amount of amounts) cli.push(await runCli(['credit', username, '--', amount, 'x'], b.env));

    await b.withApp(async (app) => {
      const { access } = await login(app, username, 'credit password');
      const profile = await app.inject({ method: 'GET', url: '/api/v1/auth/profile/', headers: bearer(access) });
      const admin = await login(app, ADMIN.username, ADMIN.password);
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
      const history = await app.inject({ method: 'GET', url: '/api/v1/account/transactions/', headers: bearer(access) });
      expect(history.json()).toMatchObject({ count: 0, results: [] });
    });
  }, CLI_TIMEOUT);

  it('fails with exit code 1 for an unknown user', async () => {
    const res = await runCli(['credit', uniqueName('nobody'), '5.00', 'x'], b.env);
    expect(res).toMatchObject({ code: 1, stdout: '' });
    expect(res.stderr).toMatch(/^User not found: nobody_[0-9a-f]+\n$/);
  }, CLI_TIMEOUT);
});
