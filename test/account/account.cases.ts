import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, credit, newOffer, newUser, type TestUser } from '../helpers/api.js';
import { type TestApp } from '../helpers/backends.js';
import { expectConsistentPaging, expectError, getPage } from '../helpers/checks.js';
import { insertSubscription, insertTransaction, userWithTransactions } from '../helpers/fixtures.js';

interface Transaction {
  transaction_id: string;
  type: string;
  status: string;
  amount: string;
  offer: { id: number } | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

export function accountTests(app: () => TestApp) {
  describe('account', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = app();
    });

    const get = (url: string, user: TestUser | undefined) =>
      t.app.inject({ method: 'GET', url, headers: user ? bearer(user.access) : {} });

    describe('overview, balance and subscriptions', () => {
      it('shows a new user an empty account', async () => {
        const user = await newUser(t.app);
        const res = await get('/api/v1/account/', user);
        expect(res.statusCode).toBe(200);
        expect(res.json()).toEqual({ username: user.username, balance: '0.00', currency: 'EUR', active_offers: [] });
        expect((await get('/api/v1/account/balance/', user)).json()).toEqual({ balance: '0.00', currency: 'EUR' });
      });

      it('shows the balance after credits as a decimal string', async () => {
        const user = await newUser(t.app, { balance: '20.00' });
        await credit(t.app, user.id, '0.50');
        expect((await get('/api/v1/account/', user)).json()).toMatchObject({ balance: '20.50' });
        expect((await get('/api/v1/account/balance/', user)).json()).toEqual({ balance: '20.50', currency: 'EUR' });
      });

      it('lists the active offers with the offer, activation, expiry and buying transaction, and leaves expired ones out', async () => {
        const user = await newUser(t.app);
        const offer = await newOffer(t.app, { price: '9.99', duration_days: 10 });
        const expiredOffer = await newOffer(t.app);
        const bought = await insertSubscription(t.runtime.db, { userId: user.id, offerId: offer.id, daysLeft: 9 });
        await insertSubscription(t.runtime.db, { userId: user.id, offerId: expiredOffer.id, daysLeft: -1 });
        const other = await newUser(t.app);
        await insertSubscription(t.runtime.db, { userId: other.id, offerId: expiredOffer.id, daysLeft: 5 });

        const expected = {
          offer: { id: offer.id, name: offer.name, description: 'test offer', price: '9.99', duration_days: 10, is_active: true },
          activated_at: bought.activatedAt.toISOString(),
          expires_at: bought.expiresAt.toISOString(),
          transaction_id: bought.transactionId,
        };
        expect((await get('/api/v1/account/', user)).json().active_offers).toEqual([expected]);
        const page = await getPage(t.app, '/api/v1/account/subscriptions/', bearer(user.access));
        expect(page).toEqual({ count: 1, next: null, previous: null, results: [{ id: expect.any(Number), ...expected, status: 'ACTIVE', auto_renew: false }] });
      });

      it('pages the subscriptions forward and back', async () => {
        const user = await newUser(t.app);
        for (let i = 0; i < 5; i++) {
          const offer = await newOffer(t.app);
          await insertSubscription(t.runtime.db, { userId: user.id, offerId: offer.id, daysLeft: i + 1 });
        }
        const subs = await expectConsistentPaging<{ transaction_id: string }>(t.app, '/api/v1/account/subscriptions/', bearer(user.access), {
          limit: 2,
          key: (s) => s.transaction_id,
        });
        expect(subs).toHaveLength(5);
        expectError(await get('/api/v1/account/subscriptions/?limit=0', user), 400);
        expectError(await get('/api/v1/account/subscriptions/?cursor=bogus', user), 400);
      });

      it.each(['/api/v1/account/', '/api/v1/account/balance/', '/api/v1/account/subscriptions/', '/api/v1/account/transactions/'])(
        'needs a token for %s',
        async (url) => {
          expectError(await get(url, undefined), 401, 'not_authenticated');
        },
      );
    });

    describe('transactions', () => {
      /** A user with one transaction of each kind, oldest first. */
      const userWithHistory = () =>
        userWithTransactions(t.app, t.runtime.db, {
          pending: { type: 'ACTIVATION', status: 'PENDING' },
          failed: { type: 'ACTIVATION', status: 'FAILED' },
          refund: { type: 'REFUND', status: 'SUCCESS' },
          success: { type: 'ACTIVATION', status: 'SUCCESS' },
        });

      it('lists only the caller’s transactions, newest first, with their fields', async () => {
        const { user, offer, ids } = await userWithHistory();
        await userWithHistory();
        const page = await getPage<Transaction>(t.app, '/api/v1/account/transactions/', bearer(user.access));
        expect(page.count).toBe(5);
        expect(page.results.map((r) => r.transaction_id)).toEqual([ids.success, ids.refund, ids.failed, ids.pending, ids.credit]);
        expect(page.results[0]).toMatchObject({ type: 'ACTIVATION', status: 'SUCCESS', amount: '10.00', offer: { id: offer.id, name: offer.name } });
        expect(page.results[4]).toMatchObject({ type: 'CREDIT', status: 'SUCCESS', amount: '30.00', offer: null });
        expect(page.results[3]).toMatchObject({ status: 'PENDING', completed_at: null });
        for (const row of page.results) {
          expect(Object.keys(row)).toEqual(
            expect.arrayContaining(['transaction_id', 'type', 'status', 'amount', 'offer', 'created_at', 'updated_at', 'completed_at']),
          );
        }
      });

      it('writes each listed transaction byte for byte as its own endpoint does', async () => {
        const { user, ids } = await userWithHistory();
        // Every optional field set, with text that needs escaping, on both kinds of row.
        await t.runtime.db
          .updateTable('transactions')
          .set({ error_code: 'partner_error', error_message: 'Said "no"\n\ttwice \\ ünïcødé ✓ \u0001' })
          .where('id', '=', ids.failed)
          .execute();
        await t.runtime.db
          .updateTable('transactions')
          .set({ related_id: ids.failed, reference: 'ref/1', description: 'Refund of «failed»' })
          .where('id', '=', ids.refund)
          .execute();
        const list = await get('/api/v1/account/transactions/', user);
        expect(list.statusCode).toBe(200);
        expect(list.headers['content-type']).toBe('application/json; charset=utf-8');
        for (const id of Object.values(ids)) {
          const one = await get(`/api/v1/account/transactions/${id}/`, user);
          expect(one.statusCode).toBe(200);
          expect(list.body).toContain(one.body);
        }
        expect(list.json().results[2]).toMatchObject({ error: { code: 'partner_error', message: 'Said "no"\n\ttwice \\ ünïcødé ✓ \u0001' } });
      });

      it.each([
        ['status=SUCCESS', ['success', 'refund', 'credit']],
        ['status=PENDING', ['pending']],
        ['status=FAILED', ['failed']],
        ['status=PROCESSING', []],
        ['type=ACTIVATION', ['success', 'failed', 'pending']],
        ['type=REFUND', ['refund']],
        ['type=CREDIT', ['credit']],
        ['type=ACTIVATION&status=SUCCESS', ['success']],
      ] as const)('filters with ?%s', async (query, expected) => {
        const { user, ids } = await userWithHistory();
        const page = await getPage<Transaction>(t.app, `/api/v1/account/transactions/?${query}`, bearer(user.access));
        expect(page.results.map((r) => r.transaction_id)).toEqual(expected.map((k) => ids[k]));
        expect(page.count).toBe(expected.length);
      });

      it('pages the history forward and back, also with a filter', async () => {
        const { user } = await userWithHistory();
        await credit(t.app, user.id, '1.00');
        const all = await expectConsistentPaging<Transaction>(t.app, '/api/v1/account/transactions/', bearer(user.access), {
          limit: 2,
          key: (r) => r.transaction_id,
        });
        expect(all).toHaveLength(6);
        const successes = await expectConsistentPaging<Transaction>(t.app, '/api/v1/account/transactions/?status=SUCCESS', bearer(user.access), {
          limit: 1,
          key: (r) => r.transaction_id,
        });
        expect(successes.every((r) => r.status === 'SUCCESS')).toBe(true);
        expect(successes).toHaveLength(4);
      });

      it('pages 50 transactions by default', async () => {
        const user = await newUser(t.app);
        for (let i = 0; i < 51; i++) await insertTransaction(t.runtime.db, { userId: user.id, type: 'CREDIT', status: 'SUCCESS' });
        const page = await getPage<Transaction>(t.app, '/api/v1/account/transactions/', bearer(user.access));
        expect(page.count).toBe(51);
        expect(page.results).toHaveLength(50);
        expect(page.next).not.toBeNull();
      });

      it.each([
        'status=success',
        'status=DONE',
        'type=PURCHASE',
        'type=',
        'limit=0',
        'limit=201',
        'limit=ten',
        'cursor=garbage',
        `cursor=${Buffer.from('n:99999999999999999').toString('base64url')}`,
      ])('answers 400 for ?%s', async (query) => {
        const user = await newUser(t.app);
        expectError(await get(`/api/v1/account/transactions/?${query}`, user), 400);
      });

      it('shows one of the caller’s transactions', async () => {
        const { user, offer, ids } = await userWithHistory();
        const res = await get(`/api/v1/account/transactions/${ids.failed}/`, user);
        expect(res.statusCode).toBe(200);
        expect(res.json()).toMatchObject({
          transaction_id: ids.failed,
          type: 'ACTIVATION',
          status: 'FAILED',
          amount: '10.00',
          offer: { id: offer.id, name: offer.name, price: offer.price },
        });
      });

      it('answers 404 alike for another user’s, an unknown and a malformed transaction id', async () => {
        const { ids } = await userWithHistory();
        const stranger = await newUser(t.app);
        const answers = [
          await get(`/api/v1/account/transactions/${ids.credit}/`, stranger),
          await get('/api/v1/account/transactions/00000000-0000-4000-8000-000000000000/', stranger),
          await get('/api/v1/account/transactions/not-a-uuid/', stranger),
          await get('/api/v1/account/transactions/12345/', stranger),
        ];
        const bodies = answers.map((res) => expectError(res, 404, 'not_found'));
        expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
        expectError(await get(`/api/v1/account/transactions/${ids.credit}/`, undefined), 401);
      });
    });
  });
}
