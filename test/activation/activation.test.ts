import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activate,
  adminToken,
  activationStatus,
  bearer,
  getJson,
  newOffer,
  newUser,
  waitForFinal,
} from '../helpers/api.js';
import { backends, startApp, type TestApp } from '../helpers/backends.js';
import { expectMoneyBalanced, transactionsOf } from '../helpers/ledger.js';
import { queueDrained } from '../helpers/queue.js';

interface Account {
  balance: string;
  active_offers: { offer: { id: number }; expires_at: string; activated_at: string; transaction_id: string }[];
}

describe.each(backends)('activation on %s (partner simulator)', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(backend, { PARTNER_SIM_LATENCY_MS: '20' });
  });
  afterAll(async () => t?.close());

  it('charges at once, answers 202 PENDING, and the worker activates the offer', async () => {
    const user = await newUser(t.app, { balance: '50.00' });
    const offer = await newOffer(t.app, { price: '20.00', duration_days: 30 });

    const res = await activate(t.app, user.access, offer.id);
    expect(res.statusCode).toBe(202);
    const accepted = res.json();
    expect(accepted).toMatchObject({ status: 'PENDING', message: expect.any(String) });
    expect(accepted.transaction_id).toMatch(/^[0-9a-f-]{36}$/);

    const final = await waitForFinal(t.app, user.access, accepted.transaction_id);
    expect(final).toMatchObject({ status: 'SUCCESS', offer_id: offer.id, amount: '20.00' });
    expect(final.reference).toMatch(/^SIM-/);
    expect(final.completed_at).not.toBeNull();
    expect(final.error).toBeUndefined();

    const account = await getJson<Account>(t.app, user.access, '/api/v1/account/');
    expect(account.balance).toBe('30.00');
    expect(account.active_offers).toHaveLength(1);
    const active = account.active_offers[0]!;
    expect(active.offer.id).toBe(offer.id);
    expect(active.transaction_id).toBe(accepted.transaction_id);
    const days = (Date.parse(active.expires_at) - Date.parse(active.activated_at)) / 86_400_000;
    expect(days).toBeCloseTo(30, 5);

    const history = await getJson<{ results: { transaction_id: string; type: string; status: string }[] }>(
      t.app,
      user.access,
      '/api/v1/account/transactions/',
    );
    expect(history.results.map((r) => [r.type, r.status])).toEqual([
      ['ACTIVATION', 'SUCCESS'],
      ['CREDIT', 'SUCCESS'],
    ]);
    await expectMoneyBalanced(t.runtime.db);
  });

  it('refuses an activation the balance cannot cover and writes nothing', async () => {
    const user = await newUser(t.app, { balance: '19.99' });
    const offer = await newOffer(t.app, { price: '20.00' });
    const res = await activate(t.app, user.access, offer.id);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'Insufficient balance', code: 'insufficient_balance' });
    expect((await getJson<Account>(t.app, user.access, '/api/v1/account/')).balance).toBe('19.99');
    expect((await transactionsOf(t.runtime.db, user.id)).map((r) => r.type)).toEqual(['CREDIT']);
  });

  it('validates offer_id at the edge', async () => {
    const user = await newUser(t.app, { balance: '100.00' });
    const missing = await t.app.inject({ method: 'POST', url: '/api/v1/activation/', headers: bearer(user.access), payload: {} });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ error: 'offer_id is required', code: 'validation_error' });
    for (const bad of ['5', 0, -1, 1.5, null, true, 2 ** 40]) {
      const res = await activate(t.app, user.access, bad);
      expect(res.statusCode, `offer_id ${JSON.stringify(bad)}`).toBe(400);
      expect(res.json().code).toBe('validation_error');
    }
    expect((await getJson<Account>(t.app, user.access, '/api/v1/account/')).balance).toBe('100.00');
  });

  it('answers 404 for unknown and inactive offers without charging', async () => {
    const user = await newUser(t.app, { balance: '100.00' });
    const inactive = await newOffer(t.app, { is_active: false });
    expect((await activate(t.app, user.access, 999_999)).statusCode).toBe(404);
    const res = await activate(t.app, user.access, inactive.id);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'not_found' });
    expect((await getJson<Account>(t.app, user.access, '/api/v1/account/')).balance).toBe('100.00');
  });

  it('requires a token', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/activation/', payload: { offer_id: 1 } });
    expect(res.statusCode).toBe(401);
  });

  it('accepts exactly one of 40 concurrent activations when the funds cover one', async () => {
    const user = await newUser(t.app, { balance: '20.00' });
    const offer = await newOffer(t.app, { price: '20.00' });
    const responses = await Promise.all(Array.from({ length: 40 }, () => activate(t.app, user.access, offer.id)));
    const codes = responses.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 202)).toHaveLength(1);
    expect(codes.filter((c) => c === 400)).toHaveLength(39);
    const winner = responses.find((r) => r.statusCode === 202)!.json().transaction_id as string;
    expect((await waitForFinal(t.app, user.access, winner)).status).toBe('SUCCESS');
    expect((await getJson<Account>(t.app, user.access, '/api/v1/account/')).balance).toBe('0.00');
    const activations = (await transactionsOf(t.runtime.db, user.id)).filter((r) => r.type === 'ACTIVATION');
    expect(activations).toHaveLength(1);
    await expectMoneyBalanced(t.runtime.db);
  });

  it('replays an Idempotency-Key: same transaction, charged once', async () => {
    const user = await newUser(t.app, { balance: '100.00' });
    const offer = await newOffer(t.app, { price: '10.00' });
    const key = randomUUID();
    const first = await activate(t.app, user.access, offer.id, key);
    const second = await activate(t.app, user.access, offer.id, key);
    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(202);
    expect(second.json()).toEqual(first.json());
    expect(second.headers['idempotent-replayed']).toBe('true');
    await waitForFinal(t.app, user.access, first.json().transaction_id);
    const third = await activate(t.app, user.access, offer.id, key);
    expect(third.json().transaction_id).toBe(first.json().transaction_id);
    expect((await getJson<Account>(t.app, user.access, '/api/v1/account/')).balance).toBe('90.00');
  });

  it('charges once for concurrent requests with one Idempotency-Key', async () => {
    const user = await newUser(t.app, { balance: '100.00' });
    const offer = await newOffer(t.app, { price: '10.00' });
    const key = randomUUID();
    const responses = await Promise.all(Array.from({ length: 12 }, () => activate(t.app, user.access, offer.id, key)));
    expect(responses.map((r) => r.statusCode)).toEqual(Array(12).fill(202));
    expect(new Set(responses.map((r) => r.json().transaction_id)).size).toBe(1);
    await waitForFinal(t.app, user.access, responses[0]!.json().transaction_id);
    expect((await getJson<Account>(t.app, user.access, '/api/v1/account/')).balance).toBe('90.00');
    expect((await transactionsOf(t.runtime.db, user.id)).filter((r) => r.type === 'ACTIVATION')).toHaveLength(1);
  });

  it('answers 409 when an Idempotency-Key is reused with a different body', async () => {
    const user = await newUser(t.app, { balance: '100.00' });
    const a = await newOffer(t.app, { price: '10.00' });
    const b = await newOffer(t.app, { price: '10.00' });
    const key = randomUUID();
    expect((await activate(t.app, user.access, a.id, key)).statusCode).toBe(202);
    const res = await activate(t.app, user.access, b.id, key);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('idempotency_key_reused');
    expect((await getJson<Account>(t.app, user.access, '/api/v1/account/')).balance).toBe('90.00');
  });

  it('keeps Idempotency-Keys per user', async () => {
    const alice = await newUser(t.app, { balance: '50.00' });
    const bob = await newUser(t.app, { balance: '50.00' });
    const offer = await newOffer(t.app, { price: '10.00' });
    const key = randomUUID();
    const a = await activate(t.app, alice.access, offer.id, key);
    const b = await activate(t.app, bob.access, offer.id, key);
    expect(a.statusCode).toBe(202);
    expect(b.statusCode).toBe(202);
    expect(b.json().transaction_id).not.toBe(a.json().transaction_id);
  });

  it('rejects a malformed Idempotency-Key', async () => {
    const user = await newUser(t.app, { balance: '50.00' });
    const offer = await newOffer(t.app, { price: '10.00' });
    const res = await activate(t.app, user.access, offer.id, 'x'.repeat(300));
    expect(res.statusCode).toBe(400);
  });

  it("never shows one user another user's activation", async () => {
    const owner = await newUser(t.app, { balance: '50.00' });
    const other = await newUser(t.app);
    const offer = await newOffer(t.app, { price: '10.00' });
    const id = (await activate(t.app, owner.access, offer.id)).json().transaction_id as string;
    await waitForFinal(t.app, owner.access, id); // now cached too: both the cache and database paths are checked
    for (const url of [`/api/v1/activation/status/${id}/`, `/api/v1/account/transactions/${id}/`]) {
      const res = await t.app.inject({ method: 'GET', url, headers: bearer(other.access) });
      expect(res.statusCode, url).toBe(404);
      expect(res.json()).toMatchObject({ code: 'not_found' });
    }
    for (const bad of [randomUUID(), 'not-a-uuid', '1', `${id}x`]) {
      expect((await activationStatus(t.app, owner.access, bad)).statusCode, bad).toBe(404);
    }
  });

  it('extends an active subscription from its current expiry when activated again', async () => {
    const user = await newUser(t.app, { balance: '100.00' });
    const offer = await newOffer(t.app, { price: '10.00', duration_days: 10 });
    await waitForFinal(t.app, user.access, (await activate(t.app, user.access, offer.id)).json().transaction_id);
    const before = (await getJson<Account>(t.app, user.access, '/api/v1/account/')).active_offers[0]!;
    const renewRes = await t.app.inject({
      method: 'POST',
      url: '/api/v1/offers/renew/',
      headers: bearer(user.access),
      payload: { offer_id: offer.id },
    });
    expect(renewRes.statusCode).toBe(202);
    const renewal = await waitForFinal(t.app, user.access, renewRes.json().transaction_id);
    expect(renewal.status).toBe('SUCCESS');
    const account = await getJson<Account>(t.app, user.access, '/api/v1/account/');
    expect(account.active_offers).toHaveLength(1);
    const after = account.active_offers[0]!;
    expect(Date.parse(after.expires_at) - Date.parse(before.expires_at)).toBe(10 * 86_400_000);
    expect(after.activated_at).toBe(before.activated_at);
    expect(after.transaction_id).toBe(renewal.transaction_id);
    expect(account.balance).toBe('80.00');
  });

  it('lists only the offers expiring within 3 days', async () => {
    const user = await newUser(t.app, { balance: '100.00' });
    const short = await newOffer(t.app, { price: '1.00', duration_days: 2 });
    const long = await newOffer(t.app, { price: '1.00', duration_days: 30 });
    for (const offer of [short, long]) {
      await waitForFinal(t.app, user.access, (await activate(t.app, user.access, offer.id)).json().transaction_id);
    }
    const page = await getJson<{ count: number; results: { offer: { id: number } }[] }>(t.app, user.access, '/api/v1/offers/expiring/');
    expect(page.count).toBe(1);
    expect(page.results.map((r) => r.offer.id)).toEqual([short.id]);
    const subs = await getJson<{ count: number }>(t.app, user.access, '/api/v1/account/subscriptions/');
    expect(subs.count).toBe(2);
  });

  it('changes nothing when a finished job is delivered again', async () => {
    const user = await newUser(t.app, { balance: '50.00' });
    const offer = await newOffer(t.app, { price: '10.00' });
    const id = (await activate(t.app, user.access, offer.id)).json().transaction_id as string;
    const done = await waitForFinal(t.app, user.access, id);
    const before = await getJson<Account>(t.app, user.access, '/api/v1/account/');

    await Promise.all([t.runtime.queue.enqueue({ transactionId: id }), t.runtime.queue.enqueue({ transactionId: id })]);
    await queueDrained(t);

    expect(await getJson<Account>(t.app, user.access, '/api/v1/account/')).toEqual(before);
    expect((await activationStatus(t.app, user.access, id)).json()).toEqual(done);
    const rows = await transactionsOf(t.runtime.db, user.id);
    expect(rows.find((r) => r.id === id)?.attempts).toBe(1);
  });
});

describe.each(backends)('activation on %s (simulator rejecting everything)', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(backend, { PARTNER_SIM_LATENCY_MS: '0', PARTNER_SIM_FAILURE_RATE: '1' });
  });
  afterAll(async () => t?.close());

  it('refunds a failed activation exactly once and shows the reason', async () => {
    const user = await newUser(t.app, { balance: '30.00' });
    const offer = await newOffer(t.app, { price: '12.50' });
    const id = (await activate(t.app, user.access, offer.id)).json().transaction_id as string;
    const final = await waitForFinal(t.app, user.access, id);
    expect(final.status).toBe('FAILED');
    expect(final.error).toEqual({ code: 'partner_rejected', message: expect.stringContaining('rejected') });

    // A second delivery of the same job must not refund again.
    await t.runtime.queue.enqueue({ transactionId: id });
    await queueDrained(t);

    const account = await getJson<Account>(t.app, user.access, '/api/v1/account/');
    expect(account.balance).toBe('30.00');
    expect(account.active_offers).toEqual([]);
    const rows = await transactionsOf(t.runtime.db, user.id);
    const refunds = rows.filter((r) => r.type === 'REFUND');
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ status: 'SUCCESS', amount: '12.50', related_id: id });
    const history = await getJson<{ results: { type: string; related_transaction_id: string | null }[] }>(
      t.app,
      user.access,
      '/api/v1/account/transactions/?type=REFUND',
    );
    expect(history.results).toHaveLength(1);
    expect(history.results[0]!.related_transaction_id).toBe(id);
    await expectMoneyBalanced(t.runtime.db);
  });
});

describe.each(backends)('activation on %s when the offer changes before the worker runs', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(backend, { PARTNER_SIM_LATENCY_MS: '0' }, { worker: false });
  });
  afterAll(async () => t?.close());

  it('gives the buyer the duration and price of the moment they paid', async () => {
    const user = await newUser(t.app, { balance: '50.00' });
    const offer = await newOffer(t.app, { price: '20.00', duration_days: 30 });
    const id = (await activate(t.app, user.access, offer.id)).json().transaction_id;

    const admin = bearer(await adminToken(t.app));
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/admin/offers/${offer.id}/`,
      headers: admin,
      payload: { duration_days: 1, price: '45.00' },
    });
    expect(patched.statusCode, patched.body).toBe(200);

    t.runtime.startWorker();
    const final = await waitForFinal(t.app, user.access, id);
    expect(final).toMatchObject({ status: 'SUCCESS', amount: '20.00' });
    const account = await getJson<Account>(t.app, user.access, '/api/v1/account/');
    expect(account.balance).toBe('30.00');
    const active = account.active_offers[0]!;
    expect((Date.parse(active.expires_at) - Date.parse(active.activated_at)) / 86_400_000).toBeCloseTo(30, 5);
  });
});
