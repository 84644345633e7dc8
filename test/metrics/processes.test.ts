// /metrics served by real server processes: on the API's port only with METRICS_TOKEN, on
// METRICS_PORT without one, closed by SIGTERM, and in split roles each process counting its own part.
import { afterAll, describe, expect, it } from 'vitest';
import { backends } from '../helpers/backends.js';
import {
  activate,
  adminLogin,
  newOffer,
  newUser,
  processTest,
  removeEmbeddedTemplate,
  type ServerProcess,
  waitForStatus,
} from '../helpers/processes.js';
import { delta, METRICS_TOKEN, parseMetrics, type Scrape } from '../helpers/prometheus.js';

const TEST_TIMEOUT_MS = 180_000;
const COMMON_ENV = { AUTH_RATE_LIMIT_PER_MINUTE: '100000', PARTNER_SIM_LATENCY_MS: '0' };
// Split roles need PostgreSQL and Redis; without them that suite is registered as skipped, not empty.
const scaled = backends.includes('postgres') && Boolean(process.env.TEST_REDIS_URL);

afterAll(removeEmbeddedTemplate);

/** The /metrics URL the process logged when its metrics listener started. */
function metricsUrl(proc: ServerProcess): string {
  const line = proc.logs().find((l) => l.msg === 'metrics listening');
  if (!line) throw new Error(`${proc.name} logged no metrics listener\n${proc.describe()}`);
  return line.url as string;
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(20_000) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

async function scrapeUrl(url: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const res = await get(url, headers);
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${res.text}`);
  return parseMetrics(res.text);
}

describe.each(backends)('metrics of a server process on %s', (backend) => {
  it('answers /metrics on the API port only to the metrics token', { timeout: TEST_TIMEOUT_MS }, async (context) => {
    const { env, procs } = await processTest(context, backend, COMMON_ENV);
    const server = await procs.start('server', { ...env, METRICS_TOKEN });
    const url = `${server.url}/metrics`;
    expect((await get(url)).status).toBe(401);
    expect((await get(url, { authorization: 'Bearer not-the-metrics-token' })).status).toBe(401);
    expect((await get(url, { authorization: `Bearer ${METRICS_TOKEN}x` })).status).toBe(401);
    expect((await get(url, { authorization: `Basic ${METRICS_TOKEN}` })).status).toBe(401);
    // A user's access token is no metrics token.
    expect((await get(url, { authorization: `Bearer ${await adminLogin(server.url)}` })).status).toBe(401);
    const ok = await get(url, { authorization: `Bearer ${METRICS_TOKEN}` });
    expect(ok.status).toBe(200);
    expect(ok.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(parseMetrics(ok.text).value('offers_activations_stuck')).toBe(0);
    expect(server.logIndex((l) => l.msg === 'metrics listening')).toBe(-1);
  });

  it('serves /metrics without a token on METRICS_PORT only, and closes it on SIGTERM', { timeout: TEST_TIMEOUT_MS }, async (context) => {
    const { env, procs } = await processTest(context, backend, COMMON_ENV);
    const server = await procs.start('server', { ...env, METRICS_PORT: '0' });
    const url = metricsUrl(server);
    expect(new URL(url).port).not.toBe(String(server.port));
    // Without METRICS_TOKEN the API port has no /metrics at all.
    expect((await get(`${server.url}/metrics`, { authorization: `Bearer ${METRICS_TOKEN}` })).status).toBe(404);
    const scrape = await scrapeUrl(url);
    expect(scrape.types.get('offers_activations_finished_total')).toBe('counter');
    expect((await get(url.replace(/\/metrics$/, '/other'))).status).toBe(404);

    const exit = await server.kill('SIGTERM');
    expect(exit.code).toBe(0);
    await expect(get(url)).rejects.toThrow();
  });
});

describe.runIf(scaled)('metrics of split roles on PostgreSQL + Redis', () => {
  it('shows the API part on the API process and the worker part on the worker process', { timeout: TEST_TIMEOUT_MS }, async (context) => {
    const { env, procs } = await processTest(context, 'postgres', COMMON_ENV);
    const api = await procs.start('api', { ...env, ROLE: 'api', METRICS_TOKEN });
    const worker = await procs.start('worker', { ...env, ROLE: 'worker', METRICS_PORT: '0' });
    const scrapeApi = () => scrapeUrl(`${api.url}/metrics`, { authorization: `Bearer ${METRICS_TOKEN}` });
    const scrapeWorker = () => scrapeUrl(metricsUrl(worker));

    const admin = await adminLogin(api.url);
    const offer = await newOffer(api.url, admin, '20.00');
    const user = await newUser(api.url, admin, '50.00');
    const [apiBefore, workerBefore] = await Promise.all([scrapeApi(), scrapeWorker()]);

    const accepted = await activate(api.url, user.token, offer.id);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    await waitForStatus(api.url, user.token, accepted.body.transaction_id, 'SUCCESS', { context: () => procs.describe() });
    const [apiAfter, workerAfter] = await Promise.all([scrapeApi(), scrapeWorker()]);

    const success = { status: 'SUCCESS', source: 'purchase' };
    expect(delta(apiBefore, apiAfter, 'offers_activations_accepted_total', { source: 'purchase' })).toBe(1);
    expect(delta(apiBefore, apiAfter, 'http_request_duration_seconds_count', { method: 'POST', route: '/api/v1/activation/', status_code: '202' })).toBe(1);
    expect(delta(apiBefore, apiAfter, 'offers_activations_finished_total', success)).toBe(0);

    expect(delta(workerBefore, workerAfter, 'offers_activations_finished_total', success)).toBe(1);
    expect(delta(workerBefore, workerAfter, 'offers_activation_duration_seconds_count', success)).toBe(1);
    expect(delta(workerBefore, workerAfter, 'offers_partner_call_duration_seconds_count', { outcome: 'success' })).toBe(1);
    expect(delta(workerBefore, workerAfter, 'offers_activations_accepted_total', { source: 'purchase' })).toBe(0);
    // A worker serves no API, so it has no requests to time; both read the one queue in Redis.
    expect(workerAfter.series('http_request_duration_seconds_count')).toEqual([]);
    expect(workerAfter.value('offers_queue_jobs', { state: 'waiting' })).toBe(apiAfter.value('offers_queue_jobs', { state: 'waiting' }));
  });
});
