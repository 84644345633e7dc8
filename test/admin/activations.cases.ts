import { beforeAll, describe, expect, it } from 'vitest';
import { adminToken, bearer } from '../helpers/api.js';
import { type TestApp } from '../helpers/backends.js';
import { expectConsistentPaging, expectError, getPage } from '../helpers/checks.js';
import { userWithTransactions } from '../helpers/fixtures.js';

interface Activation {
  transaction_id: string;
  user: { id: number; username: string };
  offer: { id: number; name: string } | null;
  amount: string;
  status: string;
  attempts: number;
  error_code: string | null;
  last_error: string | null;
  needs_review: boolean;
  next_attempt_at: string | null;
  created_at: string;
  completed_at: string | null;
}

export function adminActivationTests(app: () => TestApp) {
  describe('activations', () => {
    let t: TestApp;
    let admin: Record<string, string>;
    beforeAll(async () => {
      t = app();
      admin = bearer(await adminToken(t.app));
    });

    const list = (query: string) => getPage<Activation>(t.app, `/api/v1/admin/activations/?${query}`, admin);

    /** A user with a refunded activation flagged for review, one failed plainly, one retrying, and a refund. */
    async function userWithActivations() {
      const made = await userWithTransactions(t.app, t.runtime.db, {
        reviewed: { type: 'ACTIVATION', status: 'FAILED' },
        failed: { type: 'ACTIVATION', status: 'FAILED' },
        refund: { type: 'REFUND', status: 'SUCCESS' },
        retrying: { type: 'ACTIVATION', status: 'PROCESSING' },
      });
      await t.runtime.db
        .updateTable('transactions')
        .set({ needs_review: true, error_code: 'partner_unavailable', error_message: 'Partner gave no definite answer before the deadline' })
        .where('id', '=', made.ids.reviewed)
        .execute();
      await t.runtime.db
        .updateTable('transactions')
        .set({ attempts: 3, error_message: 'Partner answered HTTP 503', next_run_at: new Date(Date.now() + 60_000) })
        .where('id', '=', made.ids.retrying)
        .execute();
      return made;
    }

    it('lists activations only, newest first, with buyer, offer, attempts and the last error', async () => {
      const { user, offer, ids } = await userWithActivations();
      const page = await list('limit=200');
      const mine = page.results.filter((r) => r.user.id === user.id);
      expect(mine.map((r) => r.transaction_id)).toEqual([ids.retrying, ids.failed, ids.reviewed]);
      expect(page.results.every((r) => r.transaction_id !== ids.refund && r.transaction_id !== ids.credit)).toBe(true);
      expect(mine[0]).toMatchObject({
        user: { id: user.id, username: user.username },
        offer: { id: offer.id, name: offer.name },
        amount: '10.00',
        status: 'PROCESSING',
        attempts: 3,
        last_error: 'Partner answered HTTP 503',
        error_code: null,
        needs_review: false,
        completed_at: null,
      });
      expect(Date.parse(mine[0]!.next_attempt_at!)).toBeGreaterThan(Date.now());
      expect(mine[2]).toMatchObject({ status: 'FAILED', error_code: 'partner_unavailable', needs_review: true, next_attempt_at: null });
    });

    it('lists the activations flagged for review with ?needs_review=true, and counts them', async () => {
      const { ids } = await userWithActivations();
      const flagged = await list('needs_review=true&limit=200');
      expect(flagged.results.map((r) => r.transaction_id)).toContain(ids.reviewed);
      expect(flagged.results.every((r) => r.needs_review && r.status === 'FAILED')).toBe(true);
      expect(flagged.count).toBe(flagged.results.length);

      const rest = await list('needs_review=false&limit=200');
      expect(rest.results.map((r) => r.transaction_id)).toEqual(expect.arrayContaining([ids.failed, ids.retrying]));
      expect(rest.results.some((r) => r.needs_review)).toBe(false);
      expect(rest.count).toBe(rest.results.length);
      expect((await list('limit=200')).count).toBe(flagged.count + rest.count);
    });

    it('filters by ?status=, alone and with ?needs_review=', async () => {
      const { ids } = await userWithActivations();
      const processing = await list('status=PROCESSING&limit=200');
      expect(processing.results.map((r) => r.transaction_id)).toContain(ids.retrying);
      expect(processing.results.every((r) => r.status === 'PROCESSING')).toBe(true);
      expect(processing.count).toBe(processing.results.length);
      const failedPlainly = await list('status=FAILED&needs_review=false&limit=200');
      expect(failedPlainly.results.map((r) => r.transaction_id)).toContain(ids.failed);
      expect(failedPlainly.results.map((r) => r.transaction_id)).not.toContain(ids.reviewed);
      expect(failedPlainly.count).toBe(failedPlainly.results.length);
      expect((await list('status=PROCESSING&needs_review=true')).count).toBe(0);
    });

    it('pages forward and back, with and without filters', async () => {
      await userWithActivations();
      await userWithActivations();
      await expectConsistentPaging<Activation>(t.app, '/api/v1/admin/activations/', admin, { limit: 2, key: (r) => r.transaction_id });
      await expectConsistentPaging<Activation>(t.app, '/api/v1/admin/activations/?needs_review=true', admin, {
        limit: 1,
        key: (r) => r.transaction_id,
      });
    });

    it.each(['needs_review=maybe', 'status=done', 'limit=500', 'cursor=@@'])('answers 400 for ?%s', async (query) => {
      expectError(await t.app.inject({ method: 'GET', url: `/api/v1/admin/activations/?${query}`, headers: admin }), 400);
    });
  });
}
