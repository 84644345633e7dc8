import { beforeAll, describe, expect, it } from 'vitest';
import { adminToken, bearer, credit } from '../helpers/api.js';
import { type TestApp } from '../helpers/backends.js';
import { expectConsistentPaging, expectError, getPage } from '../helpers/checks.js';
import { userWithTransactions } from '../helpers/fixtures.js';

interface Transaction {
  transaction_id: string;
  type: string;
  status: string;
}

export function adminTransactionTests(app: () => TestApp) {
  describe('transactions', () => {
    let t: TestApp;
    let admin: Record<string, string>;
    beforeAll(async () => {
      t = app();
      admin = bearer(await adminToken(t.app));
    });

    const list = (query: string) => getPage<Transaction>(t.app, `/api/v1/admin/transactions/?${query}`, admin);

    const userWithHistory = () =>
      userWithTransactions(t.app, t.runtime.db, {
        failed: { type: 'ACTIVATION', status: 'FAILED' },
        refund: { type: 'REFUND', status: 'SUCCESS' },
        processing: { type: 'ACTIVATION', status: 'PROCESSING' },
      });

    it('lists everyone’s transactions, newest first', async () => {
      const a = await userWithHistory();
      const b = await userWithHistory();
      const page = await list('limit=200');
      const ids = page.results.map((r) => r.transaction_id);
      const mine = [b.ids.processing, b.ids.refund, b.ids.failed, b.ids.credit, a.ids.processing, a.ids.refund, a.ids.failed, a.ids.credit];
      expect(ids.filter((id) => mine.includes(id))).toEqual(mine);
      expect(page.count).toBe(page.results.length);
    });

    it('filters by ?user=', async () => {
      const { user, ids } = await userWithHistory();
      await userWithHistory();
      const page = await list(`user=${user.id}`);
      expect(page.results.map((r) => r.transaction_id)).toEqual([ids.processing, ids.refund, ids.failed, ids.credit]);
      expect(page.count).toBe(4);
    });

    it.each([
      ['status=SUCCESS', ['refund', 'credit']],
      ['status=FAILED', ['failed']],
      ['status=PROCESSING', ['processing']],
      ['status=PENDING', []],
      ['type=ACTIVATION', ['processing', 'failed']],
      ['type=CREDIT', ['credit']],
      ['type=REFUND&status=SUCCESS', ['refund']],
    ] as const)('filters by ?user= with ?%s', async (query, expected) => {
      const { user, ids } = await userWithHistory();
      const page = await list(`user=${user.id}&${query}`);
      expect(page.results.map((r) => r.transaction_id)).toEqual(expected.map((k) => ids[k]));
      expect(page.count).toBe(expected.length);
    });

    it('filters everyone’s transactions by ?status= and ?type=', async () => {
      await userWithHistory();
      const failed = await list('status=FAILED&limit=200');
      expect(failed.results.length).toBeGreaterThan(0);
      expect(failed.results.every((r) => r.status === 'FAILED')).toBe(true);
      const refunds = await list('type=REFUND&limit=200');
      expect(refunds.results.length).toBeGreaterThan(0);
      expect(refunds.results.every((r) => r.type === 'REFUND')).toBe(true);
    });

    it('answers an empty page for a user without transactions', async () => {
      expect(await list('user=2147483647')).toEqual({ count: 0, next: null, previous: null, results: [] });
    });

    it('pages forward and back, with and without filters', async () => {
      const { user } = await userWithHistory();
      await credit(t.app, user.id, '1.00');
      const mine = await expectConsistentPaging<Transaction>(t.app, `/api/v1/admin/transactions/?user=${user.id}`, admin, {
        limit: 2,
        key: (r) => r.transaction_id,
      });
      expect(mine).toHaveLength(5);
      await expectConsistentPaging<Transaction>(t.app, '/api/v1/admin/transactions/?type=CREDIT', admin, { limit: 3, key: (r) => r.transaction_id });
    });

    it.each(['user=abc', 'user=0', 'user=-3', 'status=done', 'type=credit', 'limit=500', 'cursor=@@'])('answers 400 for ?%s', async (query) => {
      expectError(await t.app.inject({ method: 'GET', url: `/api/v1/admin/transactions/?${query}`, headers: admin }), 400);
    });
  });
}
