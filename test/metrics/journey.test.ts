// GET /metrics after a scripted journey: each counter moved by exactly what the journey did, and
// the scrape-time gauges read the database and the queue.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reconciler } from '../../src/activation/reconciler.js';
import { activate, credit, newOffer, newUser, waitForFinal } from '../helpers/api.js';
import { backends, startApp, type TestApp } from '../helpers/backends.js';
import { appWithEnv, expectError } from '../helpers/checks.js';
import { FakePartner } from '../helpers/partner.js';
import { delta, METRICS_TOKEN, scrape } from '../helpers/prometheus.js';
import { drain, setEmail } from '../notifications/helpers.js';
import { TestSmtpServer } from '../notifications/smtp.js';

const REJECTED_PRICE = '13.00';
const FAILED_LOGINS = 3;
/** Low enough for the test to cross it from one address, high enough for the journey's own logins. */
const AUTH_LIMIT = 20;

describe.each(backends)('metrics after a journey on %s', (backend) => {
  let t: TestApp;
  const partner = new FakePartner();
  const smtp = new TestSmtpServer();
  beforeAll(async () => {
    const smtpUrl = await smtp.start();
    const partnerUrl = await partner.start();
    partner.respond = (_n, call) =>
      call.body.amount === REJECTED_PRICE ? { status: 422, body: { error: 'Not serviceable' } } : { status: 200, body: { reference: 'REF-OK' } };
    t = await startApp(backend, {
      METRICS_TOKEN,
      PARTNER_URL: partnerUrl,
      SMTP_URL: smtpUrl,
      MAIL_FROM: 'offers@example.test',
      LOGIN_MAX_FAILURES: String(FAILED_LOGINS),
      AUTH_RATE_LIMIT_PER_MINUTE: String(AUTH_LIMIT),
    });
    // The test runs the notification passes itself, so it knows what was sent when.
    await t.runtime.notifications.stop();
  });
  afterAll(async () => {
    await t?.close();
    await partner.stop();
    await smtp.stop();
  });

  it('counts logins, activations, partner calls, refunds, emails and requests by route', async () => {
    const { app } = t;
    const offer = await newOffer(app, { price: '20.00' });
    const refused = await newOffer(app, { price: REJECTED_PRICE });
    const user = await newUser(app, { balance: '100.00' });
    await setEmail(app, user, `${user.username}@example.test`);
    const before = await scrape(app);

    // Wrong passwords for one name: three refusals, then the name is locked.
    const ghost = `ghost_${user.username}`;
    for (let i = 0; i < FAILED_LOGINS; i += 1) {
      expectError(await app.inject({ method: 'POST', url: '/api/v1/auth/login/', payload: { username: ghost, password: 'wrong password' } }), 401);
    }
    expectError(await app.inject({ method: 'POST', url: '/api/v1/auth/login/', payload: { username: ghost, password: 'wrong password' } }), 429, 'rate_limited');

    const ok = await activate(app, user.access, offer.id);
    const no = await activate(app, user.access, refused.id);
    expect([ok.statusCode, no.statusCode]).toEqual([202, 202]);
    const done = await waitForFinal(app, user.access, ok.json<{ transaction_id: string }>().transaction_id);
    const failed = await waitForFinal(app, user.access, no.json<{ transaction_id: string }>().transaction_id);
    expect([done.status, failed.status]).toEqual(['SUCCESS', 'FAILED']);

    // The first email the server is offered is refused for good, the others are taken.
    smtp.onRecipient = (_address, n) => (n === 1 ? { code: 550, message: 'Mailbox unavailable' } : undefined);
    const email = t.runtime.notifications.email!;
    await drain(t.runtime.db, email.queue);
    const sent = await email.sender.runOnce();
    expect(sent.failed).toBe(1);
    expect(sent.sent).toBeGreaterThan(0);

    const unknownPath = `/no/such/path/${user.username}`;
    expectError(await app.inject({ method: 'GET', url: unknownPath }), 404);

    const after = await scrape(app);
    const moved = (name: string, labels?: Record<string, string>) => delta(before, after, name, labels);
    expect(moved('offers_login_failures_total')).toBe(FAILED_LOGINS);
    expect(moved('offers_rate_limited_requests_total', { limiter: 'login_lockout' })).toBe(1);
    expect(moved('offers_rate_limited_requests_total', { limiter: 'auth_rate_limit' })).toBe(0);
    expect(moved('offers_activations_accepted_total', { source: 'purchase' })).toBe(2);
    expect(moved('offers_activations_finished_total', { status: 'SUCCESS', source: 'purchase' })).toBe(1);
    expect(moved('offers_activations_finished_total', { status: 'FAILED', source: 'purchase' })).toBe(1);
    expect(moved('offers_activations_finished_total', { status: 'SUCCESS', source: 'auto_renew' })).toBe(0);
    expect(moved('offers_activation_duration_seconds_count', { status: 'SUCCESS', source: 'purchase' })).toBe(1);
    expect(moved('offers_activation_duration_seconds_count', { status: 'FAILED', source: 'purchase' })).toBe(1);
    expect(moved('offers_partner_call_duration_seconds_count', { outcome: 'success' })).toBe(1);
    expect(moved('offers_partner_call_duration_seconds_count', { outcome: 'rejected' })).toBe(1);
    expect(moved('offers_partner_call_duration_seconds_count', { outcome: 'ambiguous' })).toBe(0);
    expect(moved('offers_refunds_total', { reason: 'partner_rejected' })).toBe(1);
    expect(moved('offers_refunds_total', { reason: 'partner_unavailable' })).toBe(0);
    expect(moved('offers_emails_total', { outcome: 'sent' })).toBe(sent.sent);
    expect(moved('offers_emails_total', { outcome: 'failed' })).toBe(1);
    expect(moved('offers_emails_total', { outcome: 'retried' })).toBe(0);
    expect(smtp.received.length).toBe(sent.sent);

    const http = (method: string, route: string, status: number) =>
      moved('http_request_duration_seconds_count', { method, route, status_code: String(status) });
    expect(http('POST', '/api/v1/auth/login/', 401)).toBe(FAILED_LOGINS);
    expect(http('POST', '/api/v1/auth/login/', 429)).toBe(1);
    expect(http('POST', '/api/v1/activation/', 202)).toBe(2);
    expect(http('GET', 'unmatched', 404)).toBe(1);
    // The pattern, never the URL: the status reads share one series, and no raw path appears.
    expect(http('GET', '/api/v1/activation/status/:transaction_id/', 200)).toBeGreaterThanOrEqual(2);
    const routes = after.series('http_request_duration_seconds_count').map((s) => s.labels.route);
    expect(routes.some((r) => r?.includes(user.username) || r?.includes(done.transaction_id))).toBe(false);
    // A scrape does not time itself.
    expect(routes).not.toContain('/metrics');

    expect(after.types.get('http_request_duration_seconds')).toBe('histogram');
    expect(after.value('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(after.value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  it('counts requests the per-address auth limit turns away', async () => {
    const before = await scrape(t.app);
    // Its own address, so the journey's logins do not share the budget; an empty body is enough
    // because the limit answers before validation.
    const statuses: number[] = [];
    for (let i = 0; i <= AUTH_LIMIT; i += 1) {
      statuses.push((await t.app.inject({ method: 'POST', url: '/api/v1/auth/login/', payload: {}, remoteAddress: '10.20.30.40' })).statusCode);
    }
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);
    const after = await scrape(t.app);
    expect(delta(before, after, 'offers_rate_limited_requests_total', { limiter: 'auth_rate_limit' })).toBe(1);
    expect(delta(before, after, 'http_request_duration_seconds_count', { method: 'POST', route: '/api/v1/auth/login/', status_code: '429' })).toBe(1);
  });

  it('counts requests load shedding refuses, and still answers /metrics under pressure', async () => {
    // The same runtime behind an app that finds any heap at all over its limit.
    const app = await appWithEnv(t, { MAX_HEAP_USED_RATIO: '0.0001' });
    try {
      const offers = () => app.inject({ method: 'GET', url: '/api/v1/offers/' });
      const deadline = Date.now() + 10_000;
      while ((await offers()).statusCode !== 503 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      const before = await scrape(app);
      for (let i = 0; i < 3; i += 1) expectError(await offers(), 503, 'service_unavailable');
      const after = await scrape(app);
      expect(delta(before, after, 'offers_rate_limited_requests_total', { limiter: 'load_shedding' })).toBe(3);
    } finally {
      await app.close();
    }
  });

  it('shows how far behind each outbox consumer is', async () => {
    const email = t.runtime.notifications.email!;
    await drain(t.runtime.db, email.queue);
    const level = await scrape(t.app);
    expect(level.value('offers_outbox_lag_seconds', { consumer: 'notifications.email' })).toBe(0);

    const user = await newUser(t.app);
    await credit(t.app, user.id, '5.00');
    const behind = await scrape(t.app);
    expect(behind.value('offers_outbox_lag_seconds', { consumer: 'notifications.email' })).toBeGreaterThan(0);

    await drain(t.runtime.db, email.queue);
    expect((await scrape(t.app)).value('offers_outbox_lag_seconds', { consumer: 'notifications.email' })).toBe(0);
  });
});

describe.each(backends)('activations nobody works on, on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    // No worker: an accepted activation waits in the queue, as when every worker process is down.
    t = await startApp(backend, { METRICS_TOKEN, RECONCILE_AFTER_MS: '50', PARTNER_SIM_LATENCY_MS: '0' }, { worker: false });
  });
  afterAll(async () => t?.close());

  it('are counted as stuck, waiting in the queue, and re-enqueued by the reconciler', async () => {
    const offer = await newOffer(t.app);
    const user = await newUser(t.app, { balance: '50.00' });
    const before = await scrape(t.app);
    expect(before.value('offers_activations_stuck')).toBe(0);

    const accepted = await activate(t.app, user.access, offer.id);
    expect(accepted.statusCode).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const waiting = await scrape(t.app);
    expect(waiting.value('offers_activations_stuck')).toBe(1);
    expect(waiting.value('offers_queue_jobs', { state: 'waiting' })).toBe(1);

    const reconciler = new Reconciler(t.runtime.db, t.runtime.queue, 50, 60_000, pino({ level: 'silent' }), t.runtime.metrics);
    expect(await reconciler.runOnce()).toBe(1);
    const requeued = await scrape(t.app);
    expect(delta(before, requeued, 'offers_reconciler_requeued_total')).toBe(1);

    t.runtime.startWorker();
    const { transaction_id: id } = accepted.json<{ transaction_id: string }>();
    expect((await waitForFinal(t.app, user.access, id)).status).toBe('SUCCESS');
    const finished = await scrape(t.app);
    expect(finished.value('offers_activations_stuck')).toBe(0);
    expect(delta(before, finished, 'offers_activations_finished_total', { status: 'SUCCESS', source: 'purchase' })).toBe(1);
  });
});
