// What the worker does with each kind of partner answer: only a definite one may refund; an
// ambiguous one is asked again with the same Idempotency-Key until the deadline.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rescheduleOverdue } from '../../src/activation/queries.js';
import { activate, adminToken, bearer, getJson, newOffer, newUser, waitForFinal } from '../helpers/api.js';
import { backends, startApp, type TestApp } from '../helpers/backends.js';
import { getPage } from '../helpers/checks.js';
import { ledgerMismatches, transactionsOf } from '../helpers/ledger.js';
import { appWithPartner } from '../helpers/partner.js';

const MAX_ATTEMPTS = 2;
const TIMEOUT_MS = 1000;
const TIMES_OUT = { status: 200, body: { reference: 'TOO-LATE' }, delayMs: 3 * TIMEOUT_MS };

async function paidActivation(t: TestApp, price = '15.00') {
  const user = await newUser(t.app, { balance: '40.00' });
  const offer = await newOffer(t.app, { price, duration_days: 7 });
  const res = await activate(t.app, user.access, offer.id);
  expect(res.statusCode).toBe(202);
  return { user, id: res.json().transaction_id as string };
}

async function balanceOf(t: TestApp, access: string) {
  return (await getJson<{ balance: string }>(t.app, access, '/api/v1/account/')).balance;
}

async function refundsOf(t: TestApp, userId: number) {
  return (await transactionsOf(t.runtime.db, userId)).filter((r) => r.type === 'REFUND');
}

async function activationsForReview(t: TestApp) {
  const page = await getPage<{ transaction_id: string; needs_review: boolean }>(
    t.app,
    '/api/v1/admin/activations/?needs_review=true&limit=200',
    bearer(await adminToken(t.app)),
  );
  return page.results.map((r) => r.transaction_id);
}

/** A port on which nothing listens: connecting is refused, so the request never left. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.each(backends)('ambiguous partner answers on %s', (backend) => {
  const { partner, testApp } = appWithPartner(backend, {
    PARTNER_TIMEOUT_MS: String(TIMEOUT_MS),
    ACTIVATION_RETRY_BASE_MS: '5',
    ACTIVATION_RETRY_MAX_MS: '20',
    ACTIVATION_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
  });
  afterEach(() => {
    partner.respond = () => ({ status: 200, body: { reference: 'REF-1' } });
  });

  it('does not refund when the last allowed call times out, and succeeds when the partner answers later', async () => {
    const t = testApp();
    partner.respond = (n) => (n <= MAX_ATTEMPTS + 1 ? TIMES_OUT : { status: 200, body: { reference: 'AT-LAST' } });
    partner.calls.length = 0;
    const { user, id } = await paidActivation(t);
    const final = await waitForFinal(t.app, user.access, id);
    expect(final).toMatchObject({ status: 'SUCCESS', reference: 'AT-LAST' });
    const calls = partner.callsFor(id);
    expect(calls.length).toBeGreaterThanOrEqual(MAX_ATTEMPTS + 2);
    expect(new Set(calls.map((c) => c.headers['idempotency-key']))).toEqual(new Set([id]));
    expect(await balanceOf(t, user.access)).toBe('25.00');
    expect(await refundsOf(t, user.id)).toEqual([]);
    expect(await ledgerMismatches(t.runtime.db)).toEqual([]);
  });

  it('keeps asking after a dropped connection, an "accepted" answer and an answer without a reference', async () => {
    const t = testApp();
    const replies = [
      { status: 0, reset: true },
      { status: 202, body: { status: 'accepted' } },
      { status: 204 },
      { status: 200, body: {} },
      { status: 201, body: { reference: 'DONE' } },
    ];
    partner.calls.length = 0;
    partner.respond = (n) => replies[Math.min(n, replies.length) - 1]!;
    const { user, id } = await paidActivation(t);
    const final = await waitForFinal(t.app, user.access, id);
    expect(final).toMatchObject({ status: 'SUCCESS', reference: 'DONE' });
    expect(partner.callsFor(id).length).toBeGreaterThanOrEqual(replies.length);
    expect(await refundsOf(t, user.id)).toEqual([]);
  });

  it('refunds a definite rejection at once, even after an ambiguous answer', async () => {
    const t = testApp();
    partner.calls.length = 0;
    partner.respond = (n) => (n === 1 ? { status: 503 } : { status: 422, body: { error: 'Unknown customer' } });
    const { user, id } = await paidActivation(t);
    const final = await waitForFinal(t.app, user.access, id);
    expect(final.status).toBe('FAILED');
    expect(final.error).toEqual({ code: 'partner_rejected', message: 'Unknown customer' });
    expect(partner.callsFor(id)).toHaveLength(2);
    expect(await balanceOf(t, user.access)).toBe('40.00');
    expect(await refundsOf(t, user.id)).toHaveLength(1);
    expect(await activationsForReview(t)).not.toContain(id);
  });
});

describe.each(backends)('an activation the partner never settles on %s', (backend) => {
  const DEADLINE_MS = 1000;
  const RETRY_MAX_MS = 40;
  const { partner, testApp } = appWithPartner(backend, {
    PARTNER_TIMEOUT_MS: String(TIMEOUT_MS),
    ACTIVATION_RETRY_BASE_MS: '1',
    ACTIVATION_RETRY_MAX_MS: String(RETRY_MAX_MS),
    ACTIVATION_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    ACTIVATION_DEADLINE_MS: String(DEADLINE_MS),
  });

  it('fails it past the deadline, refunds it exactly once and lists it for review', async () => {
    const t = testApp();
    partner.respond = () => ({ status: 503, body: { error: 'busy' } });
    const { user, id } = await paidActivation(t);
    const final = await waitForFinal(t.app, user.access, id);
    expect(final.status).toBe('FAILED');
    expect(final.error?.code).toBe('partner_unavailable');
    expect(Date.parse(final.completed_at!) - Date.parse((final as unknown as { created_at: string }).created_at)).toBeGreaterThanOrEqual(DEADLINE_MS);

    // Asked beyond the attempt limit, on a backoff: retries at least half the ceiling apart once capped.
    const calls = partner.callsFor(id).length;
    expect(calls).toBeGreaterThan(MAX_ATTEMPTS);
    expect(calls).toBeLessThanOrEqual(8 + DEADLINE_MS / (RETRY_MAX_MS / 2));

    expect(await balanceOf(t, user.access)).toBe('40.00');
    expect(await refundsOf(t, user.id)).toHaveLength(1);
    expect(await activationsForReview(t)).toContain(id);
    expect(await ledgerMismatches(t.runtime.db)).toEqual([]);
  });

  // Last in the block: it stops the fake partner for good.
  it('does not refund at the attempt limit once a call may have reached the partner', async () => {
    const t = testApp();
    partner.respond = () => {
      void partner.stop(); // drops this call after it arrived; every later call is refused
      return TIMES_OUT;
    };
    const { user, id } = await paidActivation(t);
    const final = await waitForFinal(t.app, user.access, id);
    expect(final.error?.code).toBe('partner_unavailable');
    expect(partner.callsFor(id)).toHaveLength(1);
    const row = (await transactionsOf(t.runtime.db, user.id)).find((r) => r.id === id)!;
    expect(row.attempts).toBeGreaterThan(MAX_ATTEMPTS);
    expect(await refundsOf(t, user.id)).toHaveLength(1);
    expect(await activationsForReview(t)).toContain(id);
  });
});

describe.each(backends)('an activation waiting for its next retry on %s', (backend) => {
  const { partner, testApp } = appWithPartner(backend, {
    PARTNER_TIMEOUT_MS: String(TIMEOUT_MS),
    ACTIVATION_RETRY_BASE_MS: '60000',
    ACTIVATION_RETRY_MAX_MS: '60000',
  });

  it('is left to its scheduled retry, not taken by the reconciler as overdue', async () => {
    const t = testApp();
    partner.respond = () => ({ status: 503 });
    const { id } = await paidActivation(t);
    let waiting;
    for (;;) {
      waiting = await sql<{ status: string; waits_ms: number }>`
        SELECT status, extract(epoch FROM next_run_at - now()) * 1000 AS waits_ms
          FROM transactions WHERE id = ${id} AND attempts = 1 AND lease_until IS NULL`.execute(t.runtime.db);
      if (waiting.rows.length > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(waiting.rows[0]!.status).toBe('PROCESSING');
    expect(Number(waiting.rows[0]!.waits_ms)).toBeGreaterThan(20_000);
    expect(await rescheduleOverdue(t.runtime.db, 0, 500)).not.toContain(id);
    expect(partner.callsFor(id)).toHaveLength(1);
  });
});

describe.each(backends)('a partner nobody can reach, with a large attempt limit, on %s', (backend) => {
  // Far past where the uncapped backoff broke for a 1 ms base: the timer overflowed from attempt 33,
  // the SQL timestamp from about attempt 54.
  const ATTEMPTS = 200;
  const RETRY_MAX_MS = 4;
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(backend, {
      PARTNER_URL: `http://127.0.0.1:${await closedPort()}`,
      ACTIVATION_RETRY_BASE_MS: '1',
      ACTIVATION_RETRY_MAX_MS: String(RETRY_MAX_MS),
      ACTIVATION_MAX_ATTEMPTS: String(ATTEMPTS),
    });
  });
  afterAll(async () => t?.close());

  it('makes every attempt on a capped backoff, then fails and refunds once without review', { timeout: 60_000 }, async () => {
    const { user, id } = await paidActivation(t);
    const started = Date.now();
    // The delay each release scheduled (next_run_at − updated_at, both written by one statement).
    const delays: { attempts: number; ms: number }[] = [];
    for (;;) {
      const { rows } = await sql<{ status: string; attempts: number; ms: string | null }>`
        SELECT status, attempts,
               CASE WHEN lease_until IS NULL THEN extract(epoch FROM next_run_at - updated_at) * 1000 END AS ms
          FROM transactions WHERE id = ${id}`.execute(t.runtime.db);
      const row = rows[0]!;
      if (row.status === 'SUCCESS' || row.status === 'FAILED') break;
      if (row.ms !== null && row.status === 'PROCESSING') delays.push({ attempts: row.attempts, ms: Number(row.ms) });
      await new Promise((r) => setTimeout(r, 20));
    }
    const elapsed = Date.now() - started;

    expect(delays.length).toBeGreaterThan(10);
    expect(Math.max(...delays.map((d) => d.ms))).toBeLessThanOrEqual(RETRY_MAX_MS);
    expect(Math.min(...delays.filter((d) => d.attempts > 10).map((d) => d.ms))).toBeGreaterThanOrEqual(RETRY_MAX_MS / 2);
    // No hot loop: past the first few, every retry waited at least half the ceiling.
    expect(elapsed).toBeGreaterThanOrEqual((ATTEMPTS - 10) * (RETRY_MAX_MS / 2));

    const final = await waitForFinal(t.app, user.access, id);
    expect(final.error?.code).toBe('partner_unavailable');
    const row = (await transactionsOf(t.runtime.db, user.id)).find((r) => r.id === id)!;
    expect(row.attempts).toBe(ATTEMPTS);
    expect(await refundsOf(t, user.id)).toHaveLength(1);
    expect(await activationsForReview(t)).not.toContain(id);
    expect(await ledgerMismatches(t.runtime.db)).toEqual([]);
  });
});
