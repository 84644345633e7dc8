// Redis goes away under load in the split deployment (api + worker on BullMQ): no process exits,
// requests still succeed from PostgreSQL or get 503 service_unavailable, /ready says 503, and once
// Redis is back the same processes finish every paid activation without a restart.
import { describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { badAnswers, exited, expectSettled, faultTest, networkOutage, startService, trafficUnderway } from '../helpers/outage.js';
import { waitFor } from '../helpers/processes.js';

const TEST_TIMEOUT_MS = 120_000;
const RECONCILE_AFTER_MS = 2000;
const OUTAGE_MS = 8000;

describe.runIf(backends.includes('postgres') && process.env.TEST_REDIS_URL)('Redis going away under load', () => {
  it('keeps the api and worker processes running through a Redis cut and finishes every activation after it', async (context) => {
    const { env, procs, db, proxyTo } = await faultTest(context);
    const proxy = await proxyTo(env.REDIS_URL!);
    const serviceEnv = {
      ...env,
      REDIS_URL: proxy.urlFor(env.REDIS_URL!),
      PARTNER_SIM_LATENCY_MS: '200',
      RECONCILE_AFTER_MS: String(RECONCILE_AFTER_MS),
      RECONCILE_INTERVAL_MS: '500',
    };
    const service = await startService(procs, ['api', 'worker'], serviceEnv);
    const api = service[0]!;
    const { traffic } = await trafficUnderway(api.url, 3);

    const { startedAt: cutAt, restoredAt, notReady } = await networkOutage(proxy, api.url, { how: 'cut', outageMs: OUTAGE_MS, notReadyWithinMs: OUTAGE_MS - 2000 });
    const acceptedBefore = traffic.accepted.length;
    await waitFor(async () => (traffic.accepted.length >= acceptedBefore + 5 ? true : undefined), {
      what: 'activations accepted after the restore',
      timeoutMs: 20_000,
    });
    await traffic.stop();

    expect(notReady).toEqual({ status: 'unavailable', checks: { database: 'ok', redis: 'unavailable' } });
    expect(exited(service)).toEqual([]);
    expect(badAnswers(traffic.answers)).toEqual([]);
    // Paying needs PostgreSQL only: activations are still accepted while Redis is away.
    expect(traffic.between(cutAt, restoredAt).some((a) => a.what === 'activate' && a.status === 202)).toBe(true);

    await expectSettled(db, traffic.accepted, {
      deadline: restoredAt + RECONCILE_AFTER_MS + 30_000,
      context: () => procs.describe(),
      allSucceeded: true,
    });
    expect(exited(service)).toEqual([]);
  }, TEST_TIMEOUT_MS);
});
