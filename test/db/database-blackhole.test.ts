// A silent network cut between the service and PostgreSQL (packets dropped without a reset: a
// firewall, a dead host, a partition) under load: no request waits for TCP keepalive, each answers
// within the query bound (503 service_unavailable during the cut), the process stays up, and once
// the network is back it serves again and finishes every accepted activation without a restart.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import { badAnswers, exited, faultTest, moneyEquation, readiness, Traffic, unfinishedActivations, waitUntilAllFinal } from '../helpers/outage.js';
import { adminLogin, newOffer, newUser, waitFor } from '../helpers/processes.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const TEST_TIMEOUT_MS = 90_000;
const QUERY_TIMEOUT_MS = 1000;
const BLACKHOLE_MS = 6000;
/** A request waits at most once for a connection and once for a query, each bounded by the setting; the rest is a busy machine. */
const ANSWER_WITHIN_MS = 2 * QUERY_TIMEOUT_MS + 1500;
/** Far above ANSWER_WITHIN_MS, so a hanging request is seen as slow rather than cut off by the client. */
const REQUEST_ABORT_MS = 15_000;
const CLIENTS = 4;
const RECONCILE_AFTER_MS = 2000;

const SERVICE_ENV = {
  DATABASE_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
  PARTNER_SIM_LATENCY_MS: '200',
  RECONCILE_AFTER_MS: String(RECONCILE_AFTER_MS),
  RECONCILE_INTERVAL_MS: '500',
  ACTIVATION_RETRY_BASE_MS: '200',
};

describe.runIf(backends.includes('postgres'))('PostgreSQL behind a silent network cut', () => {
  it('answers 503 within the query bound during the cut, stays up, and serves and finishes every activation after it', async (context) => {
    const { env, procs, db, afterwards } = await faultTest(context);
    const proxy = await TcpProxy.forUrl(env.DATABASE_URL!);
    afterwards(() => proxy.close());
    // ROLE=all with the in-process queue: the worker and the reconciler meet the cut in the same process.
    const { REDIS_URL: _redis, REDIS_KEY_PREFIX: _prefix, ...postgresOnly } = env;
    const api = await procs.start('all', { ...postgresOnly, ...SERVICE_ENV, ROLE: 'all', DATABASE_URL: proxy.urlFor(env.DATABASE_URL!) });

    const admin = await adminLogin(api.url);
    const offer = await newOffer(api.url, admin, '1.00');
    const users = await Promise.all(Array.from({ length: CLIENTS }, () => newUser(api.url, admin, '10000.00')));
    const traffic = new Traffic(api.url, users.map((u) => u.token), offer.id, REQUEST_ABORT_MS);
    traffic.start();
    await waitFor(async () => (traffic.accepted.length >= 5 ? true : undefined), { what: 'activations before the cut', timeoutMs: 20_000 });

    const blackholeAt = Date.now();
    proxy.blackhole();
    const during = await waitFor(
      async () => {
        const ready = await readiness(api.url);
        return ready.status === 503 ? ready : undefined;
      },
      { what: '/ready to say 503 during the cut', timeoutMs: BLACKHOLE_MS - 1000 },
    );
    expect(during.body).toEqual({ status: 'unavailable', checks: { database: 'unavailable' } });
    await sleep(Math.max(0, blackholeAt + BLACKHOLE_MS - Date.now()));
    const restoredAt = Date.now();
    proxy.restore();

    await waitFor(async () => ((await readiness(api.url)).status === 200 ? true : undefined), {
      what: '/ready to say 200 after the cut',
      timeoutMs: 15_000,
    });
    await waitFor(async () => (traffic.successesSince(restoredAt) >= 10 ? true : undefined), {
      what: 'requests served after the cut',
      timeoutMs: 20_000,
    });
    await traffic.stop();

    expect(exited([api])).toEqual([]);
    const slow = traffic.answers.filter((a) => a.tookMs > ANSWER_WITHIN_MS);
    expect(slow, `answers slower than ${ANSWER_WITHIN_MS} ms (the cut began at ${blackholeAt}, ended at ${restoredAt})`).toEqual([]);
    expect(badAnswers(traffic.answers)).toEqual([]);
    const duringCut = traffic.answers.filter((a) => a.startedAt >= blackholeAt && a.at <= restoredAt);
    expect(duringCut.filter((a) => a.status === 503).length).toBeGreaterThan(0);

    await waitUntilAllFinal(db, restoredAt + RECONCILE_AFTER_MS + 30_000, () => procs.describe());
    expect(await unfinishedActivations(db)).toEqual([]);
    const finished = await db.rows<{ id: string }>(`SELECT id::text FROM transactions WHERE type = 'ACTIVATION'`);
    expect(finished.map((a) => a.id)).toEqual(expect.arrayContaining(traffic.accepted));
    const money = await moneyEquation(db);
    expect(money, JSON.stringify(money)).toMatchObject({ holds: true, wrongRefunds: [] });
    expect(exited([api])).toEqual([]);
  }, TEST_TIMEOUT_MS);
});
