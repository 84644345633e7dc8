// The admin tools for activations that went wrong, against a real worker and a scripted partner:
// redrive one waiting for its retry, settle one the partner left ambiguous (SUCCESS grants or
// extends the subscription, FAILED refunds once), confirm one refunded at its deadline, and a
// disabled buyer's running activation still finishes.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { activate, adminToken, bearer, getJson, newOffer, newUser, type TestUser, waitForFinal } from '../helpers/api.js';
import { backends, type TestApp } from '../helpers/backends.js';
import { expectError, getPage } from '../helpers/checks.js';
import { expectMoneyBalanced, transactionsOf } from '../helpers/ledger.js';
import { appWithPartner, type PartnerReply } from '../helpers/partner.js';

const SUCCESS: PartnerReply = { status: 200, body: { reference: 'REF-OK' } };
const AMBIGUOUS: PartnerReply = { status: 503 };

interface Account {
  balance: string;
  active_offers: { offer: { id: number }; expires_at: string; activated_at: string }[];
}

/** Each test scripts the partner for its own buyer, so tests sharing the app do not disturb each other. */
function scriptedPartner(backend: (typeof backends)[number], overrides: Record<string, string>) {
  const { partner, testApp } = appWithPartner(backend, overrides);
  const answers = new Map<number, PartnerReply>();
  partner.respond = (_n, call) => answers.get(call.body.user_id) ?? SUCCESS;
  afterEach(() => answers.clear());
  return { partner, testApp, answers };
}

async function row(t: TestApp, id: string) {
  return t.runtime.db
    .selectFrom('transactions')
    .select(['status', 'maybe_delivered', 'needs_review', 'lease_until', 'attempts'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

/** Polls the activation's row until `ready` holds (bounded). */
async function waitForRow(t: TestApp, id: string, ready: (r: Awaited<ReturnType<typeof row>>) => boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await row(t, id);
    if (ready(current)) return current;
    if (Date.now() > deadline) throw new Error(`activation ${id} is still ${JSON.stringify(current)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function eventsOf(t: TestApp, userId: number) {
  const rows = await t.runtime.db.selectFrom('events').select(['type', 'data']).where('user_id', '=', userId).orderBy('seq').execute();
  return rows.map((r) => r.type);
}

describe.each(backends)('fixing stuck activations on %s', (backend) => {
  // An ambiguous answer is asked again only after a minute: long enough to act on it in between.
  const { testApp, answers } = scriptedPartner(backend, {
    PARTNER_TIMEOUT_MS: '5000',
    ACTIVATION_RETRY_BASE_MS: '60000',
    ACTIVATION_RETRY_MAX_MS: '60000',
  });
  let t: TestApp;
  let admin: Record<string, string>;
  beforeAll(async () => {
    t = testApp();
    admin = bearer(await adminToken(t.app));
  });

  const redrive = (id: string) => t.app.inject({ method: 'POST', url: `/api/v1/admin/activations/${id}/redrive/`, headers: admin });
  const resolve = (id: string, payload: object) =>
    t.app.inject({ method: 'POST', url: `/api/v1/admin/activations/${id}/resolve/`, headers: admin, payload });
  const auditOf = async (id: string) =>
    (await getPage<{ action: string; before: Record<string, unknown>; after: Record<string, unknown> }>(t.app, `/api/v1/admin/audit/?target=activation:${id}`, admin))
      .results;

  /** A paid activation the partner answered ambiguously, now waiting a minute for its retry. */
  async function stuck(user?: TestUser, offerId?: number) {
    const buyer = user ?? (await newUser(t.app, { balance: '50.00' }));
    const offer = offerId ?? (await newOffer(t.app, { price: '15.00', duration_days: 7 })).id;
    answers.set(buyer.id, AMBIGUOUS);
    const res = await activate(t.app, buyer.access, offer);
    expect(res.statusCode, res.body).toBe(202);
    const id = res.json().transaction_id as string;
    await waitForRow(t, id, (r) => r.status === 'PROCESSING' && r.maybe_delivered && r.lease_until === null);
    return { user: buyer, offerId: offer, id };
  }

  it('redrives an activation waiting for its retry: the worker tries it now, audited', async () => {
    const { user, id } = await stuck();
    answers.set(user.id, { status: 200, body: { reference: 'REDRIVEN' } });
    const res = await redrive(id);
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({ transaction_id: id, status: 'PROCESSING', maybe_delivered: true });
    // Well before the minute the retry would have waited.
    expect(await waitForFinal(t.app, user.access, id, 10_000)).toMatchObject({ status: 'SUCCESS', reference: 'REDRIVEN' });
    const [entry] = await auditOf(id);
    expect(entry).toMatchObject({ action: 'activation.redrive', before: { status: 'PROCESSING', maybe_delivered: true }, after: { status: 'PROCESSING' } });
    expectError(await redrive(id), 409, 'activation_final');
    expect(await auditOf(id)).toHaveLength(1);
  });

  it('answers 404 for a redrive or resolve of an unknown or malformed id', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      expectError(await redrive(id), 404);
      expectError(await resolve(id, { outcome: 'FAILED', reason: 'x' }), 404);
    }
  });

  it('settles an ambiguous activation as SUCCESS: the subscription is granted and the buyer sees it', async () => {
    const { user, offerId, id } = await stuck();
    const res = await resolve(id, { outcome: 'SUCCESS', reference: 'CONFIRMED-BY-PHONE' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ transaction_id: id, status: 'SUCCESS', reference: 'CONFIRMED-BY-PHONE' });
    expect(await waitForFinal(t.app, user.access, id)).toMatchObject({ status: 'SUCCESS', reference: 'CONFIRMED-BY-PHONE' });
    const account = await getJson<Account>(t.app, user.access, '/api/v1/account/');
    expect(account.balance).toBe('35.00');
    expect(account.active_offers.map((o) => o.offer.id)).toEqual([offerId]);
    expect(await eventsOf(t, user.id)).toEqual(expect.arrayContaining(['activation.succeeded', 'subscription.activated']));
    const [entry] = await auditOf(id);
    expect(entry).toMatchObject({
      action: 'activation.resolve',
      before: { status: 'PROCESSING', maybe_delivered: true },
      after: { outcome: 'SUCCESS', reference: 'CONFIRMED-BY-PHONE', status: 'SUCCESS', refunded: false },
    });
    expectError(await resolve(id, { outcome: 'FAILED', reason: 'changed my mind' }), 409, 'activation_final');
    await expectMoneyBalanced(t.runtime.db);
  });

  it('extends the running subscription when the settled activation renews an offer already held', async () => {
    const user = await newUser(t.app, { balance: '50.00' });
    const offer = await newOffer(t.app, { price: '5.00', duration_days: 7 });
    const first = (await activate(t.app, user.access, offer.id)).json().transaction_id as string;
    expect((await waitForFinal(t.app, user.access, first)).status).toBe('SUCCESS');
    const before = (await getJson<Account>(t.app, user.access, '/api/v1/account/')).active_offers[0]!;
    const { id } = await stuck(user, offer.id);
    expect((await resolve(id, { outcome: 'SUCCESS', reference: 'SECOND' })).statusCode).toBe(200);
    const after = (await getJson<Account>(t.app, user.access, '/api/v1/account/')).active_offers;
    expect(after).toHaveLength(1);
    expect(Date.parse(after[0]!.expires_at) - Date.parse(before.expires_at)).toBe(7 * 86_400_000);
    expect(after[0]!.activated_at).toBe(before.activated_at);
    expect(await eventsOf(t, user.id)).toContain('subscription.extended');
  });

  it('settles an ambiguous activation as FAILED: refunded exactly once, however often it is resolved', async () => {
    const { user, id } = await stuck();
    const answersNow = await Promise.all([
      resolve(id, { outcome: 'FAILED', reason: 'The partner has no record of it' }),
      resolve(id, { outcome: 'FAILED', reason: 'The partner has no record of it' }),
    ]);
    expect(answersNow.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    expectError(answersNow.find((r) => r.statusCode === 409)!, 409, 'activation_final');
    expectError(await resolve(id, { outcome: 'FAILED', reason: 'again' }), 409, 'activation_final');

    const final = await waitForFinal(t.app, user.access, id);
    expect(final).toMatchObject({ status: 'FAILED', error: { code: 'partner_rejected', message: 'The partner has no record of it' } });
    expect((await getJson<Account>(t.app, user.access, '/api/v1/account/')).balance).toBe('50.00');
    const refunds = (await transactionsOf(t.runtime.db, user.id)).filter((r) => r.type === 'REFUND');
    expect(refunds).toEqual([expect.objectContaining({ related_id: id, amount: '15.00' })]);
    expect(await eventsOf(t, user.id)).toEqual(expect.arrayContaining(['activation.failed', 'refund.created']));
    expect((await auditOf(id)).map((r) => r.after.outcome)).toEqual(['FAILED']);
    await expectMoneyBalanced(t.runtime.db);
  });

  it('leaves an activation the worker is still settling to the worker (409), and refuses a bad decision (400)', async () => {
    const user = await newUser(t.app, { balance: '50.00' });
    answers.set(user.id, { ...SUCCESS, delayMs: 1500 });
    const offer = await newOffer(t.app, { price: '15.00' });
    const id = (await activate(t.app, user.access, offer.id)).json().transaction_id as string;
    await waitForRow(t, id, (r) => r.status === 'PROCESSING');
    expectError(await resolve(id, { outcome: 'SUCCESS', reference: 'GUESS' }), 409, 'activation_not_in_review');
    // A redrive while the worker holds it adds no second partner call.
    expect((await redrive(id)).statusCode).toBe(202);
    expect(await waitForFinal(t.app, user.access, id)).toMatchObject({ status: 'SUCCESS', reference: 'REF-OK' });
    expect((await row(t, id)).attempts).toBe(1);
    expectError(await resolve(id, { outcome: 'FAILED', reason: 'too late' }), 409, 'activation_final');
    for (const body of [{ outcome: 'SUCCESS' }, { outcome: 'FAILED', reason: '' }, { outcome: 'MAYBE', reason: 'x' }, { outcome: 'SUCCESS', reference: 'R', reason: 'both' }]) {
      expectError(await resolve(id, body), 400);
    }
    await expectMoneyBalanced(t.runtime.db);
  });

  it('lists unfinished activations by age with ?older_than=', async () => {
    const { id } = await stuck();
    await new Promise((r) => setTimeout(r, 1100));
    const list = (query: string) => getPage<{ transaction_id: string; status: string }>(t.app, `/api/v1/admin/activations/?${query}`, admin);
    const old = await list('status=PROCESSING&older_than=1s&limit=200');
    expect(old.results.map((r) => r.transaction_id)).toContain(id);
    expect(old.count).toBe(old.results.length);
    expect((await list('status=PROCESSING&older_than=1d')).count).toBe(0);
    expect((await list('older_than=1h')).results.map((r) => r.transaction_id)).not.toContain(id);
    for (const bad of ['older_than=soon', 'older_than=5', 'older_than=-1m']) {
      expectError(await t.app.inject({ method: 'GET', url: `/api/v1/admin/activations/?${bad}`, headers: admin }), 400);
    }
    expect((await resolve(id, { outcome: 'FAILED', reason: 'cleanup' })).statusCode).toBe(200);
  });

  it('lets a disabled buyer\'s running activation finish', async () => {
    const user = await newUser(t.app, { balance: '50.00' });
    answers.set(user.id, { ...SUCCESS, delayMs: 1000 });
    const offer = await newOffer(t.app, { price: '15.00' });
    const id = (await activate(t.app, user.access, offer.id)).json().transaction_id as string;
    await waitForRow(t, id, (r) => r.status === 'PROCESSING');
    expect((await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${user.id}/disable/`, headers: admin })).statusCode).toBe(200);
    expectError(await t.app.inject({ method: 'GET', url: '/api/v1/account/', headers: bearer(user.access) }), 401, 'invalid_token');
    expect((await waitForRow(t, id, (r) => r.status !== 'PROCESSING')).status).toBe('SUCCESS');
  });
});

describe.each(backends)('confirming an activation refunded at its deadline on %s', (backend) => {
  const { testApp, answers } = scriptedPartner(backend, {
    PARTNER_TIMEOUT_MS: '1000',
    ACTIVATION_RETRY_BASE_MS: '20',
    ACTIVATION_RETRY_MAX_MS: '50',
    ACTIVATION_DEADLINE_MS: '800',
  });

  it('confirms it FAILED once (the refund stands, no second one) and refuses SUCCESS', async () => {
    const t = testApp();
    const admin = bearer(await adminToken(t.app));
    const user = await newUser(t.app, { balance: '20.00' });
    answers.set(user.id, AMBIGUOUS);
    const offer = await newOffer(t.app, { price: '15.00' });
    const id = (await activate(t.app, user.access, offer.id)).json().transaction_id as string;
    await waitForRow(t, id, (r) => r.status === 'FAILED');
    expect(await row(t, id)).toMatchObject({ needs_review: true });

    const resolve = (payload: object) => t.app.inject({ method: 'POST', url: `/api/v1/admin/activations/${id}/resolve/`, headers: admin, payload });
    expectError(await resolve({ outcome: 'SUCCESS', reference: 'LATE' }), 409, 'activation_final');
    const confirmed = await resolve({ outcome: 'FAILED', reason: 'Partner confirms nothing was provisioned' });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    expect(confirmed.json()).toMatchObject({ status: 'FAILED', needs_review: false });
    expectError(await resolve({ outcome: 'FAILED', reason: 'again' }), 409, 'activation_final');

    const flagged = await getPage<{ transaction_id: string }>(t.app, '/api/v1/admin/activations/?needs_review=true&limit=200', admin);
    expect(flagged.results.map((r) => r.transaction_id)).not.toContain(id);
    expect((await transactionsOf(t.runtime.db, user.id)).filter((r) => r.type === 'REFUND')).toHaveLength(1);
    expect((await getJson<Account>(t.app, user.access, '/api/v1/account/')).balance).toBe('20.00');
    await expectMoneyBalanced(t.runtime.db);
  });
});
