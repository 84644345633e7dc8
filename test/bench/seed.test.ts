// bench/seed.ts, the benchmark's data generator, as `npm run bench` runs it: a process on the
// service's database.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/connect.js';
import { type CliBackend, CLI_TIMEOUT, cliBackend, runScript } from '../cli/run-cli.js';
import { bearer, login } from '../helpers/api.js';
import { backends } from '../helpers/backends.js';

const runSeed = (args: string[], env: Record<string, string>) => runScript('bench/seed.ts', args, env);

/** Accounts whose balance is not the sum of their ledger, and ledger rows that are not the running balance. */
async function ledgerProblems(db: Database) {
  const { rows } = await sql<{ unbalanced: number; broken_running: number; wrong_counts: number }>`
    SELECT
      (SELECT count(*)::int FROM accounts a
        WHERE a.balance <> (SELECT coalesce(sum(l.amount), 0) FROM ledger_entries l WHERE l.user_id = a.user_id)) AS unbalanced,
      (SELECT count(*)::int FROM (
         SELECT balance_after, sum(amount) OVER (PARTITION BY user_id ORDER BY id) AS running FROM ledger_entries
       ) AS l WHERE l.balance_after <> l.running) AS broken_running,
      (SELECT count(*)::int FROM (
         SELECT user_id, type, status, count(*)::int AS n FROM transactions GROUP BY 1, 2, 3
       ) AS actual FULL JOIN transaction_counts c USING (user_id, type, status)
        WHERE coalesce(actual.n, 0) <> coalesce(c.n, 0)) AS wrong_counts`.execute(db);
  return rows[0];
}

describe.each(backends)('the benchmark seeder on %s', (backend) => {
  let b: CliBackend;
  beforeAll(async () => {
    b = await cliBackend(backend);
  });
  afterAll(async () => b?.cleanup());

  it('seeds users, offers and a long history in batches with a consistent ledger, and adds only what is missing when run again', async () => {
    const seed = (users: string, history: string) =>
      runSeed(['--users', users, '--balance', '25.50', '--offers', '3', '--history-user', 'bench_user_000002', '--history', history, '--batch', '700'], b.env);
    const runs = [
      {
        users: '50',
        history: '2000',
        stdout:
          'Offers: 3 added, 0 already there.\n' +
          'Users: 50 created, 0 already there (bench_user_000001 … bench_user_000050).\n' +
          'History of bench_user_000002: 2000 transactions added, 0 already there; balance 45.50 EUR.\n',
      },
      {
        users: '60',
        history: '2500',
        stdout:
          'Offers: 0 added, 3 already there.\n' +
          'Users: 10 created, 50 already there (bench_user_000001 … bench_user_000060).\n' +
          'History of bench_user_000002: 500 transactions added, 2000 already there; balance 50.50 EUR.\n',
      },
    ];
    for (const run of runs) {
      const res = await seed(run.users, run.history);
      expect(res.code).toBe(0);
      expect(res.stdout).toBe(run.stdout);
    }

    await b.withApp(async (app, db) => {
      const users = await db
        .selectFrom('users')
        .innerJoin('accounts', 'accounts.user_id', 'users.id')
        .select(['users.username', 'accounts.balance'])
        .where('users.username', 'like', 'bench\\_user\\_%')
        .orderBy('users.username')
        .execute();
      expect(users).toHaveLength(60);
      expect(users[0]).toEqual({ username: 'bench_user_000001', balance: '25.50' });
      expect(users[1]).toEqual({ username: 'bench_user_000002', balance: '50.50' });
      expect(users[59]).toEqual({ username: 'bench_user_000060', balance: '25.50' });
      expect(await ledgerProblems(db)).toEqual({ unbalanced: 0, broken_running: 0, wrong_counts: 0 });

      const offers = await app.inject({ method: 'GET', url: '/api/v1/offers/', headers: bearer((await login(app, 'bench_user_000060', 'bench-password')).access) });
      expect(offers.json().results.map((o: { name: string; price: string }) => `${o.name} ${o.price}`)).toEqual(
        expect.arrayContaining(['Bench offer 001 1.00', 'Bench offer 002 1.00', 'Bench offer 003 1.00']),
      );

      const { access } = await login(app, 'bench_user_000002', 'bench-password');
      const history = await app.inject({ method: 'GET', url: '/api/v1/account/transactions/?limit=1', headers: bearer(access) });
      expect(history.json()).toMatchObject({ count: 2501, results: [{ type: 'CREDIT', status: 'SUCCESS', amount: '0.01' }] });
    });
  }, CLI_TIMEOUT);

  it('creates a missing history user with the seed password', async () => {
    const res = await runSeed(['--history-user', 'history_only', '--history', '30', '--password', 'another-password'], b.env);
    expect(res).toMatchObject({ code: 0, stdout: 'History of history_only: 30 transactions added, 0 already there; balance 0.30 EUR.\n' });
    await b.withApp(async (app, db) => {
      const { access } = await login(app, 'history_only', 'another-password');
      const balance = await app.inject({ method: 'GET', url: '/api/v1/account/balance/', headers: bearer(access) });
      expect(balance.json()).toMatchObject({ balance: '0.30' });
      expect(await ledgerProblems(db)).toEqual({ unbalanced: 0, broken_running: 0, wrong_counts: 0 });
    });
  }, CLI_TIMEOUT);

  it('refuses bad arguments with exit code 2 and its usage', async () => {
    const res = await runSeed(['--history-user', 'someone'], b.env);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^--history-user and --history go together\n\nUsage: npx tsx bench\/seed\.ts/);
  }, CLI_TIMEOUT);
});
