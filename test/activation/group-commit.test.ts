// Group commit of purchases: requests that arrive together are charged in one statement, and each
// still gets its own answer (accepted, replayed, refused), with the same money rules as one alone.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestHash } from '../../src/ledger/idempotency.js';
import * as ledger from '../../src/ledger/ledger.js';
import { activate, getJson, newOffer, newUser, type TestUser, waitForFinal } from '../helpers/api.js';
import { backends, startApp, type TestApp } from '../helpers/backends.js';
import { expectError } from '../helpers/checks.js';
import { expectMoneyBalanced } from '../helpers/ledger.js';

const balanceOf = async (t: TestApp, user: TestUser) => (await getJson<{ balance: string }>(t.app, user.access, '/api/v1/account/')).balance;

/** How many database transactions wrote the activation.pending events of these activations. */
async function chargingTransactions(t: TestApp, activationIds: string[]) {
  const { rows } = await sql<{ xid: string; n: number }>`
    SELECT xid::text AS xid, count(*)::int AS n FROM events
     WHERE type = 'activation.pending' AND subject = ANY(string_to_array(${activationIds.join(',')}, ','))
     GROUP BY xid`.execute(t.runtime.db);
  return rows;
}

describe.each(backends)('group commit of purchases on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    // Generous wait so a burst of injected requests reliably meets in batches; at most 8 a batch.
    t = await startApp(backend, { CHARGE_BATCH_MAX_WAIT_MS: '50', CHARGE_BATCH_MAX: '8', PARTNER_SIM_LATENCY_MS: '0' });
  });
  afterAll(async () => t?.close());

  it('charges a burst together and answers every request on its own', async () => {
    const offer = await newOffer(t.app, { price: '10.00', duration_days: 30 });
    const other = await newOffer(t.app, { price: '10.00', duration_days: 30 });
    const buyers = await Promise.all(Array.from({ length: 20 }, () => newUser(t.app, { balance: '25.00' })));
    const poor = await Promise.all(Array.from({ length: 3 }, () => newUser(t.app, { balance: '9.99' })));
    const lost = await newUser(t.app, { balance: '25.00' });
    const replaying = await newUser(t.app, { balance: '25.00' });
    const reusing = await newUser(t.app, { balance: '25.00' });
    const first = await activate(t.app, replaying.access, offer.id, 'key-1');
    const firstOfReusing = await activate(t.app, reusing.access, offer.id, 'key-2');
    expect([first.statusCode, firstOfReusing.statusCode]).toEqual([202, 202]);

    const [bought, refused, unknown, replayed, reused] = await Promise.all([
      Promise.all(buyers.map((u, i) => activate(t.app, u.access, offer.id, i % 2 === 0 ? `buy-${i}` : undefined))),
      Promise.all(poor.map((u) => activate(t.app, u.access, offer.id))),
      activate(t.app, lost.access, 999_999),
      activate(t.app, replaying.access, offer.id, 'key-1'),
      activate(t.app, reusing.access, other.id, 'key-2'),
    ]);

    expect(bought.map((r) => r.statusCode)).toEqual(buyers.map(() => 202));
    for (const r of refused) expectError(r, 400, 'insufficient_balance');
    expectError(unknown, 404, 'not_found');
    expect(replayed.statusCode).toBe(202);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.json().transaction_id).toBe(first.json().transaction_id);
    expectError(reused, 409, 'idempotency_key_reused');

    for (const u of buyers) expect(await balanceOf(t, u)).toBe('15.00');
    for (const u of [...poor]) expect(await balanceOf(t, u)).toBe('9.99');
    for (const u of [lost]) expect(await balanceOf(t, u)).toBe('25.00');
    for (const u of [replaying, reusing]) expect(await balanceOf(t, u)).toBe('15.00');

    // Fewer database transactions than charges, none holding more than CHARGE_BATCH_MAX.
    const groups = await chargingTransactions(t, bought.map((r) => r.json().transaction_id as string));
    expect(groups.reduce((sum, g) => sum + g.n, 0)).toBe(buyers.length);
    expect(groups.length).toBeLessThan(buyers.length);
    expect(Math.max(...groups.map((g) => g.n))).toBeLessThanOrEqual(8);
    await expectMoneyBalanced(t.runtime.db);
  });

  it('replays a key sent twice in one burst and charges it once', async () => {
    const offer = await newOffer(t.app, { price: '10.00', duration_days: 30 });
    const user = await newUser(t.app, { balance: '100.00' });
    const others = await Promise.all(Array.from({ length: 5 }, () => newUser(t.app, { balance: '10.00' })));
    const answers = await Promise.all([
      ...others.map((u) => activate(t.app, u.access, offer.id)),
      activate(t.app, user.access, offer.id, 'same-key'),
      activate(t.app, user.access, offer.id, 'same-key'),
      activate(t.app, user.access, offer.id, 'same-key'),
    ]);
    expect(answers.map((r) => r.statusCode)).toEqual(answers.map(() => 202));
    const mine = answers.slice(others.length);
    expect(new Set(mine.map((r) => r.json().transaction_id)).size).toBe(1);
    expect(mine.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(2);
    expect(await balanceOf(t, user)).toBe('90.00');
  });

  it('grants every period when one user buys the same offer several times at once', async () => {
    const offer = await newOffer(t.app, { price: '10.00', duration_days: 30 });
    const user = await newUser(t.app, { balance: '30.00' });
    const answers = await Promise.all(Array.from({ length: 3 }, () => activate(t.app, user.access, offer.id)));
    expect(answers.map((r) => r.statusCode)).toEqual([202, 202, 202]);
    const finals = await Promise.all(answers.map((r) => waitForFinal(t.app, user.access, r.json().transaction_id as string)));
    expect(finals.map((f) => f.status)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
    const account = await getJson<{ active_offers: { activated_at: string; expires_at: string }[] }>(t.app, user.access, '/api/v1/account/');
    expect(account.active_offers).toHaveLength(1);
    const days = (Date.parse(account.active_offers[0]!.expires_at) - Date.parse(account.active_offers[0]!.activated_at)) / 86_400_000;
    expect(days).toBeCloseTo(90, 2);
  });

  it('never overdraws one user whose requests arrive together', async () => {
    const offer = await newOffer(t.app, { price: '10.00', duration_days: 30 });
    const user = await newUser(t.app, { balance: '35.00' });
    const answers = await Promise.all(Array.from({ length: 12 }, () => activate(t.app, user.access, offer.id)));
    expect(answers.filter((r) => r.statusCode === 202)).toHaveLength(3);
    for (const r of answers.filter((a) => a.statusCode !== 202)) expectError(r, 400, 'insufficient_balance');
    expect(await balanceOf(t, user)).toBe('5.00');
  });
});

describe.each(backends)('a purchase alone on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(backend, { CHARGE_BATCH_MAX_WAIT_MS: '1000' });
  });
  afterAll(async () => t?.close());

  it('is charged at once, not after the batch window', async () => {
    const offer = await newOffer(t.app, { price: '1.00', duration_days: 30 });
    const user = await newUser(t.app, { balance: '10.00' });
    const started = performance.now();
    for (let i = 0; i < 4; i++) expect((await activate(t.app, user.access, offer.id)).statusCode).toBe(202);
    // Waiting out the window each time would take at least 4 s.
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe.skipIf(!backends.includes('postgres'))('a batch that fails as a whole on PostgreSQL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp('postgres', { CHARGE_BATCH_MAX_WAIT_MS: '200', PARTNER_SIM_LATENCY_MS: '0' });
  });
  afterAll(async () => t?.close());

  const lockWaiters = async () => {
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(t.runtime.db);
    return rows[0]!.n;
  };
  const until = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 25));
    expect(await check()).toBe(true);
  };

  it('charges its requests one by one, so one key claimed elsewhere fails none of the others', async () => {
    const offer = await newOffer(t.app, { price: '10.00', duration_days: 30 });
    const [w, x, y, z] = await Promise.all(Array.from({ length: 4 }, () => newUser(t.app, { balance: '50.00' })));
    let commit!: () => void;
    const gate = new Promise<void>((resolve) => (commit = resolve));
    const elsewhere = randomUUID();

    // Another transaction holds W's account and is claiming X's key for a request of its own.
    const other = t.runtime.db.transaction().execute(async (trx) => {
      await sql`SELECT 1 FROM accounts WHERE user_id = ${w!.id} FOR UPDATE`.execute(trx);
      await ledger.credit(trx, { id: elsewhere, userId: x!.id, amount: '1.00', description: 'claimed elsewhere' });
      await trx
        .insertInto('idempotency_keys')
        .values({ user_id: x!.id, key: 'contested', request_hash: requestHash({ offer_id: offer.id }), transaction_id: elsewhere })
        .execute();
      await gate;
    });
    // W's purchase runs alone and waits on its account; X, Y and Z meanwhile gather in one batch.
    const fromW = activate(t.app, w!.access, offer.id);
    await until(async () => (await lockWaiters()) >= 1);
    const fromXyz = Promise.all([activate(t.app, x!.access, offer.id, 'contested'), activate(t.app, y!.access, offer.id), activate(t.app, z!.access, offer.id)]);
    await until(async () => (await lockWaiters()) >= 2);
    commit();
    await other;

    const [answerX, answerY, answerZ] = await fromXyz;
    expect((await fromW).statusCode).toBe(202);
    expect(answerX.statusCode).toBe(202);
    expect(answerX.headers['idempotent-replayed']).toBe('true');
    expect(answerX.json().transaction_id).toBe(elsewhere);
    expect([answerY.statusCode, answerZ.statusCode]).toEqual([202, 202]);
    expect(await balanceOf(t, w!)).toBe('40.00');
    expect(await balanceOf(t, x!)).toBe('51.00');
    expect(await balanceOf(t, y!)).toBe('40.00');
    expect(await balanceOf(t, z!)).toBe('40.00');
    await expectMoneyBalanced(t.runtime.db);
  });
});
