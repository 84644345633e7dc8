// The outbox as clients and admins see it: events written with the change they describe.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventView } from '../../src/events/domain.js';
import { activate, adminToken, bearer, credit, newOffer, newUser, waitForFinal } from '../helpers/api.js';
import { backends, startApp, type TestApp } from '../helpers/backends.js';
import { expectConsistentPaging, expectError, getPage, sharedApp } from '../helpers/checks.js';

describe.each(backends)('events on %s', (backend) => {
  const t = sharedApp(backend);
  const creditWithKey = async (userId: number, key: string, payload: object) =>
    t().app.inject({
      method: 'POST',
      url: `/api/v1/admin/users/${userId}/credit/`,
      headers: { ...bearer(await adminToken(t().app)), 'idempotency-key': key },
      payload,
    });

  it('records balance.credited with the amount and the new balance, for the user to read', async () => {
    const user = await newUser(t().app);
    const { transaction_id: id } = await credit(t().app, user.id, '12.50', 'welcome');
    const page = await getPage<EventView>(t().app, '/api/v1/account/events/', bearer(user.access));
    expect(page.count).toBe(1);
    expect(page.results[0]).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      seq: expect.any(Number),
      type: 'balance.credited',
      user_id: user.id,
      subject: id,
      data: { transaction_id: id, amount: '12.50', balance: '12.50', description: 'welcome' },
      created_at: expect.any(String),
    });
  });

  it('writes no event for a replayed credit, nor for one that was refused', async () => {
    const user = await newUser(t().app);
    expect((await creditWithKey(user.id, 'once', { amount: '8.00', reason: 'first' })).statusCode).toBe(201);
    expect((await creditWithKey(user.id, 'once', { amount: '8.00', reason: 'first' })).headers['idempotent-replayed']).toBe('true');
    expectError(await creditWithKey(user.id, 'once', { amount: '9.00', reason: 'first' }), 409, 'idempotency_key_reused');
    expectError(await creditWithKey(user.id, 'bad', { amount: '0.001', reason: 'x' }), 400, 'validation_error');
    const page = await getPage<EventView>(t().app, '/api/v1/account/events/', bearer(user.access));
    expect(page.results.map((e) => [e.type, e.data.amount])).toEqual([['balance.credited', '8.00']]);
  });

  it('shows each user only their own events, newest first, paged both ways', async () => {
    const [alice, bob] = [await newUser(t().app), await newUser(t().app)];
    for (const amount of ['1.00', '2.00', '3.00', '4.00', '5.00']) await credit(t().app, alice.id, amount);
    await credit(t().app, bob.id, '9.00');
    const events = await expectConsistentPaging<EventView>(t().app, '/api/v1/account/events/', bearer(alice.access), {
      limit: 2,
      key: (e) => e.id,
    });
    expect(events.map((e) => e.data.amount)).toEqual(['5.00', '4.00', '3.00', '2.00', '1.00']);
    expect(events.every((e) => e.user_id === alice.id)).toBe(true);
    const seqs = events.map((e) => e.seq);
    expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);
  });

  it('lets admins filter everyone’s events by user and type, and refuses others', async () => {
    const user = await newUser(t().app);
    await credit(t().app, user.id, '7.00');
    const admin = bearer(await adminToken(t().app));
    const byUser = await getPage<EventView>(t().app, `/api/v1/admin/events/?user=${user.id}&type=balance.credited`, admin);
    expect(byUser.results.map((e) => [e.user_id, e.type, e.data.amount])).toEqual([[user.id, 'balance.credited', '7.00']]);
    const none = await getPage<EventView>(t().app, `/api/v1/admin/events/?user=${user.id}&type=refund.created`, admin);
    expect(none.count).toBe(0);
    expectError(await t().app.inject({ method: 'GET', url: '/api/v1/admin/events/', headers: bearer(user.access) }), 403, 'forbidden');
    expectError(await t().app.inject({ method: 'GET', url: '/api/v1/admin/events/?type=nonsense', headers: admin }), 400, 'validation_error');
    expectError(await t().app.inject({ method: 'GET', url: '/api/v1/account/events/' }), 401, 'not_authenticated');
  });
});

describe.each(backends)('events of a failed activation on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(backend, { PARTNER_SIM_FAILURE_RATE: '1', PARTNER_SIM_LATENCY_MS: '0' });
  });
  afterAll(async () => t?.close());

  it('records pending, refund.created and activation.failed with the reason and the refund', async () => {
    const user = await newUser(t.app, { balance: '20.00' });
    const offer = await newOffer(t.app, { price: '15.00' });
    const id = (await activate(t.app, user.access, offer.id)).json().transaction_id as string;
    const final = await waitForFinal(t.app, user.access, id);
    expect(final.status).toBe('FAILED');
    const page = await getPage<EventView>(t.app, '/api/v1/account/events/?type=refund.created', bearer(user.access));
    expect(page.results).toHaveLength(1);
    expect(page.results[0]!.data).toEqual({
      transaction_id: page.results[0]!.subject,
      activation_id: id,
      offer_id: offer.id,
      amount: '15.00',
      balance: '20.00',
      reason: 'The partner simulator rejected this activation',
    });
    const failed = await getPage<EventView>(t.app, '/api/v1/account/events/?type=activation.failed', bearer(user.access));
    expect(failed.results.map((e) => e.data)).toEqual([
      {
        transaction_id: id,
        offer_id: offer.id,
        amount: '15.00',
        error: { code: 'partner_rejected', message: 'The partner simulator rejected this activation' },
        refund_transaction_id: page.results[0]!.subject,
      },
    ]);
    const all = await getPage<EventView>(t.app, '/api/v1/account/events/', bearer(user.access));
    expect(all.results.map((e) => e.type).reverse()).toEqual(['balance.credited', 'activation.pending', 'refund.created', 'activation.failed']);
  });
});

describe.each(backends)('events of an activation on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(backend, { PARTNER_SIM_LATENCY_MS: '0' });
  });
  afterAll(async () => t?.close());

  it('records pending, succeeded and the new period, then extended on a second purchase, in that order', async () => {
    const user = await newUser(t.app, { balance: '50.00' });
    const offer = await newOffer(t.app, { price: '20.00', duration_days: 30 });
    const first = (await activate(t.app, user.access, offer.id)).json().transaction_id as string;
    await waitForFinal(t.app, user.access, first);
    const second = (await activate(t.app, user.access, offer.id)).json().transaction_id as string;
    const done = await waitForFinal(t.app, user.access, second);
    expect(done.status).toBe('SUCCESS');

    const page = await getPage<EventView>(t.app, '/api/v1/account/events/?limit=200', bearer(user.access));
    const events = page.results.reverse().filter((e) => e.type !== 'balance.credited');
    expect(events.map((e) => [e.type, e.subject === first || e.data.transaction_id === first ? 'first' : 'second'])).toEqual([
      ['activation.pending', 'first'],
      ['activation.succeeded', 'first'],
      ['subscription.activated', 'first'],
      ['activation.pending', 'second'],
      ['activation.succeeded', 'second'],
      ['subscription.extended', 'second'],
    ]);
    expect(events[0]!.data).toEqual({ transaction_id: first, offer_id: offer.id, amount: '20.00', balance: '30.00', source: 'purchase' });
    expect(events[1]!.data).toEqual({ transaction_id: first, offer_id: offer.id, amount: '20.00', reference: expect.stringMatching(/^SIM-/) });
    const activated = events[2]!.data;
    const extended = events[5]!.data;
    expect(extended.subscription_id).toBe(activated.subscription_id);
    expect(extended.activated_at).toBe(activated.activated_at);
    const days = (a: unknown, b: unknown) => (Date.parse(String(b)) - Date.parse(String(a))) / 86_400_000;
    expect(days(activated.activated_at, activated.expires_at)).toBeCloseTo(30, 3);
    expect(days(activated.activated_at, extended.expires_at)).toBeCloseTo(60, 3);
    expect(String(activated.expires_at)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});
