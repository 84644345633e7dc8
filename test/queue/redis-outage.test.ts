// Redis goes away under load in the split deployment (api + worker on BullMQ): no process exits,
// requests still succeed from PostgreSQL or get 503 service_unavailable, /ready says 503, and once
// Redis is back the same processes finish every paid activation without a restart.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { badAnswers, exited, faultTest, moneyEquation, readiness, Traffic, waitUntilAllFinal } from '../helpers/outage.js';
import { adminLogin, newOffer, newUser, waitFor } from '../helpers/processes.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const TEST_TIMEOUT_MS = 120_000;
const RECONCILE_AFTER_MS = 2000;
const OUTAGE_MS = 8000;

describe.runIf(backends.includes('postgres') && process.env.TEST_REDIS_URL)('Redis going away under load', () => {
  it('keeps the api and worker processes running through a Redis cut and finishes every activation after it', async (context) => {
    const { env, procs, db, afterwards } = await faultTest(context);
    const proxy = await TcpProxy.forUrl(env.REDIS_URL!);
    afterwards(() => proxy.close());
    const serviceEnv = {
      ...env,
      REDIS_URL: proxy.urlFor(env.REDIS_URL!),
      PARTNER_SIM_LATENCY_MS: '200',
      RECONCILE_AFTER_MS: String(RECONCILE_AFTER_MS),
      RECONCILE_INTERVAL_MS: '500',
    };
    const api = await procs.start('api', { ...serviceEnv, ROLE: 'api' });
    const worker = await procs.start('worker', { ...serviceEnv, ROLE: 'worker' });
    const admin = await adminLogin(api.url);
    const offer = await newOffer(api.url, admin, '1.00');
    const users = await Promise.all(Array.from({ length: 3 }, () => newUser(api.url, admin, '10000.00')));
    const traffic = new Traffic(api.url, users.map((u) => u.token), offer.id);
    traffic.start();
    await waitFor(async () => (traffic.accepted.length >= 5 ? true : undefined), { what: 'activations before the cut', timeoutMs: 20_000 });

    const cutAt = Date.now();
    proxy.cut();
    const during = await waitFor(
      async () => {
        const ready = await readiness(api.url);
        return ready.status === 503 ? ready : undefined;
      },
      { what: '/ready to say 503 during the cut', timeoutMs: OUTAGE_MS - 2000 },
    );
    expect(during.body).toEqual({ status: 'unavailable', checks: { database: 'ok', redis: 'unavailable' } });
    await sleep(Math.max(0, cutAt + OUTAGE_MS - Date.now()));
    const restoredAt = Date.now();
    proxy.restore();

    await waitFor(async () => ((await readiness(api.url)).status === 200 ? true : undefined), {
      what: '/ready to say 200 after the restore',
      timeoutMs: 15_000,
    });
    const acceptedBefore = traffic.accepted.length;
    await waitFor(async () => (traffic.accepted.length >= acceptedBefore + 5 ? true : undefined), {
      what: 'activations accepted after the restore',
      timeoutMs: 20_000,
    });
    await traffic.stop();

    expect(exited([api, worker])).toEqual([]);
    expect(badAnswers(traffic.answers)).toEqual([]);
    // Paying needs PostgreSQL only: activations are still accepted while Redis is away.
    expect(traffic.between(cutAt, restoredAt).some((a) => a.what === 'activate' && a.status === 202)).toBe(true);

    await waitUntilAllFinal(db, restoredAt + RECONCILE_AFTER_MS + 30_000, () => procs.describe());
    const activations = await db.rows<{ id: string; status: string }>(`SELECT id::text, status FROM transactions WHERE type = 'ACTIVATION'`);
    expect(activations.filter((a) => a.status !== 'SUCCESS')).toEqual([]);
    expect(activations.map((a) => a.id)).toEqual(expect.arrayContaining(traffic.accepted));
    const money = await moneyEquation(db);
    expect(money, JSON.stringify(money)).toMatchObject({ holds: true, wrongRefunds: [] });
    expect(exited([api, worker])).toEqual([]);
  }, TEST_TIMEOUT_MS);
});
