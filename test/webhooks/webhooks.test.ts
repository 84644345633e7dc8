// Outbound webhooks against a real receiver process: signed deliveries, retries after 500s and
// timeouts, the disable window (moved with a test clock), redelivery, secret rotation, and the
// admin API's answers. The worker's passes are run by the tests, so nothing happens behind them.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestClock } from '../../src/clock.js';
import { WebhookSender } from '../../src/webhooks/sender.js';
import type { FastifyInstance } from 'fastify';
import { adminToken, bearer, credit, newUser } from '../helpers/api.js';
import { ADMIN, backends, startApp, type TestApp } from '../helpers/backends.js';
import { appWithEnv, expectConsistentPaging, expectError } from '../helpers/checks.js';
import { delta, METRICS_TOKEN, scrape } from '../helpers/prometheus.js';
import { drain, emitEvents } from '../notifications/helpers.js';
import { adminCall, createEndpoint, deliveries, type Endpoint, webhookPass } from './helpers.js';
import { verifySignature, WebhookReceiver } from './receiver.js';

const RETRY_BASE_MS = 60_000;
const TIMEOUT_MS = 700;
const HOUR = 3_600_000;

describe.each(backends)('webhooks on %s', (backend) => {
  let t: TestApp;
  const clock = new TestClock();
  const receiver = new WebhookReceiver();
  beforeAll(async () => {
    await receiver.start();
    t = await startApp(
      backend,
      {
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
        WEBHOOK_RETRY_BASE_MS: String(RETRY_BASE_MS),
        WEBHOOK_MAX_ATTEMPTS: '4',
        WEBHOOK_DISABLE_AFTER_HOURS: '72',
        METRICS_TOKEN,
      },
      { clock },
    );
    // The worker runs activations; the test runs the webhook passes itself.
    await t.runtime.webhooks.stop();
  });
  afterAll(async () => {
    await t?.close();
    await receiver.stop();
  });
  // Each test's endpoints only: a later test's events must not reach (and use up the scripts of) earlier ones.
  afterEach(async () => {
    await t.runtime.db.deleteFrom('webhook_endpoints').execute();
  });

  let paths = 0;
  const newPath = () => `/hooks/${backend}/${++paths}`;
  const balanceLow = (userId: number | null = null) => ({ type: 'balance.low' as const, userId, subject: null, data: { balance: '1.00' } });

  it('POSTs a subscribed event as {id, type, created_at, data} with Offers-Event-Id and a signature made with the secret', async () => {
    const path = newPath();
    const endpoint = await createEndpoint(t.app, { url: receiver.url(path), events: ['balance.credited'], description: 'ledger sync' });
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(endpoint).toMatchObject({ url: receiver.url(path), events: ['balance.credited'], description: 'ledger sync', enabled: true });

    const user = await newUser(t.app);
    await credit(t.app, user.id, '12.50');
    await emitEvents(t.runtime.db, balanceLow(user.id));
    expect(await webhookPass(t)).toEqual({ delivered: 1, retrying: 0, failed: 0, lost: 0 });

    const [request, ...more] = await receiver.requests(path);
    expect(more).toEqual([]);
    const body = JSON.parse(request!.body) as { id: string; type: string; created_at: string; data: Record<string, unknown> };
    expect(Object.keys(body).sort()).toEqual(['created_at', 'data', 'id', 'type']);
    expect(body.type).toBe('balance.credited');
    expect(body.data).toMatchObject({ amount: '12.50' });
    expect(request!.headers['offers-event-id']).toBe(body.id);
    expect(request!.headers['content-type']).toBe('application/json');
    const signature = verifySignature(request!.headers['offers-signature'], endpoint.secret, request!.body);
    expect(signature).toMatchObject({ valid: 1, total: 1 });
    expect(Math.abs(signature.t - clock.now().getTime() / 1000)).toBeLessThan(5);
    expect(verifySignature(request!.headers['offers-signature'], 'whsec_someone-else', request!.body).valid).toBe(0);

    const [delivery] = await deliveries(t.app, endpoint.id);
    expect(delivery).toMatchObject({ event_id: body.id, event_type: 'balance.credited', status: 'delivered', attempts: 1, next_attempt_at: null });
    expect(delivery!.attempt_log).toEqual([
      { attempted_at: clock.now().toISOString(), http_status: 200, error: null, duration_ms: expect.any(Number), response_body: 'ok', success: true },
    ]);

    // Shown once: never in a read.
    const read = await adminCall(t.app, 'GET', `/api/v1/admin/webhooks/${endpoint.id}/`);
    expect(read.json()).not.toHaveProperty('secret');
    expect(read.body).not.toContain(endpoint.secret);
    const list = await adminCall(t.app, 'GET', '/api/v1/admin/webhooks/');
    expect(list.body).not.toContain(endpoint.secret);
    expect((list.json() as { results: { id: number }[] }).results.map((e) => e.id)).toContain(endpoint.id);
  });

  it('sends every event to "*" and each event once, however often the outbox is read again', async () => {
    const path = newPath();
    const endpoint = await createEndpoint(t.app, { url: receiver.url(path), events: ['*'] });
    await emitEvents(t.runtime.db, balanceLow(), { type: 'subscription.expired', userId: null, subject: '5', data: {} });
    await webhookPass(t);
    await t.runtime.db.updateTable('event_consumers').set({ last_xid: sql<string>`'0'::xid8`, last_seq: 0 }).where('name', '=', 'webhooks').execute();
    await webhookPass(t);
    const received = await receiver.requests(path);
    expect(received.map((r) => (JSON.parse(r.body) as { type: string }).type)).toEqual(['balance.low', 'subscription.expired']);
    expect(await deliveries(t.app, endpoint.id)).toHaveLength(2);
  });

  it('retries after 500s, later each time, with the same event id, until a 2xx', async () => {
    const path = newPath();
    const endpoint = await createEndpoint(t.app, { url: receiver.url(path), events: ['balance.low'] });
    await receiver.script(path, { status: 500, body: 'database down' }, { status: 503, body: 'x'.repeat(3000) });
    await emitEvents(t.runtime.db, balanceLow());

    const start = clock.now().getTime();
    expect(await webhookPass(t)).toMatchObject({ retrying: 1 });
    let [delivery] = await deliveries(t.app, endpoint.id);
    expect(delivery).toMatchObject({ status: 'pending', attempts: 1 });
    const firstDelay = Date.parse(delivery!.next_attempt_at!) - start;
    expect(firstDelay).toBeGreaterThanOrEqual(0.8 * RETRY_BASE_MS);
    expect(firstDelay).toBeLessThanOrEqual(1.2 * RETRY_BASE_MS + 1000);
    // Not due yet: nothing is sent.
    expect(await webhookPass(t)).toEqual({ delivered: 0, retrying: 0, failed: 0, lost: 0 });

    clock.advance(firstDelay + 1000);
    expect(await webhookPass(t)).toMatchObject({ retrying: 1 });
    [delivery] = await deliveries(t.app, endpoint.id);
    const secondDelay = Date.parse(delivery!.next_attempt_at!) - clock.now().getTime();
    expect(secondDelay).toBeGreaterThanOrEqual(0.8 * 3 * RETRY_BASE_MS);
    expect(secondDelay).toBeLessThanOrEqual(1.2 * 3 * RETRY_BASE_MS + 1000);

    clock.advance(secondDelay + 1000);
    expect(await webhookPass(t)).toMatchObject({ delivered: 1 });
    [delivery] = await deliveries(t.app, endpoint.id);
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 3 });
    expect(delivery!.attempt_log.map((a) => [a.http_status, a.success])).toEqual([[500, false], [503, false], [200, true]]);
    expect(delivery!.attempt_log[0]!.response_body).toBe('database down');
    expect(delivery!.attempt_log[1]!.response_body).toBe('x'.repeat(1024));

    const received = await receiver.requests(path);
    expect(received).toHaveLength(3);
    expect(new Set(received.map((r) => r.headers['offers-event-id'])).size).toBe(1);
    expect(new Set(received.map((r) => r.body)).size).toBe(1);
    expect(received.every((r) => verifySignature(r.headers['offers-signature'], endpoint.secret, r.body).valid === 1)).toBe(true);
  });

  it('counts an endpoint that does not answer within WEBHOOK_TIMEOUT_MS as failed and tries it again', async () => {
    const path = newPath();
    const endpoint = await createEndpoint(t.app, { url: receiver.url(path), events: ['balance.low'] });
    await receiver.script(path, { hang: true });
    await emitEvents(t.runtime.db, balanceLow());
    expect(await webhookPass(t)).toMatchObject({ retrying: 1 });
    let [delivery] = await deliveries(t.app, endpoint.id);
    expect(delivery!.attempt_log[0]).toMatchObject({ http_status: null, success: false, response_body: null });
    expect(delivery!.attempt_log[0]!.error).toContain(`within ${TIMEOUT_MS} ms`);
    expect(delivery!.attempt_log[0]!.duration_ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);

    clock.advance(2 * RETRY_BASE_MS);
    expect(await webhookPass(t)).toMatchObject({ delivered: 1 });
    [delivery] = await deliveries(t.app, endpoint.id);
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it('gives a delivery up after WEBHOOK_MAX_ATTEMPTS and lists deliveries by status', async () => {
    const path = newPath();
    const endpoint = await createEndpoint(t.app, { url: receiver.url(path), events: ['balance.low', 'subscription.expired'] });
    await receiver.script(path, ...Array.from({ length: 4 }, () => ({ status: 500 })));
    await emitEvents(t.runtime.db, balanceLow());
    for (let attempt = 1; attempt <= 4; attempt++) {
      await webhookPass(t);
      clock.advance(HOUR);
    }
    await emitEvents(t.runtime.db, { type: 'subscription.expired', userId: null, subject: '1', data: {} });
    await webhookPass(t);
    const [failed, ...others] = await deliveries(t.app, endpoint.id, '?status=failed');
    expect(others).toEqual([]);
    expect(failed).toMatchObject({ event_type: 'balance.low', status: 'failed', attempts: 4, next_attempt_at: null });
    expect(failed!.attempt_log).toHaveLength(4);
    expect((await deliveries(t.app, endpoint.id, '?status=delivered')).map((d) => d.event_type)).toEqual(['subscription.expired']);
    expect(await deliveries(t.app, endpoint.id, '?status=pending')).toEqual([]);
    clock.advance(24 * HOUR);
    await webhookPass(t);
    expect(await receiver.requests(path)).toHaveLength(5);
  });

  it('prunes finished deliveries and their attempts with the outbox after EVENT_RETENTION_DAYS, and keeps one still being retried', async () => {
    const path = newPath();
    const endpoint = await createEndpoint(t.app, { url: receiver.url(path), events: ['balance.low'] });
    await receiver.script(path, { status: 200 }, { status: 500 });
    await emitEvents(t.runtime.db, balanceLow(), balanceLow());
    await webhookPass(t);
    const made = await deliveries(t.app, endpoint.id);
    expect(made.map((d) => d.status).sort()).toEqual(['delivered', 'pending']);
    const delivered = made.find((d) => d.status === 'delivered')!;

    // EVENT_RETENTION_DAYS is 30 by default: 31 days on, both deliveries are older than that.
    const summary = await t.runtime.lifecycle.runOnce(new Date(Date.now() + 31 * 24 * HOUR));
    expect(summary.prunedDeliveries).toBe(1);
    expect(await deliveries(t.app, endpoint.id)).toEqual([expect.objectContaining({ id: made.find((d) => d.status === 'pending')!.id, status: 'pending' })]);
    expect(await t.runtime.db.selectFrom('webhook_attempts').select('id').where('delivery_id', '=', delivered.id).execute()).toEqual([]);
  });

  const readEndpoint = async (id: number) => {
    const res = await adminCall(t.app, 'GET', `/api/v1/admin/webhooks/${id}/`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as Endpoint;
  };

  it('disables an endpoint that failed without a success for WEBHOOK_DISABLE_AFTER_HOURS, with an event, and sends it nothing more', async () => {
    const path = newPath();
    const watcherPath = newPath();
    const endpoint = await createEndpoint(t.app, { url: receiver.url(path), events: ['balance.low'] });
    await createEndpoint(t.app, { url: receiver.url(watcherPath), events: ['webhook.endpoint_disabled'] });
    await receiver.script(path, ...Array.from({ length: 5 }, () => ({ status: 500 })));
    const before = await scrape(t.app);
    await emitEvents(t.runtime.db, balanceLow());
    const firstFailure = clock.now();
    await webhookPass(t);
    const failing = await readEndpoint(endpoint.id);
    expect(failing.enabled).toBe(true);
    const failingSince = Date.parse(failing.failing_since!);
    expect(failingSince - firstFailure.getTime()).toBeGreaterThanOrEqual(0);
    expect(failingSince - firstFailure.getTime()).toBeLessThan(1000);

    clock.advance(71 * HOUR);
    await emitEvents(t.runtime.db, balanceLow());
    expect(await webhookPass(t)).toMatchObject({ retrying: 2 });
    expect(await readEndpoint(endpoint.id)).toMatchObject({ enabled: true, disabled_reason: null });

    clock.advance(2 * HOUR);
    expect(await webhookPass(t)).toMatchObject({ retrying: 2 });
    const disabled = await readEndpoint(endpoint.id);
    expect(disabled).toMatchObject({ enabled: false, disabled_reason: 'no successful delivery for 72 hours', last_success_at: null });
    expect(Date.parse(disabled.failing_since!)).toBe(failingSince);

    // The event is in the outbox, and so goes out to the endpoints that asked for it.
    const events = await adminCall(t.app, 'GET', '/api/v1/admin/events/?type=webhook.endpoint_disabled');
    const [event] = (events.json() as { results: { subject: string; user_id: number | null; data: Record<string, unknown> }[] }).results.filter(
      (e) => e.subject === String(endpoint.id),
    );
    expect(event).toMatchObject({ user_id: null, data: { endpoint_id: endpoint.id, url: endpoint.url, reason: 'no successful delivery for 72 hours' } });
    await webhookPass(t);
    const [told] = await receiver.requests(watcherPath);
    expect(JSON.parse(told!.body)).toMatchObject({ type: 'webhook.endpoint_disabled', data: { endpoint_id: endpoint.id } });
    const after = await scrape(t.app);
    expect(delta(before, after, 'offers_webhook_deliveries_total', { outcome: 'retrying' })).toBe(5);
    expect(delta(before, after, 'offers_webhook_deliveries_total', { outcome: 'delivered' })).toBe(1);
    expect(delta(before, after, 'offers_webhook_endpoints_disabled_total')).toBe(1);

    // Disabled: its pending deliveries wait and nothing is sent.
    const sent = (await receiver.requests(path)).length;
    expect(sent).toBe(5);
    clock.advance(24 * HOUR);
    await emitEvents(t.runtime.db, balanceLow());
    await webhookPass(t);
    expect(await receiver.requests(path)).toHaveLength(5);
    expect((await deliveries(t.app, endpoint.id)).map((d) => d.status)).toEqual(['pending', 'pending']);

    // Enabled again by an admin: the window starts afresh and the waiting deliveries go out.
    const enabled = await adminCall(t.app, 'PATCH', `/api/v1/admin/webhooks/${endpoint.id}/`, { enabled: true });
    expect(enabled.json()).toMatchObject({ enabled: true, disabled_reason: null, failing_since: null });
    await webhookPass(t);
    expect((await deliveries(t.app, endpoint.id)).map((d) => d.status)).toEqual(['delivered', 'delivered']);
  });

  it('starts the disable window afresh after a success', async () => {
    const path = newPath();
    const endpoint = await createEndpoint(t.app, { url: receiver.url(path), events: ['balance.low'] });
    await receiver.script(path, { status: 500 }, { status: 200 }, { status: 500 });
    await emitEvents(t.runtime.db, balanceLow());
    await webhookPass(t);
    clock.advance(71 * HOUR);
    expect(await webhookPass(t)).toMatchObject({ delivered: 1 });
    expect(await readEndpoint(endpoint.id)).toMatchObject({ failing_since: null, last_success_at: expect.any(String) });

    clock.advance(2 * HOUR);
    await emitEvents(t.runtime.db, balanceLow());
    expect(await webhookPass(t)).toMatchObject({ retrying: 1 });
    const read = await readEndpoint(endpoint.id);
    expect(read.enabled).toBe(true);
    expect(Date.parse(read.failing_since!)).toBeGreaterThanOrEqual(clock.now().getTime());
  });

  it('redelivers a delivery with the same event id and body, and keeps every attempt in the log', async () => {
    const path = newPath();
    // By name: the guarded lookup hands the connection the addresses it checked.
    const endpoint = await createEndpoint(t.app, { url: receiver.url(path, 'localhost'), events: ['balance.low'] });
    await emitEvents(t.runtime.db, balanceLow());
    await webhookPass(t);
    const [delivery] = await deliveries(t.app, endpoint.id);
    expect(delivery!.status).toBe('delivered');

    const res = await adminCall(t.app, 'POST', `/api/v1/admin/webhooks/${endpoint.id}/deliveries/${delivery!.id}/redeliver/`);
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({ id: delivery!.id, event_id: delivery!.event_id, status: 'pending', attempts: 0 });
    expect(await webhookPass(t)).toMatchObject({ delivered: 1 });

    const [first, second, ...more] = await receiver.requests(path);
    expect(more).toEqual([]);
    expect(second!.headers['offers-event-id']).toBe(first!.headers['offers-event-id']);
    expect(second!.body).toBe(first!.body);
    expect(verifySignature(second!.headers['offers-signature'], endpoint.secret, second!.body).valid).toBe(1);
    const [after] = await deliveries(t.app, endpoint.id);
    expect(after).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(after!.attempt_log).toHaveLength(2);

    const other = await createEndpoint(t.app, { url: receiver.url(newPath()), events: ['balance.low'] });
    expectError(await adminCall(t.app, 'POST', `/api/v1/admin/webhooks/${other.id}/deliveries/${delivery!.id}/redeliver/`), 404, 'not_found');
    expectError(await adminCall(t.app, 'POST', `/api/v1/admin/webhooks/${endpoint.id}/deliveries/2147483647/redeliver/`), 404, 'not_found');
    await adminCall(t.app, 'PATCH', `/api/v1/admin/webhooks/${endpoint.id}/`, { enabled: false });
    expectError(await adminCall(t.app, 'POST', `/api/v1/admin/webhooks/${endpoint.id}/deliveries/${delivery!.id}/redeliver/`), 409, 'webhook_endpoint_disabled');
  });

  it('writes every change to an endpoint to the audit trail, in its transaction and without the secret', async () => {
    const path = newPath();
    const endpoint = await createEndpoint(t.app, { url: receiver.url(path), events: ['balance.low'], description: 'before' });
    await adminCall(t.app, 'PATCH', `/api/v1/admin/webhooks/${endpoint.id}/`, { description: 'after' });
    const rotated = (await adminCall(t.app, 'POST', `/api/v1/admin/webhooks/${endpoint.id}/rotate-secret/`)).json() as { secret: string };
    await emitEvents(t.runtime.db, balanceLow());
    await webhookPass(t);
    const [delivery] = await deliveries(t.app, endpoint.id);
    expect((await adminCall(t.app, 'POST', `/api/v1/admin/webhooks/${endpoint.id}/deliveries/${delivery!.id}/redeliver/`)).statusCode).toBe(202);
    // A change refused half-way (a URL the guard refuses) leaves no row.
    await adminCall(t.app, 'PATCH', `/api/v1/admin/webhooks/${endpoint.id}/`, { url: 'ftp://example.com/' });
    expect((await adminCall(t.app, 'DELETE', `/api/v1/admin/webhooks/${endpoint.id}/`)).statusCode).toBe(204);

    const trail = await adminCall(t.app, 'GET', `/api/v1/admin/audit/?target=webhook:${endpoint.id}`);
    const rows = (trail.json() as { results: { action: string; actor: string; before: Record<string, unknown> | null; after: Record<string, unknown> | null }[] }).results;
    expect(rows.map((r) => r.action).reverse()).toEqual(['webhook.create', 'webhook.update', 'webhook.rotate_secret', 'webhook.redeliver', 'webhook.delete']);
    const [deleted, redelivered, , updated] = rows;
    expect(updated).toMatchObject({ actor: ADMIN.username, before: { description: 'before' }, after: { description: 'after' } });
    expect(redelivered!.after).toEqual({ delivery_id: delivery!.id, event_id: delivery!.event_id, event_type: 'balance.low' });
    expect(deleted).toMatchObject({ before: { id: endpoint.id, description: 'after' }, after: null });
    const text = JSON.stringify(rows);
    expect(text).not.toContain(endpoint.secret);
    expect(text).not.toContain(rotated.secret);
  });

  it('signs with the old and the new secret for 24 hours after a rotation, then with the new one only', async () => {
    const path = newPath();
    const endpoint = await createEndpoint(t.app, { url: receiver.url(path), events: ['balance.low'] });
    const rotated = await adminCall(t.app, 'POST', `/api/v1/admin/webhooks/${endpoint.id}/rotate-secret/`);
    expect(rotated.statusCode, rotated.body).toBe(200);
    const { secret, previous_secret_expires_at: graceUntil } = rotated.json() as { secret: string; previous_secret_expires_at: string };
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(endpoint.secret);
    expect(Date.parse(graceUntil)).toBe(clock.now().getTime() + 24 * HOUR);
    expect((await adminCall(t.app, 'GET', `/api/v1/admin/webhooks/${endpoint.id}/`)).body).not.toContain(secret);

    await emitEvents(t.runtime.db, balanceLow());
    await webhookPass(t);
    clock.advance(23 * HOUR);
    await emitEvents(t.runtime.db, balanceLow());
    await webhookPass(t);
    clock.advance(2 * HOUR);
    await emitEvents(t.runtime.db, balanceLow());
    await webhookPass(t);

    const [during, late, after] = await receiver.requests(path);
    for (const request of [during!, late!]) {
      const header = request.headers['offers-signature'];
      expect(verifySignature(header, secret, request.body)).toMatchObject({ valid: 1, total: 2 });
      expect(verifySignature(header, endpoint.secret, request.body)).toMatchObject({ valid: 1, total: 2 });
    }
    expect(verifySignature(after!.headers['offers-signature'], secret, after!.body)).toMatchObject({ valid: 1, total: 1 });
    expect(verifySignature(after!.headers['offers-signature'], endpoint.secret, after!.body).valid).toBe(0);
  });

  it('refuses to send to a name that now resolves to a loopback address, checked when connecting', async () => {
    // Saved while private addresses were allowed; the sender of a deployment that refuses them is
    // the one that meets the name, as it would after a DNS rebinding.
    const byName = await createEndpoint(t.app, { url: receiver.url(newPath(), 'localhost'), events: ['balance.low'] });
    const byAddress = await createEndpoint(t.app, { url: receiver.url(newPath()), events: ['balance.low'] });
    const strict = new WebhookSender(
      t.runtime.db,
      clock,
      { ...t.runtime.config.webhooks, allowPrivate: false, batch: 10 },
      pino({ level: 'silent' }),
    );
    await emitEvents(t.runtime.db, balanceLow());
    await drain(t.runtime.db, t.runtime.webhooks.fanOut);
    expect(await strict.runOnce()).toMatchObject({ retrying: 2 });
    expect(await receiver.requests(new URL(byName.url).pathname)).toEqual([]);
    expect(await receiver.requests(new URL(byAddress.url).pathname)).toEqual([]);
    const [named] = await deliveries(t.app, byName.id);
    expect(named!.attempt_log[0]).toMatchObject({ http_status: null, success: false });
    expect(named!.attempt_log[0]!.error).toMatch(/^localhost \((127\.0\.0\.1|::1)\) is a loopback address/);
    const [literal] = await deliveries(t.app, byAddress.id);
    expect(literal!.attempt_log[0]!.error).toMatch(/^127\.0\.0\.1 is a loopback address/);
  });

  describe('with WEBHOOK_ALLOW_PRIVATE unset', () => {
    let strictApp: FastifyInstance;
    beforeAll(async () => {
      strictApp = await appWithEnv(t, { WEBHOOK_ALLOW_PRIVATE: 'false' });
    });
    afterAll(async () => strictApp?.close());

    it.each([
      ['loopback', 'https://127.0.0.1/hook'],
      ['loopback by name', 'https://localhost/hook'],
      ['loopback IPv6', 'https://[::1]/hook'],
      ['IPv4-mapped loopback', 'https://[::ffff:127.0.0.1]/hook'],
      ['loopback in another spelling', 'https://0x7f.1/hook'],
      ['private', 'https://10.1.2.3/hook'],
      ['private', 'https://192.168.0.10/hook'],
      ['private', 'https://172.16.5.4/hook'],
      ['metadata', 'https://169.254.169.254/latest/meta-data/'],
      ['link-local IPv6', 'https://[fe80::1]/hook'],
      ['unique-local IPv6', 'https://[fd00::1]/hook'],
      ['carrier-grade NAT', 'https://100.64.0.1/hook'],
      ['unspecified', 'https://0.0.0.0/hook'],
      ['plain http', 'http://93.184.216.34/hook'],
    ])('refuses a %s URL at creation (%s)', async (_kind, url) => {
      const res = await strictApp.inject({ method: 'POST', url: '/api/v1/admin/webhooks/', headers: bearer(await adminToken(t.app)), payload: { url, events: ['*'] } });
      expectError(res, 400, 'webhook_url_forbidden');
    });

    it('accepts a public https address and refuses a private one in a change', async () => {
      const headers = bearer(await adminToken(t.app));
      const res = await strictApp.inject({ method: 'POST', url: '/api/v1/admin/webhooks/', headers, payload: { url: 'https://93.184.216.34/hook', events: ['*'], enabled: false } });
      expect(res.statusCode, res.body).toBe(201);
      const { id } = res.json() as { id: number };
      const patch = await strictApp.inject({ method: 'PATCH', url: `/api/v1/admin/webhooks/${id}/`, headers, payload: { url: 'https://169.254.169.254/' } });
      expectError(patch, 400, 'webhook_url_forbidden');
      expect((await readEndpoint(id)).url).toBe('https://93.184.216.34/hook');
    });
  });

  it('pages endpoints and deliveries with cursors, both ways', async () => {
    const headers = bearer(await adminToken(t.app));
    const endpoints = [];
    for (let n = 0; n < 5; n++) endpoints.push(await createEndpoint(t.app, { url: receiver.url(newPath()), events: ['*'], description: `#${n}` }));
    const listed = await expectConsistentPaging<{ id: number }>(t.app, '/api/v1/admin/webhooks/', headers, { limit: 2, key: (e) => e.id });
    expect(listed.map((e) => e.id)).toEqual(endpoints.map((e) => e.id));

    await emitEvents(t.runtime.db, ...Array.from({ length: 5 }, () => balanceLow()));
    await webhookPass(t);
    const url = `/api/v1/admin/webhooks/${endpoints[0]!.id}/deliveries/`;
    const paged = await expectConsistentPaging<{ id: number }>(t.app, url, headers, { limit: 2, key: (d) => d.id });
    expect(paged).toHaveLength(5);
    expect(paged.map((d) => d.id)).toEqual([...paged.map((d) => d.id)].sort((a, b) => b - a));
  });

  it('refuses to redeliver while a sender is sending that delivery', async () => {
    const path = newPath();
    const endpoint = await createEndpoint(t.app, { url: receiver.url(path), events: ['balance.low'] });
    await receiver.script(path, { status: 500 });
    await emitEvents(t.runtime.db, balanceLow());
    await webhookPass(t);
    const [delivery] = await deliveries(t.app, endpoint.id);
    const redeliver = () => adminCall(t.app, 'POST', `/api/v1/admin/webhooks/${endpoint.id}/deliveries/${delivery!.id}/redeliver/`);
    // As a sender's claim leaves it: leased until after now.
    await t.runtime.db
      .updateTable('webhook_deliveries')
      .set({ lease_owner: randomUUID(), lease_until: new Date(clock.now().getTime() + 10_000) })
      .where('id', '=', delivery!.id)
      .execute();
    expectError(await redeliver(), 409, 'webhook_delivery_in_progress');
    // A sender that died: its lease runs out and the delivery can be sent again at once.
    clock.advance(11_000);
    const res = await redeliver();
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({ status: 'pending', attempts: 0, next_attempt_at: clock.now().toISOString() });
  });

  it('documents every webhook route in the OpenAPI document, behind the bearer token', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown }>>;
    };
    for (const [path, method, success] of [
      ['/api/v1/admin/webhooks/', 'post', '201'],
      ['/api/v1/admin/webhooks/', 'get', '200'],
      ['/api/v1/admin/webhooks/{id}/', 'get', '200'],
      ['/api/v1/admin/webhooks/{id}/', 'patch', '200'],
      ['/api/v1/admin/webhooks/{id}/', 'delete', '204'],
      ['/api/v1/admin/webhooks/{id}/rotate-secret/', 'post', '200'],
      ['/api/v1/admin/webhooks/{id}/deliveries/', 'get', '200'],
      ['/api/v1/admin/webhooks/{id}/deliveries/{deliveryId}/redeliver/', 'post', '202'],
    ] as const) {
      const operation = doc.paths[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      expect(Object.keys(operation!.responses)).toEqual(expect.arrayContaining([success, '401', '403']));
      expect(operation!.security).toBeDefined();
    }
  });

  it('answers bad input with 400, unknown endpoints with 404 and non-admins with 403', async () => {
    const post = (payload: unknown) => adminCall(t.app, 'POST', '/api/v1/admin/webhooks/', payload);
    expectError(await post({ events: ['*'] }), 400, 'validation_error');
    expectError(await post({ url: receiver.url('/x'), events: [] }), 400, 'validation_error');
    expectError(await post({ url: receiver.url('/x'), events: ['balance.stolen'] }), 400, 'validation_error');
    expectError(await post({ url: 'not a url', events: ['*'] }), 400, 'validation_error');
    expectError(await post({ url: 'ftp://example.com/', events: ['*'] }), 400, 'webhook_url_forbidden');
    const endpoint = await createEndpoint(t.app, { url: receiver.url(newPath()), events: ['balance.low', 'balance.low', 'refund.created'] });
    expect(endpoint.events).toEqual(['balance.low', 'refund.created']);
    expect((await createEndpoint(t.app, { url: receiver.url(newPath()), events: ['refund.created', '*'] })).events).toEqual(['*']);
    expectError(await adminCall(t.app, 'PATCH', `/api/v1/admin/webhooks/${endpoint.id}/`, {}), 400, 'validation_error');
    expectError(await adminCall(t.app, 'GET', `/api/v1/admin/webhooks/${endpoint.id}/deliveries/?status=lost`), 400, 'validation_error');
    expectError(await adminCall(t.app, 'GET', '/api/v1/admin/webhooks/abc/'), 400, 'validation_error');

    const missing = 2147483647;
    for (const [method, url] of [
      ['GET', `/api/v1/admin/webhooks/${missing}/`],
      ['PATCH', `/api/v1/admin/webhooks/${missing}/`],
      ['DELETE', `/api/v1/admin/webhooks/${missing}/`],
      ['POST', `/api/v1/admin/webhooks/${missing}/rotate-secret/`],
      ['GET', `/api/v1/admin/webhooks/${missing}/deliveries/`],
    ] as const) {
      expectError(await adminCall(t.app, method, url, method === 'PATCH' ? { enabled: false } : undefined), 404, 'not_found');
    }

    const user = await newUser(t.app);
    for (const [method, url] of [
      ['GET', '/api/v1/admin/webhooks/'],
      ['POST', '/api/v1/admin/webhooks/'],
      ['GET', `/api/v1/admin/webhooks/${endpoint.id}/`],
      ['DELETE', `/api/v1/admin/webhooks/${endpoint.id}/`],
      ['POST', `/api/v1/admin/webhooks/${endpoint.id}/rotate-secret/`],
    ] as const) {
      expectError(await t.app.inject({ method, url, headers: bearer(user.access), ...(method === 'POST' ? { payload: {} } : {}) }), 403, 'forbidden');
      expectError(await t.app.inject({ method, url }), 401);
    }

    const deleted = await adminCall(t.app, 'DELETE', `/api/v1/admin/webhooks/${endpoint.id}/`);
    expect(deleted.statusCode).toBe(204);
    expectError(await adminCall(t.app, 'GET', `/api/v1/admin/webhooks/${endpoint.id}/`), 404, 'not_found');
  });
});
