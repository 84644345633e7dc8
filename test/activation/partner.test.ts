import { afterEach, describe, expect, it } from 'vitest';
import { activate, activationStatus, getJson, newOffer, newUser, waitForFinal } from '../helpers/api.js';
import { backends } from '../helpers/backends.js';
import { expectMoneyBalanced, transactionsOf } from '../helpers/ledger.js';
import { appWithPartner } from '../helpers/partner.js';
import { queueDrained } from '../helpers/queue.js';

const MAX_ATTEMPTS = 4;

describe.each(backends)('activation with an HTTP partner on %s', (backend) => {
  const { partner, testApp } = appWithPartner(backend, {
    PARTNER_API_KEY: 'partner-secret',
    PARTNER_TIMEOUT_MS: '1000', // well above the scripted delays, so a loaded machine does not time them out
    ACTIVATION_RETRY_BASE_MS: '20',
    ACTIVATION_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
  });
  afterEach(() => {
    partner.respond = () => ({ status: 200, body: { reference: 'REF-1' } });
  });

  async function paidActivation(price = '15.00') {
    const t = testApp();
    const user = await newUser(t.app, { balance: '40.00' });
    const offer = await newOffer(t.app, { price, duration_days: 7 });
    const res = await activate(t.app, user.access, offer.id);
    expect(res.statusCode).toBe(202);
    return { user, offer, id: res.json().transaction_id as string };
  }

  it('sends the documented request and keeps the partner reference', async () => {
    const t = testApp();
    partner.respond = (_n, call) => ({ status: 201, body: { reference: `P-${call.body.transaction_id.slice(0, 6)}` } });
    const { user, offer, id } = await paidActivation();
    const final = await waitForFinal(t.app, user.access, id);
    expect(final).toMatchObject({ status: 'SUCCESS', reference: `P-${id.slice(0, 6)}` });
    const [call, ...more] = partner.callsFor(id);
    expect(more).toEqual([]);
    expect(call!.body).toEqual({ transaction_id: id, user_id: user.id, offer_id: offer.id, amount: '15.00', duration_days: 7 });
    expect(call!.headers['idempotency-key']).toBe(id);
    expect(call!.headers.authorization).toBe('Bearer partner-secret');
  });

  it('ignores a duplicate delivery while another worker holds the activation', async () => {
    const t = testApp();
    partner.respond = () => ({ status: 200, body: { reference: 'ONCE' }, delayMs: 250 });
    const { user, id } = await paidActivation();
    while ((await activationStatus(t.app, user.access, id)).json().status !== 'PROCESSING') {
      await new Promise((r) => setTimeout(r, 10));
    }
    await t.runtime.queue.enqueue({ transactionId: id });
    expect((await waitForFinal(t.app, user.access, id)).reference).toBe('ONCE');
    await queueDrained(t);
    expect(partner.callsFor(id)).toHaveLength(1);
    const rows = await transactionsOf(t.runtime.db, user.id);
    expect(rows.find((r) => r.id === id)?.attempts).toBe(1);
  });

  it('fails permanently on a 4xx, shows the partner reason and refunds', async () => {
    const t = testApp();
    partner.respond = () => ({ status: 422, body: { error: 'Address not serviceable' } });
    const { user, id } = await paidActivation();
    const final = await waitForFinal(t.app, user.access, id);
    expect(final.status).toBe('FAILED');
    expect(final.error).toEqual({ code: 'partner_rejected', message: 'Address not serviceable' });
    expect(partner.callsFor(id)).toHaveLength(1);
    expect((await getJson<{ balance: string }>(t.app, user.access, '/api/v1/account/')).balance).toBe('40.00');
    const rows = await transactionsOf(t.runtime.db, user.id);
    expect(rows.filter((r) => r.type === 'REFUND')).toHaveLength(1);
    await expectMoneyBalanced(t.runtime.db);
  });

  it('retries a flaky partner with the same idempotency key, then succeeds', async () => {
    const t = testApp();
    partner.respond = (n) => {
      if (n === 1) return { status: 503 };
      if (n === 2) return { status: 429 };
      if (n === 3) return { status: 200, body: { reference: 'LATE' }, delayMs: 3000 }; // times out
      return { status: 200, body: { reference: 'FINALLY' } };
    };
    partner.calls.length = 0;
    const { user, id } = await paidActivation();
    const final = await waitForFinal(t.app, user.access, id);
    expect(final).toMatchObject({ status: 'SUCCESS', reference: 'FINALLY' });
    const calls = partner.callsFor(id);
    expect(calls).toHaveLength(4);
    expect(new Set(calls.map((c) => c.headers['idempotency-key']))).toEqual(new Set([id]));
    expect((await getJson<{ balance: string }>(t.app, user.access, '/api/v1/account/')).balance).toBe('25.00');
    expect((await transactionsOf(t.runtime.db, user.id)).filter((r) => r.type === 'REFUND')).toEqual([]);
  });

  it('keeps asking a partner that answers 5xx past the attempt limit, since it may have done the work', async () => {
    const t = testApp();
    partner.respond = (n) => (n <= MAX_ATTEMPTS ? { status: 500, body: { error: 'boom' } } : { status: 200, body: { reference: 'AFTER-5XX' } });
    partner.calls.length = 0;
    const { user, id } = await paidActivation();
    const final = await waitForFinal(t.app, user.access, id);
    expect(final).toMatchObject({ status: 'SUCCESS', reference: 'AFTER-5XX' });
    expect(partner.callsFor(id)).toHaveLength(MAX_ATTEMPTS + 1);
    expect((await transactionsOf(t.runtime.db, user.id)).filter((r) => r.type === 'REFUND')).toEqual([]);
  });

  // Last in the block: it stops the fake partner for good.
  it('gives up after the maximum number of attempts when nothing listens, and refunds once', async () => {
    const t = testApp();
    await partner.stop();
    const { user, id } = await paidActivation();
    const final = await waitForFinal(t.app, user.access, id);
    expect(final.status).toBe('FAILED');
    expect(final.error?.code).toBe('partner_unavailable');
    expect((await getJson<{ balance: string }>(t.app, user.access, '/api/v1/account/')).balance).toBe('40.00');
    const rows = await transactionsOf(t.runtime.db, user.id);
    expect(rows.find((r) => r.id === id)?.attempts).toBe(MAX_ATTEMPTS);
    expect(rows.filter((r) => r.type === 'REFUND')).toHaveLength(1);
    await expectMoneyBalanced(t.runtime.db);
  });
});
