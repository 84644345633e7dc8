// The subscription lifecycle on a test clock: the exact events a user sees as time moves on, with
// the scheduler's passes run directly (no waiting), and the money checked after every renewal.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TestClock } from '../../src/clock.js';
import { LifecycleScheduler } from '../../src/lifecycle/scheduler.js';
import { activate, adminToken, bearer, credit, getJson, newOffer, newUser, type TestUser, waitForFinal } from '../helpers/api.js';
import { backends, startApp, type TestApp } from '../helpers/backends.js';
import { expectError, getPage } from '../helpers/checks.js';
import { expectMoneyBalanced } from '../helpers/ledger.js';
import { FakePartner } from '../helpers/partner.js';

interface Event {
  type: string;
  subject: string | null;
  data: Record<string, unknown>;
}

interface Subscription {
  id: number;
  offer: { id: number };
  expires_at: string;
  transaction_id: string;
  status: 'ACTIVE' | 'EXPIRED';
  auto_renew: boolean;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

describe.each(backends)('subscription lifecycle on %s', (backend) => {
  const clock = new TestClock();
  let t: TestApp;
  beforeAll(async () => {
    // Only the pass at start-up runs by itself; the tests run the others.
    t = await startApp(backend, { LIFECYCLE_INTERVAL_MS: '3600000', PARTNER_SIM_LATENCY_MS: '0' }, { clock });
  });
  afterAll(async () => t?.close());
  // Subscriptions are bought at the real time; each test starts its clock there.
  beforeEach(() => clock.set(new Date()));

  /** The user's events, oldest first. */
  const eventsOf = async (user: TestUser): Promise<Event[]> =>
    (await getPage<Event>(t.app, '/api/v1/account/events/?limit=200', bearer(user.access))).results.reverse();
  const types = async (user: TestUser) => (await eventsOf(user)).map((e) => e.type);

  const buy = async (user: TestUser, offerId: number) => {
    const res = await activate(t.app, user.access, offerId);
    expect(res.statusCode).toBe(202);
    const done = await waitForFinal(t.app, user.access, res.json().transaction_id);
    expect(done.status).toBe('SUCCESS');
  };
  const subscriptions = async (user: TestUser, status?: 'ACTIVE' | 'EXPIRED') =>
    (await getPage<Subscription>(t.app, `/api/v1/account/subscriptions/${status ? `?status=${status}` : ''}`, bearer(user.access))).results;
  const endOf = async (user: TestUser) => new Date((await subscriptions(user))[0]!.expires_at).getTime();
  const setAutoRenew = async (user: TestUser, id: number, on: boolean) =>
    t.app.inject({ method: 'PATCH', url: `/api/v1/account/subscriptions/${id}/`, headers: bearer(user.access), payload: { auto_renew: on } });
  /** One pass at the clock's time, then the renewals it charged carried through the worker. */
  const pass = async (user: TestUser) => {
    await t.runtime.lifecycle.runOnce();
    for (const e of await eventsOf(user)) {
      if (e.type === 'activation.pending') await waitForFinal(t.app, user.access, e.data.transaction_id as string);
    }
  };
  const at = (ms: number) => clock.set(new Date(ms));

  it('reminds 3 days and 1 day before the end, then expires the subscription, each once', async () => {
    const user = await newUser(t.app, { balance: '50.00' });
    const offer = await newOffer(t.app, { price: '20.00', duration_days: 10 });
    await buy(user, offer.id);
    const end = await endOf(user);

    at(end - 3 * DAY + MINUTE);
    await pass(user);
    await pass(user);
    at(end - DAY + MINUTE);
    await pass(user);
    await pass(user);
    at(end + MINUTE);
    await pass(user);
    await pass(user);

    const events = await eventsOf(user);
    expect(events.map((e) => e.type)).toEqual([
      'balance.credited',
      'activation.pending',
      'activation.succeeded',
      'subscription.activated',
      'subscription.expiring',
      'subscription.expiring',
      'subscription.expired',
    ]);
    const [three, one, expired] = events.slice(4);
    expect(three!.data).toMatchObject({ offer_id: offer.id, days_before: 3, auto_renew: false, price_paid: '20.00', current_price: '20.00', price_changed: false });
    expect(one!.data).toMatchObject({ days_before: 1, expires_at: new Date(end).toISOString() });
    expect(expired!.data).toMatchObject({ offer_id: offer.id, expires_at: new Date(end).toISOString(), auto_renew: false });
    expect((await subscriptions(user, 'EXPIRED')).map((s) => s.offer.id)).toEqual([offer.id]);
    expect(await subscriptions(user, 'ACTIVE')).toEqual([]);
  });

  it('renews an auto-renewing subscription once, at the current price, from its end, and states the price change in the reminders', async () => {
    const user = await newUser(t.app, { balance: '60.00' });
    const offer = await newOffer(t.app, { price: '20.00', duration_days: 10 });
    await buy(user, offer.id);
    const [sub] = await subscriptions(user);
    expect((await setAutoRenew(user, sub!.id, true)).json()).toMatchObject({ id: sub!.id, auto_renew: true, status: 'ACTIVE' });
    const raised = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/admin/offers/${offer.id}/`,
      headers: bearer(await adminToken(t.app)),
      payload: { price: '25.00' },
    });
    expect(raised.statusCode).toBe(200);
    const end = await endOf(user);

    at(end - 3 * DAY + MINUTE);
    await pass(user);
    at(end - DAY + MINUTE);
    await pass(user);
    at(end - 30 * MINUTE);
    await pass(user);
    await pass(user);
    // The old period's end passes: nothing expires, no reminder of the old period comes.
    at(end + MINUTE);
    await pass(user);

    const events = await eventsOf(user);
    expect(events.map((e) => e.type)).toEqual([
      'balance.credited',
      'activation.pending',
      'activation.succeeded',
      'subscription.activated',
      'subscription.expiring',
      'subscription.expiring',
      // 60 - 20 - 25 = 15 is below the price of the next renewal (25).
      'balance.low',
      'activation.pending',
      'activation.succeeded',
      'subscription.extended',
    ]);
    expect(events[4]!.data).toMatchObject({ days_before: 3, auto_renew: true, price_paid: '20.00', current_price: '25.00', price_changed: true });
    expect(events[6]!.data).toMatchObject({ balance: '15.00', threshold: '25.00' });
    expect(events[7]!.data).toMatchObject({ amount: '25.00', source: 'auto_renew' });
    expect(events[9]!.data.expires_at).toBe(new Date(end + 10 * DAY).toISOString());
    const renewals = await t.runtime.db.selectFrom('transactions').select(['amount', 'status']).where('user_id', '=', user.id).where('source', '=', 'auto_renew').execute();
    expect(renewals).toEqual([{ amount: '25.00', status: 'SUCCESS' }]);
    expect(await getJson(t.app, user.access, '/api/v1/account/balance/')).toMatchObject({ balance: '15.00' });
    await expectMoneyBalanced(t.runtime.db);
  });

  it('reports a renewal the balance cannot pay, charges nothing, and then expires the subscription', async () => {
    const user = await newUser(t.app, { balance: '25.00' });
    const offer = await newOffer(t.app, { price: '20.00', duration_days: 10 });
    await buy(user, offer.id);
    const [sub] = await subscriptions(user);
    expect((await setAutoRenew(user, sub!.id, true)).statusCode).toBe(200);
    const end = await endOf(user);

    // Both reminder times have passed: only the nearest is sent.
    at(end - 30 * MINUTE);
    await pass(user);
    await pass(user);
    at(end + MINUTE);
    await pass(user);

    const events = await eventsOf(user);
    expect(events.map((e) => e.type)).toEqual([
      'balance.credited',
      'activation.pending',
      'activation.succeeded',
      'subscription.activated',
      'subscription.renewal_failed',
      'subscription.expiring',
      'subscription.expired',
    ]);
    expect(events[4]!.data).toMatchObject({
      subscription_id: sub!.id,
      offer_id: offer.id,
      reason: 'insufficient_balance',
      period_end: new Date(end).toISOString(),
      transaction_id: null,
    });
    expect(events[5]!.data).toMatchObject({ days_before: 1 });
    const activations = await t.runtime.db.selectFrom('transactions').select('source').where('user_id', '=', user.id).where('type', '=', 'ACTIVATION').execute();
    expect(activations).toEqual([{ source: 'purchase' }]);
    expect(await getJson(t.app, user.access, '/api/v1/account/balance/')).toMatchObject({ balance: '5.00' });
    await expectMoneyBalanced(t.runtime.db);
  });

  it('does not renew for a disabled account: nothing is charged and the subscription ends on time', async () => {
    const user = await newUser(t.app, { balance: '50.00' });
    const offer = await newOffer(t.app, { price: '20.00', duration_days: 10 });
    await buy(user, offer.id);
    const [sub] = await subscriptions(user);
    expect((await setAutoRenew(user, sub!.id, true)).statusCode).toBe(200);
    const end = await endOf(user);
    const disabled = await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${user.id}/disable/`, headers: bearer(await adminToken(t.app)) });
    expect(disabled.statusCode, disabled.body).toBe(200);

    at(end - 30 * MINUTE);
    await t.runtime.lifecycle.runOnce();
    at(end + MINUTE);
    await t.runtime.lifecycle.runOnce();

    const activations = await t.runtime.db.selectFrom('transactions').select('source').where('user_id', '=', user.id).where('type', '=', 'ACTIVATION').execute();
    expect(activations).toEqual([{ source: 'purchase' }]);
    const ended = await t.runtime.db.selectFrom('subscriptions').select('status').where('id', '=', sub!.id).executeTakeFirstOrThrow();
    expect(ended.status).toBe('EXPIRED');
    const account = await t.runtime.db.selectFrom('accounts').select('balance').where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(account.balance).toBe('30.00');
    await expectMoneyBalanced(t.runtime.db);
  });

  it('re-arms the reminders for the new end after a manual renewal two days before the end', async () => {
    const user = await newUser(t.app, { balance: '50.00' });
    const offer = await newOffer(t.app, { price: '20.00', duration_days: 10 });
    await buy(user, offer.id);
    const end = await endOf(user);

    at(end - 3 * DAY + MINUTE);
    await pass(user);
    at(end - 2 * DAY);
    await buy(user, offer.id);
    const newEnd = await endOf(user);
    expect(newEnd).toBe(end + 10 * DAY);
    at(end - DAY + MINUTE);
    await pass(user);
    at(end + MINUTE);
    await pass(user);
    at(newEnd - 3 * DAY + MINUTE);
    await pass(user);
    at(newEnd - DAY + MINUTE);
    await pass(user);
    at(newEnd + MINUTE);
    await pass(user);

    const events = await eventsOf(user);
    expect(events.map((e) => [e.type, e.data.days_before])).toEqual([
      ['balance.credited', undefined],
      ['activation.pending', undefined],
      ['activation.succeeded', undefined],
      ['subscription.activated', undefined],
      ['subscription.expiring', 3],
      ['activation.pending', undefined],
      ['activation.succeeded', undefined],
      ['subscription.extended', undefined],
      ['subscription.expiring', 3],
      ['subscription.expiring', 1],
      ['subscription.expired', undefined],
    ]);
    expect(events[8]!.data.expires_at).toBe(new Date(newEnd).toISOString());
    expect(events[10]!.data.expires_at).toBe(new Date(newEnd).toISOString());
  });

  it('alerts on a low balance once, and again only after a credit lifted it back over the threshold', async () => {
    const user = await newUser(t.app, { balance: '26.00' });
    const big = await newOffer(t.app, { price: '20.00' });
    const small = await newOffer(t.app, { price: '1.00' });
    const medium = await newOffer(t.app, { price: '10.00' });
    await buy(user, big.id); // 6.00
    await buy(user, small.id); // 5.00: not below 5.00
    await buy(user, small.id); // 4.00: below, alert
    await buy(user, small.id); // 3.00: still below, no second alert
    await credit(t.app, user.id, '1.50'); // 4.50: still below, not re-armed
    await buy(user, small.id); // 3.50
    await credit(t.app, user.id, '10.00'); // 13.50: re-armed
    await buy(user, medium.id); // 3.50: alert again

    const lows = (await eventsOf(user)).filter((e) => e.type === 'balance.low');
    expect(lows.map((e) => e.data)).toEqual([
      { balance: '4.00', threshold: '5.00', transaction_id: expect.any(String) },
      { balance: '3.50', threshold: '5.00', transaction_id: expect.any(String) },
    ]);
    await expectMoneyBalanced(t.runtime.db);
  });

  it('changes nothing twice when two schedulers run the same passes at the same time', async () => {
    const users: TestUser[] = [];
    const offer = await newOffer(t.app, { price: '10.00', duration_days: 10 });
    for (let i = 0; i < 4; i++) {
      const user = await newUser(t.app, { balance: '100.00' });
      await buy(user, offer.id);
      if (i % 2 === 0) expect((await setAutoRenew(user, (await subscriptions(user))[0]!.id, true)).statusCode).toBe(200);
      users.push(user);
    }
    const end = Math.max(...(await Promise.all(users.map(endOf))));
    const other = new LifecycleScheduler(t.runtime.db, t.runtime.activation, clock, t.runtime.config.lifecycle, 3_600_000, t.runtime.log);
    const both = async () => {
      await Promise.all([t.runtime.lifecycle.runOnce(), other.runOnce()]);
      for (const user of users) await pass(user);
    };
    at(end - DAY + MINUTE);
    await both();
    at(end - 30 * MINUTE);
    await both();
    at(end + 2 * MINUTE);
    await both();

    for (const [i, user] of users.entries()) {
      const seen = (await types(user)).slice(4);
      expect(seen).toEqual(
        i % 2 === 0
          ? ['subscription.expiring', 'activation.pending', 'activation.succeeded', 'subscription.extended']
          : ['subscription.expiring', 'subscription.expired'],
      );
    }
    const renewals = await t.runtime.db.selectFrom('subscription_renewals').select('subscription_id').where('transaction_id', 'is not', null).execute();
    expect(new Set(renewals.map((r) => r.subscription_id)).size).toBe(renewals.length);
    await expectMoneyBalanced(t.runtime.db);
  });

  it('lets users turn auto-renewal on and off for their own subscriptions only', async () => {
    const [owner, stranger] = [await newUser(t.app, { balance: '20.00' }), await newUser(t.app)];
    const offer = await newOffer(t.app, { price: '20.00' });
    await buy(owner, offer.id);
    const [sub] = await subscriptions(owner);
    expect(sub).toMatchObject({ status: 'ACTIVE', auto_renew: false });
    expect((await setAutoRenew(owner, sub!.id, true)).json()).toMatchObject({ id: sub!.id, auto_renew: true });
    expectError(await setAutoRenew(stranger, sub!.id, false), 404, 'not_found');
    expectError(await setAutoRenew(owner, 2147483647, false), 404, 'not_found');
    const bad = await t.app.inject({ method: 'PATCH', url: `/api/v1/account/subscriptions/${sub!.id}/`, headers: bearer(owner.access), payload: { auto_renew: 'yes' } });
    expectError(bad, 400, 'validation_error');
    expectError(await t.app.inject({ method: 'GET', url: '/api/v1/account/subscriptions/?status=GONE', headers: bearer(owner.access) }), 400, 'validation_error');
    expect((await subscriptions(owner))[0]).toMatchObject({ auto_renew: true });
    expect((await setAutoRenew(owner, sub!.id, false)).json()).toMatchObject({ auto_renew: false });
  });
});

describe.each(backends)('outbox pruning on %s', (backend) => {
  it('deletes events older than EVENT_RETENTION_DAYS and keeps newer ones', async () => {
    const clock = new TestClock();
    const t = await startApp(backend, { LIFECYCLE_INTERVAL_MS: '3600000', EVENT_RETENTION_DAYS: '2' }, { worker: false, clock });
    try {
      const user = await newUser(t.app, { balance: '5.00' });
      expect((await t.runtime.lifecycle.runOnce(new Date(Date.now() + DAY))).pruned).toBe(0);
      const summary = await t.runtime.lifecycle.runOnce(new Date(Date.now() + 3 * DAY));
      expect(summary.pruned).toBeGreaterThan(0);
      expect((await getPage<Event>(t.app, '/api/v1/account/events/', bearer(user.access))).count).toBe(0);
    } finally {
      await t.close();
    }
  });
});

describe.each(backends)('a renewal the partner rejects on %s', (backend) => {
  it('refunds it and reports the renewal failed, then expires the subscription', async () => {
    const partner = new FakePartner();
    partner.respond = (n) => (n === 1 ? { status: 200, body: { reference: 'REF-1' } } : { status: 422, body: { error: 'offer withdrawn' } });
    const clock = new TestClock();
    const t = await startApp(backend, { LIFECYCLE_INTERVAL_MS: '3600000', PARTNER_URL: await partner.start() }, { clock });
    try {
      const user = await newUser(t.app, { balance: '60.00' });
      const offer = await newOffer(t.app, { price: '20.00', duration_days: 10 });
      const bought = await activate(t.app, user.access, offer.id);
      expect((await waitForFinal(t.app, user.access, bought.json().transaction_id)).status).toBe('SUCCESS');
      const [sub] = (await getPage<Subscription>(t.app, '/api/v1/account/subscriptions/', bearer(user.access))).results;
      const patched = await t.app.inject({ method: 'PATCH', url: `/api/v1/account/subscriptions/${sub!.id}/`, headers: bearer(user.access), payload: { auto_renew: true } });
      expect(patched.statusCode).toBe(200);
      const end = new Date(sub!.expires_at).getTime();

      // The reminders were sent earlier; this pass only renews.
      await t.runtime.db.insertInto('subscription_reminders')
        .values([3, 1].map((days) => ({ subscription_id: sub!.id, period_end: new Date(end), days_before: days, sent_at: new Date() })))
        .execute();
      clock.set(new Date(end - 30 * MINUTE));
      await t.runtime.lifecycle.runOnce();
      const renewal = await t.runtime.db.selectFrom('transactions').select('id').where('user_id', '=', user.id).where('source', '=', 'auto_renew').executeTakeFirstOrThrow();
      expect((await waitForFinal(t.app, user.access, renewal.id)).status).toBe('FAILED');
      clock.set(new Date(end + MINUTE));
      await t.runtime.lifecycle.runOnce();

      const events = (await getPage<Event>(t.app, '/api/v1/account/events/?limit=200', bearer(user.access))).results.reverse();
      expect(events.map((e) => e.type)).toEqual([
        'balance.credited',
        'activation.pending',
        'activation.succeeded',
        'subscription.activated',
        'activation.pending',
        'refund.created',
        'activation.failed',
        'subscription.renewal_failed',
        'subscription.expired',
      ]);
      expect(events[7]!.data).toMatchObject({ subscription_id: sub!.id, reason: 'partner_rejected', transaction_id: renewal.id, amount: '20.00' });
      expect(await getJson(t.app, user.access, '/api/v1/account/balance/')).toMatchObject({ balance: '40.00' });
      await expectMoneyBalanced(t.runtime.db);
    } finally {
      await t.close();
      await partner.stop();
    }
  }, 60_000);
});
