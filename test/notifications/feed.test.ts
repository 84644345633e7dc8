// The in-app feed: the events a person should see become their notifications, newest first, with
// an unread count; they mark them read by id or all at once, and only their own.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEED_CONSUMER } from '../../src/notifications/feed.js';
import { activate, bearer, credit, newOffer, newUser, type TestUser, waitForFinal } from '../helpers/api.js';
import { backends, startApp, type TestApp } from '../helpers/backends.js';
import { expectError } from '../helpers/checks.js';
import { FakePartner } from '../helpers/partner.js';
import { drain, emitEvents, feed, rewindConsumer } from './helpers.js';

describe.each(backends)('notification feed on %s', (backend) => {
  let t: TestApp;
  const partner = new FakePartner();
  beforeAll(async () => {
    const partnerUrl = await partner.start();
    partner.respond = (_n, call) =>
      call.body.amount === '13.00' ? { status: 422, body: { error: 'Address not serviceable' } } : { status: 200, body: { reference: 'REF-OK' } };
    t = await startApp(backend, { PARTNER_URL: partnerUrl, CURRENCY: 'USD' });
    // The worker runs activations; the test runs the feed consumer's passes itself.
    await t.runtime.notifications.stop();
  });
  afterAll(async () => {
    await t?.close();
    await partner.stop();
  });

  const runFeed = () => drain(t.runtime.db, t.runtime.notifications.feed);

  async function purchase(user: TestUser, offerId: number) {
    const res = await activate(t.app, user.access, offerId);
    expect(res.statusCode, res.body).toBe(202);
    return waitForFinal(t.app, user.access, (res.json() as { transaction_id: string }).transaction_id);
  }

  it('turns a top-up, a successful and a failed activation into notifications, newest first, with offer, amounts and dates', async () => {
    const user = await newUser(t.app, { balance: '50.00' });
    const good = await newOffer(t.app, { name: `Fibre ${user.username}`, price: '20.00', duration_days: 30 });
    const bad = await newOffer(t.app, { name: `Satellite ${user.username}`, price: '13.00' });
    expect((await purchase(user, good.id)).status).toBe('SUCCESS');
    expect((await purchase(user, bad.id)).status).toBe('FAILED');
    await runFeed();

    const page = await feed(t.app, user);
    expect(page.results.map((n) => n.kind)).toEqual(['activation_failed', 'activation_succeeded', 'balance_credited']);
    expect(page.count).toBe(3);
    expect(page.unread_count).toBe(3);
    const [failed, succeeded, credited] = page.results;
    expect(failed!.title).toBe(`Activation of "${bad.name}" failed`);
    expect(failed!.body).toContain('Address not serviceable');
    expect(failed!.body).toContain('13.00 USD was refunded to your balance.');
    expect(succeeded!.title).toBe(`"${good.name}" is active`);
    expect(succeeded!.body).toContain('20.00 USD was charged to your balance');
    expect(succeeded!.body).toMatch(/It is active until \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\./);
    expect(succeeded!.data).toMatchObject({ offer_id: good.id, offer_name: good.name, amount: '20.00' });
    expect(credited!.title).toBe('50.00 USD added to your balance');
    expect(page.results.every((n) => !n.read && n.read_at === null)).toBe(true);
  });

  it('pages the feed newest first through cursors and can show only the unread ones', async () => {
    const user = await newUser(t.app);
    for (const amount of ['1.00', '2.00', '3.00']) await credit(t.app, user.id, amount);
    await runFeed();
    const first = await feed(t.app, user, '?limit=2');
    expect(first.results.map((n) => n.title)).toEqual(['3.00 USD added to your balance', '2.00 USD added to your balance']);
    expect(first.count).toBe(3);
    const second = await feed(t.app, user, `?limit=2&cursor=${first.next}`);
    expect(second.results.map((n) => n.title)).toEqual(['1.00 USD added to your balance']);
    expect(second.next).toBeNull();

    await t.app.inject({ method: 'POST', url: '/api/v1/notifications/read/', headers: bearer(user.access), payload: { ids: [first.results[0]!.id] } });
    const unread = await feed(t.app, user, '?unread=true');
    expect(unread.results.map((n) => n.title)).toEqual(['2.00 USD added to your balance', '1.00 USD added to your balance']);
    expect(unread.unread_count).toBe(2);
  });

  it('marks notifications read by id or all at once, and only the caller\'s own', async () => {
    const me = await newUser(t.app);
    const other = await newUser(t.app);
    for (const amount of ['1.00', '2.00', '3.00']) await credit(t.app, me.id, amount);
    await credit(t.app, other.id, '4.00');
    await runFeed();
    const mine = (await feed(t.app, me)).results;
    const theirs = (await feed(t.app, other)).results;

    const read = (user: TestUser, payload: unknown) =>
      t.app.inject({ method: 'POST', url: '/api/v1/notifications/read/', headers: bearer(user.access), payload: payload as object });
    const notMine = await read(me, { ids: [theirs[0]!.id] });
    expect(notMine.json()).toEqual({ marked: 0, unread_count: 3 });

    const one = await read(me, { ids: [mine[1]!.id, mine[1]!.id] });
    expect(one.json()).toEqual({ marked: 1, unread_count: 2 });
    const after = await feed(t.app, me);
    expect(after.results.map((n) => n.read)).toEqual([false, true, false]);
    expect(after.results[1]!.read_at).toEqual(expect.any(String));

    expect((await read(me, { all: true })).json()).toEqual({ marked: 2, unread_count: 0 });
    expect((await read(me, { all: true })).json()).toEqual({ marked: 0, unread_count: 0 });
    expect((await feed(t.app, other)).unread_count).toBe(1);
  });

  it('turns lifecycle events written by any code into notifications, even when their payload lacks fields', async () => {
    const user = await newUser(t.app);
    const offer = await newOffer(t.app, { name: `Mobile ${user.username}`, price: '12.00' });
    await emitEvents(
      t.runtime.db,
      {
        type: 'subscription.expiring',
        userId: user.id,
        subject: '1',
        data: { subscription_id: 1, offer_id: offer.id, offer_name: offer.name, expires_at: '2030-01-03T10:00:00.000Z', days_before: 3, current_price: '12.00', price_paid: '10.00' },
      },
      { type: 'subscription.expired', userId: user.id, subject: '1', data: { subscription_id: 1, offer_id: offer.id, expired_at: '2030-01-03T10:00:00.000Z' } },
      { type: 'subscription.renewal_failed', userId: user.id, subject: '1', data: { reason: 'insufficient_balance' } },
      { type: 'balance.low', userId: user.id, subject: null, data: { balance: '3.50', threshold: '5.00' } },
      { type: 'balance.low', userId: user.id, subject: null, data: { balance: 7, threshold: null, unexpected: { nested: true } } },
      { type: 'subscription.expiring', userId: user.id, subject: null, data: {} },
      { type: 'subscription.activated', userId: user.id, subject: '1', data: { subscription_id: 1 } },
      { type: 'balance.low', userId: null, subject: null, data: {} },
    );
    await runFeed();

    const titles = (await feed(t.app, user)).results.map((n) => [n.kind, n.title, n.body]);
    expect(titles).toEqual([
      ['subscription_expiring', 'your offer expires soon', 'Your subscription to your offer ends soon.'],
      ['balance_low', 'Your balance is low', 'Your balance is 7 USD.\n\nTop up to keep your subscriptions renewing.'],
      ['balance_low', 'Your balance is low', 'Your balance is 3.50 USD, below your alert threshold of 5.00 USD.\n\nTop up to keep your subscriptions renewing.'],
      ['renewal_failed', 'Renewal of your offer failed', 'We could not renew your offer: your balance was too low.\n\nYour subscription ends at the end of its period unless you renew it yourself.'],
      ['subscription_expired', `"${offer.name}" has expired`, `Your subscription to "${offer.name}" ended on 2030-01-03 10:00 UTC.\n\nYou can buy it again at any time.`],
      [
        'subscription_expiring',
        `"${offer.name}" expires on 2030-01-03 10:00 UTC`,
        `Your subscription to "${offer.name}" ends on 2030-01-03 10:00 UTC (in 3 days).\n\n` +
          'The price has changed since you bought it: renewing now costs 12.00 USD (you paid 10.00 USD).',
      ],
    ]);
  });

  it('finds the offer and the end of the period of a lifecycle event that names only its subscription, and only the person\'s own', async () => {
    const user = await newUser(t.app, { balance: '20.00' });
    const stranger = await newUser(t.app);
    const offer = await newOffer(t.app, { name: `Cable ${user.username}`, price: '20.00' });
    expect((await purchase(user, offer.id)).status).toBe('SUCCESS');
    const subscription = await t.runtime.db
      .selectFrom('subscriptions')
      .select(['id', 'expires_at'])
      .where('user_id', '=', user.id)
      .executeTakeFirstOrThrow();
    await emitEvents(
      t.runtime.db,
      { type: 'subscription.renewal_failed', userId: user.id, subject: String(subscription.id), data: { reason: 'insufficient_balance' } },
      { type: 'subscription.renewal_failed', userId: stranger.id, subject: String(subscription.id), data: { subscription_id: subscription.id } },
    );
    await runFeed();
    const [mine] = (await feed(t.app, user)).results;
    expect(mine!.title).toBe(`Renewal of "${offer.name}" failed`);
    const end = `${subscription.expires_at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
    expect(mine!.body).toContain(`Your subscription ends on ${end} unless you renew it yourself.`);
    const [theirs] = (await feed(t.app, stranger)).results;
    expect(theirs!.title).toBe('Renewal of your offer failed');
    expect(theirs!.body).not.toContain(offer.name);
  });

  it('adds one notification per event however often the consumer reads the outbox', async () => {
    const user = await newUser(t.app);
    await credit(t.app, user.id, '5.00');
    await runFeed();
    await rewindConsumer(t.runtime.db, FEED_CONSUMER);
    expect(await runFeed()).toBeGreaterThan(0);
    const page = await feed(t.app, user);
    expect(page.count).toBe(1);
    const rows = await t.runtime.db.selectFrom('notifications').select(sql<number>`count(*)`.as('n')).where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(Number(rows.n)).toBe(1);
  });

  it('queues no email without SMTP_URL, while the feed works', async () => {
    const user = await newUser(t.app);
    await t.app.inject({ method: 'PATCH', url: '/api/v1/auth/profile/', headers: bearer(user.access), payload: { email: `${user.username}@example.com` } });
    await emitEvents(t.runtime.db, { type: 'balance.low', userId: user.id, subject: null, data: { balance: '1.00' } });
    await runFeed();
    expect((await feed(t.app, user)).count).toBe(1);
    expect(t.runtime.notifications.email).toBeUndefined();
    const queued = await t.runtime.db.selectFrom('email_deliveries').select('id').execute();
    expect(queued).toEqual([]);
  });

  it('answers bad requests with a clear 400 and strangers with a 401', async () => {
    const user = await newUser(t.app);
    const post = (payload: unknown) =>
      t.app.inject({ method: 'POST', url: '/api/v1/notifications/read/', headers: bearer(user.access), payload: payload as object });
    expectError(await post({}), 400, 'validation_error');
    expectError(await post({ ids: [1], all: true }), 400, 'validation_error');
    expectError(await post({ all: false }), 400, 'validation_error');
    expectError(await post({ ids: [] }), 400, 'validation_error');
    expectError(await post({ ids: ['x'] }), 400, 'validation_error');
    expectError(await t.app.inject({ method: 'GET', url: '/api/v1/notifications/?cursor=nope', headers: bearer(user.access) }), 400, 'invalid_cursor');
    expectError(await t.app.inject({ method: 'GET', url: '/api/v1/notifications/' }), 401);
    expectError(await t.app.inject({ method: 'POST', url: '/api/v1/notifications/read/', payload: { all: true } }), 401);
  });
});
