// PostgreSQL goes away under load (sessions ended by pg_terminate_backend, the network cut and
// restored): no process exits, clients get 503 service_unavailable meanwhile, and once PostgreSQL
// is back the same processes serve again and finish every paid activation without a restart.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import {
  badAnswers,
  exited,
  faultTest,
  moneyEquation,
  readiness,
  Traffic,
  unfinishedActivations,
  waitUntilAllFinal,
} from '../helpers/outage.js';
import { adminLogin, call, newOffer, newUser, type Processes, type ServerProcess, waitFor } from '../helpers/processes.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

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
  roles: ('all' | 'api' | 'worker')[];
}

const topologies: Topology[] = [
  { name: 'one ROLE=all process with the in-process queue', roles: ['all'] },
  ...(process.env.TEST_REDIS_URL ? [{ name: 'split api and worker processes with BullMQ', roles: ['api', 'worker'] } satisfies Topology] : []),
];

/** Starts the topology's processes; the first one serves HTTP. */
async function startService(procs: Processes, topology: Topology, env: Record<string, string>): Promise<ServerProcess[]> {
  const serviceEnv: Record<string, string> = { ...env, ...SERVICE_ENV };
  if (topology.roles.includes('all')) {
    // ROLE=all on PostgreSQL alone: the in-process queue, so both queue kinds meet the outage.
    delete serviceEnv.REDIS_URL;
    delete serviceEnv.REDIS_KEY_PREFIX;
  }
  const started: ServerProcess[] = [];
  for (const role of topology.roles) started.push(await procs.start(role, { ...serviceEnv, ROLE: role }));
  return started;
}

/** An admin, an offer at 1.00 and CLIENTS users with enough money for every activation they try. */
async function customers(baseUrl: string) {
  const admin = await adminLogin(baseUrl);
  const offer = await newOffer(baseUrl, admin, '1.00');
  const users = await Promise.all(Array.from({ length: CLIENTS }, () => newUser(baseUrl, admin, '10000.00')));
  return { offer, tokens: users.map((u) => u.token) };
}

const successes = (traffic: Traffic, since: number) =>
  traffic.between(since, Number.MAX_SAFE_INTEGER).filter((a) => a.status === 200 || a.status === 202).length;

describe.runIf(backends.includes('postgres'))('PostgreSQL going away under load', () => {
  describe.concurrent.each(topologies)('$name', (topology) => {
    it('keeps running when PostgreSQL ends every session, answers 503 meanwhile and finishes every activation', async (context) => {
      const { env, procs, db } = await faultTest(context);
      const service = await startService(procs, topology, env);
      const api = service[0]!;
      const { offer, tokens } = await customers(api.url);
      const traffic = new Traffic(api.url, tokens, offer.id);
      traffic.start();
      await waitFor(async () => (traffic.accepted.length >= 5 ? true : undefined), { what: 'activations before the fault', timeoutMs: 20_000 });

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

      await waitUntilAllFinal(db, Date.now() + RECONCILE_AFTER_MS + 30_000, () => procs.describe());
      const activations = await db.rows<{ id: string; status: string }>(`SELECT id::text, status FROM transactions WHERE type = 'ACTIVATION'`);
      expect(activations.filter((a) => a.status !== 'SUCCESS')).toEqual([]);
      expect(activations.map((a) => a.id)).toEqual(expect.arrayContaining(traffic.accepted));
      const money = await moneyEquation(db);
      expect(money, JSON.stringify(money)).toMatchObject({ holds: true, wrongRefunds: [] });
      expect(exited(service)).toEqual([]);
    }, TEST_TIMEOUT_MS);

    it('rides out a 10 s network cut: 503 and not ready during it, serving and finishing every activation after it', async (context) => {
      const { env, procs, db, afterwards } = await faultTest(context);
      const proxy = await TcpProxy.forUrl(env.DATABASE_URL!);
      afterwards(() => proxy.close());
      // Some partner rejections, so the refunds are part of the money that must add up.
      const service = await startService(procs, topology, { ...env, DATABASE_URL: proxy.urlFor(env.DATABASE_URL!), PARTNER_SIM_FAILURE_RATE: '0.2' });
      const api = service[0]!;
      const { offer, tokens } = await customers(api.url);
      const traffic = new Traffic(api.url, tokens, offer.id);
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
      expect(during.body).toEqual({ status: 'unavailable', checks: { database: 'unavailable', ...(topology.roles.includes('all') ? {} : { redis: 'ok' }) } });
      await sleep(Math.max(0, cutAt + OUTAGE_MS - Date.now()));
      const restoredAt = Date.now();
      proxy.restore();

      await waitFor(async () => ((await readiness(api.url)).status === 200 ? true : undefined), {
        what: '/ready to say 200 after the restore',
        timeoutMs: 15_000,
      });
      await waitFor(async () => (successes(traffic, restoredAt) >= 10 ? true : undefined), { what: 'requests served after the restore', timeoutMs: 20_000 });
      await traffic.stop();

      expect(exited(service)).toEqual([]);
      expect(badAnswers(traffic.answers)).toEqual([]);
      expect(traffic.between(cutAt, restoredAt).some((a) => a.status === 503)).toBe(true);
      const account = await call(api.url, 'GET', '/api/v1/account/', { token: tokens[0]! });
      expect(account.status).toBe(200);

      await waitUntilAllFinal(db, restoredAt + RECONCILE_AFTER_MS + 30_000, () => procs.describe());
      expect(await unfinishedActivations(db)).toEqual([]);
      const finished = await db.rows<{ id: string }>(`SELECT id::text FROM transactions WHERE type = 'ACTIVATION'`);
      expect(finished.map((a) => a.id)).toEqual(expect.arrayContaining(traffic.accepted));
      const money = await moneyEquation(db);
      expect(money, JSON.stringify(money)).toMatchObject({ holds: true, wrongRefunds: [] });
      expect(exited(service)).toEqual([]);
    }, TEST_TIMEOUT_MS);
  });
});
