// The money check itself: it must pass on what the service writes and report the balanced-looking
// damage a buggy worker would write (a second refund, a second charge, a forgotten refund), which
// the per-account "balance = Σ ledger" check cannot see.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { charge } from '../../src/ledger/ledger.js';
import { activate, newOffer, newUser, type Offer, type TestUser, waitForFinal } from '../helpers/api.js';
import { backends, startApp, type TestApp } from '../helpers/backends.js';
import { insertTransaction } from '../helpers/fixtures.js';
import { ledgerMismatches, moneyDiscrepancies } from '../helpers/ledger.js';
import { FakePartner } from '../helpers/partner.js';

describe.each(backends)('the money check on %s', (backend) => {
  const partner = new FakePartner();
  let t: TestApp;
  let doomed: Offer;
  beforeAll(async () => {
    const url = await partner.start();
    t = await startApp(backend, { PARTNER_URL: url, PARTNER_TIMEOUT_MS: '2000', AUTH_RATE_LIMIT_PER_MINUTE: '100000' });
    doomed = await newOffer(t.app, { price: '12.50' });
    partner.respond = (_n, call) =>
      call.body.offer_id === doomed.id
        ? { status: 422, body: { error: 'not serviceable' } }
        : { status: 200, body: { reference: 'OK' } };
  });
  afterAll(async () => {
    await t?.close();
    await partner.stop();
  });

  /** A funded user with one successful and one failed-and-refunded activation, made by the service. */
  async function userWithHistory(): Promise<{ user: TestUser; succeeded: string; failed: string }> {
    const user = await newUser(t.app, { balance: '50.00' });
    const offer = await newOffer(t.app, { price: '20.00' });
    const succeeded = (await activate(t.app, user.access, offer.id)).json().transaction_id as string;
    const failed = (await activate(t.app, user.access, doomed.id)).json().transaction_id as string;
    expect((await waitForFinal(t.app, user.access, succeeded)).status).toBe('SUCCESS');
    expect((await waitForFinal(t.app, user.access, failed)).status).toBe('FAILED');
    return { user, succeeded, failed };
  }

  /** What the check says about one user: other tests in this file damage their own users on purpose. */
  async function problemsOf(userId: number): Promise<string[]> {
    const aboutUser = new RegExp(`\\buser ${userId}\\b`);
    return (await moneyDiscrepancies(t.runtime.db)).filter((line) => aboutUser.test(line));
  }

  /** Moves money with the service's own ledger writer, as a buggy code path would. */
  function writeMovement(userId: number, row: { type: 'REFUND'; amount: string; relatedId: string | null } | { chargeOf: string; amount: string }) {
    return t.runtime.db.transaction().execute(async (trx) => {
      if ('chargeOf' in row) return charge(trx, { id: row.chargeOf, user_id: userId, amount: row.amount });
      const id = randomUUID();
      await trx
        .insertInto('transactions')
        .values({ id, user_id: userId, type: 'REFUND', status: 'SUCCESS', amount: row.amount, related_id: row.relatedId, completed_at: new Date() })
        .execute();
      // What a buggy code path that bypassed the ledger's refund (and its one-refund index) would write.
      await sql`UPDATE accounts SET balance = balance + ${row.amount}::numeric WHERE user_id = ${userId}`.execute(trx);
      const { rows } = await sql<{ balance_after: string }>`
        INSERT INTO ledger_entries (user_id, transaction_id, amount, balance_after)
        SELECT ${userId}, ${id}, ${row.amount}::numeric, balance FROM accounts WHERE user_id = ${userId}
        RETURNING balance_after`.execute(trx);
      return rows[0]?.balance_after;
    });
  }

  it('finds nothing wrong with credits, a successful activation and a refunded one', async () => {
    const { user } = await userWithHistory();
    expect(await problemsOf(user.id)).toEqual([]);
  });

  it('reports a second refund of a failed activation, which a balanced ledger hides', async () => {
    const { user, failed } = await userWithHistory();
    // The one-refund index keys on related_id; a refund path that forgets the link slips past it.
    const balance = await writeMovement(user.id, { type: 'REFUND', amount: '12.50', relatedId: null });
    expect(balance).toBe('42.50');

    expect(await ledgerMismatches(t.runtime.db)).toEqual([]);
    const problems = await problemsOf(user.id);
    expect(problems).toEqual([
      `user ${user.id}: credits 50.00 <> balance 42.50 + kept charges 20.00 (off by -12.50)`,
      expect.stringMatching(new RegExp(`^refund [0-9a-f-]{36} of 12\\.50 to user ${user.id} is not the refund of a FAILED activation \\(related to nothing\\)$`)),
    ]);
    expect(problems.join('\n')).not.toContain(failed);
  });

  it('reports a refund of an activation that succeeded', async () => {
    const { user, succeeded } = await userWithHistory();
    await writeMovement(user.id, { type: 'REFUND', amount: '20.00', relatedId: succeeded });

    expect(await ledgerMismatches(t.runtime.db)).toEqual([]);
    expect(await problemsOf(user.id)).toEqual([
      `user ${user.id}: credits 50.00 <> balance 50.00 + kept charges 20.00 (off by -20.00)`,
      `activation ${succeeded} (SUCCESS, user ${user.id}) has 1 refunds`,
      expect.stringMatching(/is not the refund of a FAILED activation \(related to ACTIVATION SUCCESS of 20\.00 for user \d+\)$/),
    ]);
  });

  it('reports an activation charged twice', async () => {
    const { user, succeeded } = await userWithHistory();
    await writeMovement(user.id, { chargeOf: succeeded, amount: '20.00' });

    expect(await ledgerMismatches(t.runtime.db)).toEqual([]);
    expect(await problemsOf(user.id)).toEqual([
      `user ${user.id}: credits 50.00 <> balance 10.00 + kept charges 20.00 (off by 20.00)`,
      `ACTIVATION ${succeeded} (SUCCESS, 20.00, user ${user.id}) has ledger rows [-20.00 for user ${user.id}, -20.00 for user ${user.id}], expected exactly one of -20.00`,
    ]);
  });

  it('reports a failed activation whose refund was never written', async () => {
    const user = await newUser(t.app, { balance: '50.00' });
    const offer = await newOffer(t.app, { price: '20.00' });
    // A worker that marks the activation FAILED and stops there: charged, failed, never refunded.
    const id = await insertTransaction(t.runtime.db, { userId: user.id, type: 'ACTIVATION', status: 'FAILED', amount: '20.00', offerId: offer.id });
    await writeMovement(user.id, { chargeOf: id, amount: '20.00' });

    expect(await ledgerMismatches(t.runtime.db)).toEqual([]);
    expect(await problemsOf(user.id)).toEqual([
      `user ${user.id}: credits 50.00 <> balance 30.00 + kept charges 0 (off by 20.00)`,
      `activation ${id} (FAILED, user ${user.id}) has 0 refunds`,
    ]);
  });
});
