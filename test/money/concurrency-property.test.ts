// A seeded random mix of credits, activations (with and without Idempotency-Key, replayed, renewed,
// conflicting), partner rejects, 503s and timeouts, and duplicate job deliveries, run concurrently
// on two API and two worker processes. Afterwards the money adds up, every accepted request is in
// the database as answered, and every success bought its subscription period.
// Replay a failure with the seed it prints: SEED=<n> npx vitest run test/money/concurrency-property.test.ts
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { backendEnv, backends } from '../helpers/backends.js';
import { moneyDiscrepancies } from '../helpers/ledger.js';
import { FakePartner, type PartnerReply } from '../helpers/partner.js';
import {
  adminLogin,
  call,
  type HttpResult,
  newUser,
  openSql,
  Processes,
  type ProcessUser,
  removeEmbeddedTemplate,
  waitFor,
} from '../helpers/processes.js';

const TEST_TIMEOUT_MS = 180_000;
const OPERATIONS = 200;
const USERS = 6;
const STARTING_BALANCE = '40.00';
const PARTNER_TIMEOUT_MS = 300;
const DAY_MS = 86_400_000;
/** Subscription arithmetic runs on calendar days in the database's time zone: allow a DST hour. */
const PERIOD_TOLERANCE_MS = 3_600_000;

/** Several processes share one database and one queue: PostgreSQL and Redis only (CI always has both). */
const scaled = backends.includes('postgres') && Boolean(process.env.TEST_REDIS_URL);

/** How the partner answers one call: the Nth call about an activation takes step N (the last one repeats). */
type Step = 'success' | 'reject' | 'unavailable' | 'timeout';

/** Each offer comes with a partner script, so the seed that picks the offer also picks the partner's behaviour. */
const OFFER_SCRIPTS: { price: string; days: number; steps: Step[] }[] = [
  { price: '7.00', days: 30, steps: ['success'] },
  { price: '12.50', days: 7, steps: ['unavailable', 'success'] },
  { price: '20.00', days: 1, steps: ['timeout', 'success'] },
  { price: '9.99', days: 30, steps: ['reject'] },
  { price: '5.00', days: 3, steps: ['unavailable', 'timeout', 'reject'] },
  { price: '15.00', days: 10, steps: ['timeout', 'unavailable', 'success'] },
];
/** Room for the scripts' two ambiguous answers plus a slow moment of a loaded machine. */
const MAX_ATTEMPTS = 6;

const REPLIES: Record<Step, PartnerReply> = {
  success: { status: 200, body: { reference: 'PROP' } },
  reject: { status: 422, body: { error: 'not serviceable here' } },
  unavailable: { status: 503, body: { error: 'try later' } },
  timeout: { status: 200, body: { reference: 'TOO-LATE' }, delayMs: PARTNER_TIMEOUT_MS * 2 },
};

const api = fc.nat(1);
const operation = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('activate' as const), user: fc.nat(USERS - 1), offer: fc.nat(OFFER_SCRIPTS.length - 1), keyed: fc.boolean(), renew: fc.boolean(), api }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('replay' as const), of: fc.nat(), api }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('conflicting-replay' as const), of: fc.nat(), api }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('credit' as const), user: fc.nat(USERS - 1), cents: fc.integer({ min: 100, max: 3000 }), api }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('redeliver' as const), of: fc.nat(), times: fc.integer({ min: 1, max: 2 }) }) },
);
/** The operations, and how many of them start together at each step (each group runs concurrently). */
const scenario = fc.record({
  operations: fc.array(operation, { minLength: OPERATIONS, maxLength: OPERATIONS }),
  groupSizes: fc.array(fc.integer({ min: 1, max: 10 }), { minLength: OPERATIONS, maxLength: OPERATIONS }),
});
type Operation = typeof operation extends fc.Arbitrary<infer T> ? T : never;

const cents = (n: number) => `${Math.floor(n / 100)}.${String(n % 100).padStart(2, '0')}`;

/** One activation request as sent and as answered. */
interface ActivationRequest {
  user: ProcessUser;
  offerId: number;
  key: string | undefined;
  result: HttpResult<{ transaction_id?: string; code?: string }>;
}

afterAll(removeEmbeddedTemplate);

describe.skipIf(!scaled)('money under a random concurrent workload on PostgreSQL and Redis', () => {
  const backend = 'postgres';
  it('adds up, keeps every accepted request and gives every success its period', async (context) => {
    const seed = process.env.SEED ? Number(process.env.SEED) : Math.floor(Math.random() * 2 ** 31);
    const replay = `SEED=${seed} npx vitest run test/money/concurrency-property.test.ts`;
    process.stdout.write(`concurrency property: ${replay}\n`);
    const { operations, groupSizes } = fc.sample(scenario, { seed, numRuns: 1 })[0]!;

    const { env, cleanup } = await backendEnv(backend);
    const partner = new FakePartner();
    const procs = new Processes();
    const redis = new Redis(process.env.TEST_REDIS_URL!, { maxRetriesPerRequest: null });
    // The service's queue (src/queue/bullmq-queue.ts): the test delivers jobs a second time through it.
    const queue = new Queue('activations', { connection: redis, prefix: `${env.REDIS_KEY_PREFIX}:bull` });
    context.onTestFailed(() => {
      process.stderr.write(`${procs.describe()}\nconcurrency property failed; replay with ${replay}\n`);
    });
    context.onTestFinished(async () => {
      await procs.killAll();
      await queue.close();
      redis.disconnect();
      await partner.stop();
      await cleanup();
    });

    const partnerUrl = await partner.start();
    const scripts = new Map<number, Step[]>();
    partner.respond = (_n, received) => {
      const steps = scripts.get(received.body.offer_id) ?? ['reject'];
      const step = steps[Math.min(partner.callsFor(received.body.transaction_id).length, steps.length) - 1]!;
      return REPLIES[step];
    };
    Object.assign(env, {
      AUTH_RATE_LIMIT_PER_MINUTE: '100000',
      PARTNER_URL: partnerUrl,
      PARTNER_TIMEOUT_MS: String(PARTNER_TIMEOUT_MS),
      ACTIVATION_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      ACTIVATION_RETRY_BASE_MS: '20',
      RECONCILE_AFTER_MS: '2000',
      RECONCILE_INTERVAL_MS: '250',
    });
    const [api1, api2] = await Promise.all([
      procs.start('api-1', { ...env, ROLE: 'api' }),
      procs.start('api-2', { ...env, ROLE: 'api' }),
      procs.start('worker-1', { ...env, ROLE: 'worker' }),
      procs.start('worker-2', { ...env, ROLE: 'worker' }),
    ]);
    const urls = [api1!.url, api2!.url];
    const admin = await adminLogin(urls[0]!);
    const offers: ({ id: number } & (typeof OFFER_SCRIPTS)[number])[] = [];
    for (const [i, script] of OFFER_SCRIPTS.entries()) {
      const created = await call<{ id: number }>(urls[0]!, 'POST', '/api/v1/admin/offers/', {
        token: admin,
        body: { name: `property_${i}_${randomUUID().slice(0, 8)}`, description: 'property test offer', price: script.price, duration_days: script.days },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      scripts.set(created.body.id, script.steps);
      offers.push({ id: created.body.id, ...script });
    }
    const users = await Promise.all(Array.from({ length: USERS }, (_, i) => newUser(urls[i % 2]!, admin, STARTING_BALANCE)));

    // ---------------------------------------------------------------- the workload
    const requests: ActivationRequest[] = [];
    const keyed: { user: ProcessUser; offerId: number; key: string }[] = [];
    const credits: { user: ProcessUser; amount: string; result: HttpResult<{ transaction_id?: string }> }[] = [];
    const deliveries: string[] = [];

    const send = async (url: string, path: string, user: ProcessUser, offerId: number, key: string | undefined) => {
      const result = await call<{ transaction_id?: string; code?: string }>(url, 'POST', path, {
        token: user.token,
        body: { offer_id: offerId },
        headers: key ? { 'idempotency-key': key } : {},
      });
      requests.push({ user, offerId, key, result });
    };
    const accepted = () => requests.flatMap((r) => (r.result.status === 202 ? [r.result.body.transaction_id!] : []));

    const run = (op: Operation): Promise<unknown> => {
      switch (op.kind) {
        case 'activate': {
          const user = users[op.user]!;
          const offerId = offers[op.offer]!.id;
          const key = op.keyed ? randomUUID() : undefined;
          if (key) keyed.push({ user, offerId, key });
          return send(urls[op.api]!, op.renew ? '/api/v1/offers/renew/' : '/api/v1/activation/', user, offerId, key);
        }
        case 'replay':
        case 'conflicting-replay': {
          if (keyed.length === 0) return Promise.resolve();
          const original = keyed[op.of % keyed.length]!;
          const offerId = op.kind === 'replay' ? original.offerId : offers.find((o) => o.id !== original.offerId)!.id;
          return send(urls[op.api]!, '/api/v1/activation/', original.user, offerId, original.key);
        }
        case 'credit': {
          const user = users[op.user]!;
          const amount = cents(op.cents);
          return call<{ transaction_id?: string }>(urls[op.api]!, 'POST', `/api/v1/admin/users/${user.id}/credit/`, {
            token: admin,
            body: { amount, reason: 'property test' },
          }).then((result) => credits.push({ user, amount, result }));
        }
        case 'redeliver': {
          const ids = accepted();
          if (ids.length === 0) return Promise.resolve();
          const id = ids[op.of % ids.length]!;
          deliveries.push(id);
          return Promise.all(Array.from({ length: op.times }, () => queue.add('activate', { transactionId: id })));
        }
      }
    };

    const started = Date.now();
    for (let next = 0, group = 0; next < operations.length; group++) {
      const size = groupSizes[group % groupSizes.length]!;
      await Promise.all(operations.slice(next, next + size).map(run));
      next += size;
    }

    // ---------------------------------------------------------------- everything settles
    const db = await openSql(env);
    context.onTestFinished(() => db.close());
    await waitFor(
      async () => {
        const [open] = await db.rows<{ n: number }>(`SELECT count(*)::int AS n FROM transactions WHERE status IN ('PENDING', 'PROCESSING')`);
        const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'waiting-children');
        return open!.n === 0 && Object.values(counts).every((n) => n === 0) ? true : undefined;
      },
      { what: 'every activation to be final and the queue to drain', timeoutMs: 60_000, intervalMs: 100, context: () => `seed ${seed}` },
    );
    const acceptedIds = new Set(accepted());
    const mix = {
      requests: requests.length,
      activations: acceptedIds.size,
      replayed: requests.filter((r) => r.result.status === 202).length - acceptedIds.size,
      refused: requests.filter((r) => r.result.status === 400).length,
      conflicts: requests.filter((r) => r.result.status === 409).length,
      credits: credits.length,
      redeliveries: deliveries.length,
      partnerCalls: partner.calls.length,
      settledMs: Date.now() - started,
    };
    process.stdout.write(`concurrency property: ${JSON.stringify(mix)}\n`);
    // The workload really mixed what it claims to (a seed that did not would prove little).
    for (const kind of ['activations', 'replayed', 'refused', 'credits', 'redeliveries'] as const) {
      expect(mix[kind], `seed ${seed} produced no ${kind}`).toBeGreaterThan(0);
    }

    // ---------------------------------------------------------------- the money adds up
    expect(await moneyDiscrepancies(db)).toEqual([]);

    // Only the answers the API gave: accepted, refused for money, or a reused key with another body.
    for (const r of requests) {
      expect([202, 400, 409], JSON.stringify(r.result)).toContain(r.result.status);
      if (r.result.status === 400) expect(r.result.body.code).toBe('insufficient_balance');
      if (r.result.status === 409) expect(r.key).toBeDefined();
    }
    for (const c of credits) expect(c.result.status, JSON.stringify(c.result)).toBe(201);

    // Each key answered with one transaction, the one the database keeps for it.
    const keyRows = await db.rows<{ user_id: number; key: string; transaction_id: string }>(
      `SELECT user_id, key, transaction_id::text FROM idempotency_keys`,
    );
    const idOfKey = new Map(keyRows.map((k) => [`${k.user_id}/${k.key}`, k.transaction_id]));
    for (const k of keyed) {
      const ids = new Set(requests.filter((r) => r.key === k.key && r.result.status === 202).map((r) => r.result.body.transaction_id));
      expect(ids.size, `key ${k.key} answered with ${[...ids].join(', ')}`).toBeLessThanOrEqual(1);
      const [id] = [...ids];
      if (id) expect(idOfKey.get(`${k.user.id}/${k.key}`)).toBe(id);
    }

    // Every 202 is one activation row of that user at that offer's price, and there is no other
    // (a refused request or a replay left nothing behind).
    const activations = await db.rows<{ id: string; user_id: number; offer_id: number; amount: string; status: string; error_code: string | null; completed_at: Date }>(
      `SELECT id::text, user_id, offer_id, amount::text, status, error_code, completed_at FROM transactions WHERE type = 'ACTIVATION'`,
    );
    const byId = new Map(activations.map((a) => [a.id, a]));
    const offerById = new Map(offers.map((o) => [o.id, o]));
    expect(new Set(byId.keys())).toEqual(acceptedIds);
    for (const r of requests.filter((x) => x.result.status === 202)) {
      const row = byId.get(r.result.body.transaction_id!);
      expect(row).toMatchObject({ user_id: r.user.id, offer_id: r.offerId, amount: offerById.get(r.offerId)!.price });
    }

    // The partner decided each outcome: its script's last word, reached within the attempts.
    for (const a of activations) {
      const last = offerById.get(a.offer_id)!.steps.at(-1);
      const expected = last === 'success' ? { status: 'SUCCESS' } : { status: 'FAILED', error_code: 'partner_rejected' };
      expect(a, `activation ${a.id} (partner script ends in ${last})`).toMatchObject(expected);
    }
    expect(new Set(activations.map((a) => a.status)), `seed ${seed}: outcomes`).toEqual(new Set(['SUCCESS', 'FAILED']));
    // The partner only heard of accepted activations, always under their own idempotency key.
    for (const c of partner.calls) {
      expect(acceptedIds.has(c.body.transaction_id), `partner called for unknown ${c.body.transaction_id}`).toBe(true);
      expect(c.headers['idempotency-key']).toBe(c.body.transaction_id);
    }

    // Every credit the API confirmed is there, and no other besides the starting ones.
    const creditRows = await db.rows<{ id: string; user_id: number; amount: string }>(
      `SELECT id::text, user_id, amount::text FROM transactions WHERE type = 'CREDIT'`,
    );
    const creditById = new Map(creditRows.map((c) => [c.id, c]));
    for (const c of credits) expect(creditById.get(c.result.body.transaction_id!)).toMatchObject({ user_id: c.user.id, amount: c.amount });
    expect(creditRows).toHaveLength(credits.length + USERS);

    // Each success bought its days: n successes of one offer, from the first success on, extend the
    // subscription to at least first + n·days, and never past last + n·days (no double extension).
    const subscriptions = await db.rows<{ user_id: number; offer_id: number; transaction_id: string; expires_at: Date }>(
      `SELECT user_id, offer_id, transaction_id::text, expires_at FROM subscriptions`,
    );
    const successes = new Map<string, { completed: number[]; ids: Set<string> }>();
    for (const a of activations.filter((x) => x.status === 'SUCCESS')) {
      const key = `${a.user_id}/${a.offer_id}`;
      const entry = successes.get(key) ?? { completed: [], ids: new Set() };
      entry.completed.push(new Date(a.completed_at).getTime());
      entry.ids.add(a.id);
      successes.set(key, entry);
    }
    expect(new Set(subscriptions.map((s) => `${s.user_id}/${s.offer_id}`))).toEqual(new Set(successes.keys()));
    for (const s of subscriptions) {
      const { completed, ids } = successes.get(`${s.user_id}/${s.offer_id}`)!;
      const period = completed.length * offerById.get(s.offer_id)!.days * DAY_MS;
      const expires = new Date(s.expires_at).getTime();
      const what = `subscription of user ${s.user_id} to offer ${s.offer_id} after ${completed.length} successes`;
      expect(expires, what).toBeGreaterThanOrEqual(Math.min(...completed) + period - PERIOD_TOLERANCE_MS);
      expect(expires, what).toBeLessThanOrEqual(Math.max(...completed) + period + PERIOD_TOLERANCE_MS);
      expect(ids.has(s.transaction_id), `${what} points at ${s.transaction_id}`).toBe(true);
    }
  }, TEST_TIMEOUT_MS);
});
