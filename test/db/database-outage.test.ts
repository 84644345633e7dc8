// PostgreSQL goes away under load (sessions ended by pg_terminate_backend, the network cut and
// restored): no process exits, clients get 503 service_unavailable meanwhile, and once PostgreSQL
// is back the same processes serve again and finish every paid activation without a restart.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import {
  badAnswers,
  exited,
  expectSettled,
  faultTest,
  networkOutage,
  readiness,
  type Role,
  startService,
  type Traffic,
  trafficUnderway,
} from '../helpers/outage.js';
import { call, waitFor } from '../helpers/processes.js';

const TEST_TIMEOUT_MS = 120_000;
const RECONCILE_AFTER_MS = 2000;
const OUTAGE_MS = 10_000;
const CLIENTS = 4;

/** Quick partner and quick recovery, so a test is about the outage and not about waiting. */
const SERVICE_ENV = {
  PARTNER_SIM_LATENCY_MS: '200',
  RECONCILE_AFTER_MS: String(RECONCILE_AFTER_MS),
  RECONCILE_INTERVAL_MS: '500',
  ACTIVATION_RETRY_BASE_MS: '200',
};

interface Topology {
  name: string;
  roles: Role[];
}

const topologies: Topology[] = [
  { name: 'one ROLE=all process with the in-process queue', roles: ['all'] },
  ...(process.env.TEST_REDIS_URL ? [{ name: 'split api and worker processes with BullMQ', roles: ['api', 'worker'] } satisfies Topology] : []),
];

const successes = (traffic: Traffic, since: number) =>
  traffic.between(since, Number.MAX_SAFE_INTEGER).filter((a) => a.status === 200 || a.status === 202).length;

describe.runIf(backends.includes('postgres'))('PostgreSQL going away under load', () => {
  describe.concurrent.each(topologies)('$name', (topology) => {
    it('keeps running when PostgreSQL ends every session, answers 503 meanwhile and finishes every activation', async (context) => {
      const { env, procs, db } = await faultTest(context);
      const service = await startService(procs, topology.roles, { ...env, ...SERVICE_ENV });
      const api = service[0]!;
      const { traffic } = await trafficUnderway(api.url, CLIENTS);

      let ended = 0;
      for (let round = 0; round < 5; round += 1) {
        const [row] = await db.rows<{ n: number }>(
          'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
        );
        ended += row!.n;
        await sleep(300);
      }
      const afterFault = Date.now();
      await waitFor(async () => (successes(traffic, afterFault) >= 10 || exited(service).length > 0 ? true : undefined), {
        what: 'requests answered after the fault',
        timeoutMs: 20_000,
      });
      await traffic.stop();

      expect(ended).toBeGreaterThan(0);
      expect(exited(service)).toEqual([]);
      expect(badAnswers(traffic.answers)).toEqual([]);
      expect(successes(traffic, afterFault)).toBeGreaterThanOrEqual(10);
      expect((await readiness(api.url)).status).toBe(200);

      await expectSettled(db, traffic.accepted, {
        deadline: Date.now() + RECONCILE_AFTER_MS + 30_000,
        context: () => procs.describe(),
        allSucceeded: true,
      });
      expect(exited(service)).toEqual([]);
    }, TEST_TIMEOUT_MS);

    it('rides out a 10 s network cut: 503 and not ready during it, serving and finishing every activation after it', async (context) => {
      const { env, procs, db, proxyTo } = await faultTest(context);
      const proxy = await proxyTo(env.DATABASE_URL!);
      // Some partner rejections, so the refunds are part of the money that must add up.
      const serviceEnv = { ...env, ...SERVICE_ENV, DATABASE_URL: proxy.urlFor(env.DATABASE_URL!), PARTNER_SIM_FAILURE_RATE: '0.2' };
      const service = await startService(procs, topology.roles, serviceEnv);
      const api = service[0]!;
      const { traffic, tokens } = await trafficUnderway(api.url, CLIENTS);

      const { startedAt: cutAt, restoredAt, notReady } = await networkOutage(proxy, api.url, { how: 'cut', outageMs: OUTAGE_MS, notReadyWithinMs: OUTAGE_MS - 2000 });
      await waitFor(async () => (successes(traffic, restoredAt) >= 10 ? true : undefined), { what: 'requests served after the restore', timeoutMs: 20_000 });
      await traffic.stop();

      expect(notReady).toEqual({ status: 'unavailable', checks: { database: 'unavailable', ...(topology.roles.includes('all') ? {} : { redis: 'ok' }) } });
      expect(exited(service)).toEqual([]);
      expect(badAnswers(traffic.answers)).toEqual([]);
      expect(traffic.between(cutAt, restoredAt).some((a) => a.status === 503)).toBe(true);
      const account = await call(api.url, 'GET', '/api/v1/account/', { token: tokens[0]! });
      expect(account.status).toBe(200);

      await expectSettled(db, traffic.accepted, { deadline: restoredAt + RECONCILE_AFTER_MS + 30_000, context: () => procs.describe() });
      expect(exited(service)).toEqual([]);
    }, TEST_TIMEOUT_MS);
  });
});
