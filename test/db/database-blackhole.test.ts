// A silent network cut between the service and PostgreSQL (packets dropped without a reset: a
// firewall, a dead host, a partition) under load: no request waits for TCP keepalive, each answers
// within the query bound (503 service_unavailable during the cut), the process stays up, and once
// the network is back it serves again and finishes every accepted activation without a restart.
import { describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import {
  badAnswers,
  exited,
  expectSettled,
  faultTest,
  networkOutage,
  startService,
  trafficUnderway,
} from '../helpers/outage.js';
import { waitFor } from '../helpers/processes.js';

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
    const { env, procs, db, proxyTo } = await faultTest(context);
    const proxy = await proxyTo(env.DATABASE_URL!);
    // ROLE=all with the in-process queue: the worker and the reconciler meet the cut in the same process.
    const service = await startService(procs, ['all'], { ...env, ...SERVICE_ENV, DATABASE_URL: proxy.urlFor(env.DATABASE_URL!) });
    const api = service[0]!;
    const { traffic } = await trafficUnderway(api.url, CLIENTS, { requestTimeoutMs: REQUEST_ABORT_MS });

    const { startedAt: blackholeAt, restoredAt, notReady } = await networkOutage(proxy, api.url, {
      how: 'blackhole',
      outageMs: BLACKHOLE_MS,
      notReadyWithinMs: BLACKHOLE_MS - 1000,
    });
    await waitFor(async () => (traffic.successesSince(restoredAt) >= 10 ? true : undefined), {
      what: 'requests served after the cut',
      timeoutMs: 20_000,
    });
    await traffic.stop();

    expect(notReady).toEqual({ status: 'unavailable', checks: { database: 'unavailable' } });
    expect(exited([api])).toEqual([]);
    const slow = traffic.answers.filter((a) => a.tookMs > ANSWER_WITHIN_MS);
    expect(slow, `answers slower than ${ANSWER_WITHIN_MS} ms (the cut began at ${blackholeAt}, ended at ${restoredAt})`).toEqual([]);
    expect(badAnswers(traffic.answers)).toEqual([]);
    const duringCut = traffic.answers.filter((a) => a.startedAt >= blackholeAt && a.at <= restoredAt);
    expect(duringCut.filter((a) => a.status === 503).length).toBeGreaterThan(0);

    await expectSettled(db, traffic.accepted, { deadline: restoredAt + RECONCILE_AFTER_MS + 30_000, context: () => procs.describe() });
    expect(exited([api])).toEqual([]);
  }, TEST_TIMEOUT_MS);
});
