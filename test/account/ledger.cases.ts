import fc from 'fast-check';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminToken, bearer, newUser } from '../helpers/api.js';
import { type TestApp } from '../helpers/backends.js';
import { sumMoney } from '../helpers/checks.js';

const amount = fc
  .tuple(fc.integer({ min: 0, max: 99_999 }), fc.integer({ min: 0, max: 99 }))
  .filter(([whole, cents]) => whole + cents > 0)
  .map(([whole, cents]) => `${whole}.${String(cents).padStart(2, '0')}`);

export function ledgerTests(app: () => TestApp) {
  describe('ledger and balances', () => {
    let t: TestApp;
    let admin: Record<string, string>;
    beforeAll(async () => {
      t = app();
      admin = bearer(await adminToken(t.app));
    });

    const credit = async (userId: number, value: string) => {
      const res = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${userId}/credit/`, headers: admin, payload: { amount: value, reason: 'ledger test' } });
      expect(res.statusCode, res.body).toBe(201);
      return res.json() as { transaction_id: string; balance: string };
    };

    /** Accounts whose balance is not the sum of their ledger rows (there should be none). */
    async function inconsistentAccounts() {
      const { rows } = await sql<{ user_id: number; balance: string; ledger: string }>`
        SELECT a.user_id, a.balance::text, coalesce(l.total, 0)::text AS ledger
          FROM accounts a
          LEFT JOIN (SELECT user_id, sum(amount) AS total FROM ledger_entries GROUP BY user_id) l USING (user_id)
         WHERE a.balance <> coalesce(l.total, 0)`.execute(t.runtime.db);
      return rows;
    }

    it('keeps every balance equal to the sum of its ledger rows over a series of credits', async () => {
      const users = [await newUser(t.app), await newUser(t.app), await newUser(t.app)];
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), amount), { minLength: 1, maxLength: 8 }), async (credits) => {
          const before = await Promise.all(users.map((u) => t.runtime.db.selectFrom('accounts').select('balance').where('user_id', '=', u.id).executeTakeFirstOrThrow()));
          const last: string[] = before.map((b) => b.balance);
          for (const [who, value] of credits) last[who] = (await credit(users[who]!.id, value)).balance;
          const expected = users.map((_, i) => sumMoney([before[i]!.balance, ...credits.filter(([w]) => w === i).map(([, v]) => v)]));
          expect(last).toEqual(expected);
          expect(await inconsistentAccounts()).toEqual([]);
        }),
        { numRuns: 6 },
      );
      for (const user of users) {
        const res = await t.app.inject({ method: 'GET', url: '/api/v1/account/balance/', headers: bearer(user.access) });
        const { rows } = await sql<{ total: string }>`SELECT coalesce(sum(amount), 0)::text AS total FROM ledger_entries WHERE user_id = ${user.id}`.execute(t.runtime.db);
        expect(res.json().balance).toBe(rows[0]!.total);
      }
    });

    it('writes exactly one ledger row per credit, with the credited amount and the balance after it', async () => {
      const user = await newUser(t.app);
      const first = await credit(user.id, '10.00');
      const second = await credit(user.id, '2.50');
      const rows = await t.runtime.db
        .selectFrom('ledger_entries')
        .select(['transaction_id', 'amount', 'balance_after'])
        .where('user_id', '=', user.id)
        .orderBy('id')
        .execute();
      expect(rows).toEqual([
        { transaction_id: first.transaction_id, amount: '10.00', balance_after: '10.00' },
        { transaction_id: second.transaction_id, amount: '2.50', balance_after: '12.50' },
      ]);
    });

    it('loses no money when many credits land at once', async () => {
      const user = await newUser(t.app);
      const values = Array.from({ length: 20 }, (_, i) => `${i + 1}.01`);
      const results = await Promise.all(values.map((v) => credit(user.id, v)));
      expect(new Set(results.map((r) => r.balance)).size).toBe(20);
      const account = await t.runtime.db.selectFrom('accounts').select('balance').where('user_id', '=', user.id).executeTakeFirstOrThrow();
      expect(account.balance).toBe(sumMoney(values));
      const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ledger_entries WHERE user_id = ${user.id}`.execute(t.runtime.db);
      expect(rows[0]!.n).toBe(20);
      expect(await inconsistentAccounts()).toEqual([]);
    });

    it('refuses to UPDATE or DELETE a ledger row', async () => {
      const user = await newUser(t.app);
      await credit(user.id, '5.00');
      await expect(sql`UPDATE ledger_entries SET amount = 500 WHERE user_id = ${user.id}`.execute(t.runtime.db)).rejects.toThrow(/immutable/);
      await expect(sql`DELETE FROM ledger_entries WHERE user_id = ${user.id}`.execute(t.runtime.db)).rejects.toThrow(/immutable/);
      const { rows } = await sql<{ amount: string }>`SELECT amount::text FROM ledger_entries WHERE user_id = ${user.id}`.execute(t.runtime.db);
      expect(rows).toEqual([{ amount: '5.00' }]);
    });

    it('refuses a balance below zero in the database itself', async () => {
      const user = await newUser(t.app);
      await credit(user.id, '5.00');
      await expect(sql`UPDATE accounts SET balance = balance - 5.01 WHERE user_id = ${user.id}`.execute(t.runtime.db)).rejects.toMatchObject({
        code: '23514',
      });
      const account = await t.runtime.db.selectFrom('accounts').select('balance').where('user_id', '=', user.id).executeTakeFirstOrThrow();
      expect(account.balance).toBe('5.00');
    });
  });
}
