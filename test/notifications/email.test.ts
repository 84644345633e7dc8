// Email notifications through a real SMTP server started by the test: who gets what, the text and
// HTML bodies, the settings, and what happens when the server refuses, for a while or for good.
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claimDue, markFailed } from '../../src/email/queries.js';
import { EmailSender } from '../../src/email/sender.js';
import { smtpTransport } from '../../src/email/smtp.js';
import { EMAIL_CONSUMER } from '../../src/notifications/email-queue.js';
import { FEED_CONSUMER } from '../../src/notifications/feed.js';
import { activate, bearer, newOffer, newUser, type TestUser, uniqueName, waitForFinal } from '../helpers/api.js';
import { backends, startApp, type TestApp } from '../helpers/backends.js';
import { expectError } from '../helpers/checks.js';
import { FakePartner } from '../helpers/partner.js';
import { drain, emitEvents, feed, rewindConsumer, setEmail } from './helpers.js';
import { TestSmtpServer } from './smtp.js';

const MAIL_FROM = 'Offers <offers@example.test>';
const RETRY_BASE_MS = 60_000;

describe.each(backends)('email notifications on %s', (backend) => {
  let t: TestApp;
  let smtpUrl: string;
  const smtp = new TestSmtpServer();
  const partner = new FakePartner();
  beforeAll(async () => {
    smtpUrl = await smtp.start();
    const partnerUrl = await partner.start();
    partner.respond = (_n, call) =>
      call.body.amount === '13.00' ? { status: 422, body: { error: 'Address <not> serviceable' } } : { status: 200, body: { reference: 'REF-OK' } };
    t = await startApp(backend, {
      PARTNER_URL: partnerUrl,
      CURRENCY: 'GBP',
      SMTP_URL: smtpUrl,
      MAIL_FROM,
      SMTP_TIMEOUT_MS: '5000',
      EMAIL_MAX_ATTEMPTS: '3',
      EMAIL_RETRY_BASE_MS: String(RETRY_BASE_MS),
      EMAIL_RETRY_MAX_MS: String(10 * RETRY_BASE_MS),
    });
    // The worker runs activations; the test runs the notification passes itself.
    await t.runtime.notifications.stop();
  });
  afterAll(async () => {
    await t?.close();
    await partner.stop();
    await smtp.stop();
  });
  beforeEach(() => {
    smtp.onRecipient = () => undefined;
  });

  const email = () => t.runtime.notifications.email!;
  const queue = () => drain(t.runtime.db, email().queue);
  /** Queues what the outbox holds so far, then sends what is due at `now`. */
  async function deliver(now?: Date) {
    await queue();
    return email().sender.runOnce(now ?? new Date());
  }
  const deliveries = (userId: number) =>
    t.runtime.db
      .selectFrom('email_deliveries')
      .select(['kind', 'recipient', 'subject', 'status', 'attempts', 'last_error', 'sent_at'])
      .where('user_id', '=', userId)
      .orderBy('id')
      .execute();

  async function userWithEmail(balance?: string) {
    const user = await newUser(t.app, balance ? { balance } : {});
    const address = `${user.username}@example.test`;
    await setEmail(t.app, user, address);
    return { user, address };
  }

  async function purchase(user: TestUser, offerId: number) {
    const res = await activate(t.app, user.access, offerId);
    expect(res.statusCode, res.body).toBe(202);
    return waitForFinal(t.app, user.access, (res.json() as { transaction_id: string }).transaction_id);
  }

  it('emails a successful and a failed activation with the offer, amounts in the currency and dates, as text and escaped HTML', async () => {
    const { user, address } = await userWithEmail('50.00');
    const good = await newOffer(t.app, { name: `Fibre <b>&</b> ${user.username}`, price: '20.00' });
    const bad = await newOffer(t.app, { name: `Satellite ${user.username}`, price: '13.00' });
    expect((await purchase(user, good.id)).status).toBe('SUCCESS');
    expect((await purchase(user, bad.id)).status).toBe('FAILED');
    expect(await deliver()).toEqual({ sent: 2, retried: 0, failed: 0 });

    const [succeeded, failed] = smtp.to(address);
    expect(smtp.to(address)).toHaveLength(2); // the top-up is in the feed only
    expect(succeeded!.from).toBe('"Offers" <offers@example.test>');
    expect(succeeded!.subject).toBe(`"${good.name}" is active`);
    expect(succeeded!.text).toContain('20.00 GBP was charged to your balance');
    expect(succeeded!.text).toMatch(/It is active until \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\./);
    expect(succeeded!.html).toContain(`Fibre &lt;b&gt;&amp;&lt;/b&gt; ${user.username}`);
    expect(succeeded!.html).not.toContain('<b>&</b>');
    expect(succeeded!.html).toContain('20.00 GBP');
    expect(failed!.subject).toBe(`Activation of "${bad.name}" failed`);
    expect(failed!.text).toContain('Address <not> serviceable');
    expect(failed!.text).toContain('13.00 GBP was refunded to your balance.');
    expect(failed!.html).toContain('Address &lt;not&gt; serviceable');

    const rows = await deliveries(user.id);
    expect(rows.map((r) => [r.kind, r.recipient, r.status, r.attempts, r.last_error])).toEqual([
      ['activation_succeeded', address, 'sent', 1, null],
      ['activation_failed', address, 'sent', 1, null],
    ]);
    expect(rows.every((r) => r.sent_at instanceof Date)).toBe(true);
  });

  it('emails the lifecycle kinds (expiring, expired, renewal failed, low balance) written by any code', async () => {
    const { user, address } = await userWithEmail();
    await emitEvents(
      t.runtime.db,
      { type: 'subscription.expiring', userId: user.id, subject: '7', data: { subscription_id: 7, offer_name: 'Gold', expires_at: '2031-05-04T08:30:00Z', days_before: 1, current_price: '9.00', price_paid: '9.00' } },
      { type: 'subscription.expired', userId: user.id, subject: '7', data: { subscription_id: 7, offer_name: 'Gold', expired_at: '2031-05-04T08:30:00Z' } },
      { type: 'subscription.renewal_failed', userId: user.id, subject: '7', data: { subscription_id: 7, offer_name: 'Gold', reason: 'insufficient_balance' } },
      { type: 'balance.low', userId: user.id, subject: null, data: { balance: '2.00', threshold: '10.00' } },
    );
    expect(await deliver()).toEqual({ sent: 4, retried: 0, failed: 0 });
    expect(smtp.to(address).map((m) => [m.subject, m.text])).toEqual([
      ['"Gold" expires on 2031-05-04 08:30 UTC', 'Your subscription to "Gold" ends on 2031-05-04 08:30 UTC (in 1 day).\n\nRenewing costs 9.00 GBP.'],
      ['"Gold" has expired', 'Your subscription to "Gold" ended on 2031-05-04 08:30 UTC.\n\nYou can buy it again at any time.'],
      ['Renewal of "Gold" failed', 'We could not renew "Gold": your balance was too low.\n\nYour subscription ends at the end of its period unless you renew it yourself.'],
      ['Your balance is low', 'Your balance is 2.00 GBP, below your alert threshold of 10.00 GBP.\n\nTop up to keep your subscriptions renewing.'],
    ]);
  });

  it('sends no email to a person without an address, who still gets the feed', async () => {
    const user = await newUser(t.app);
    await emitEvents(t.runtime.db, { type: 'balance.low', userId: user.id, subject: null, data: { balance: '1.00' } });
    await drain(t.runtime.db, t.runtime.notifications.feed);
    expect(await deliver()).toEqual({ sent: 0, retried: 0, failed: 0 });
    expect(await deliveries(user.id)).toEqual([]);
    expect((await feed(t.app, user)).results.map((n) => n.kind)).toEqual(['balance_low']);
  });

  it('stops emailing a kind the person turned off, and only that kind', async () => {
    const { user, address } = await userWithEmail();
    const patch = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/account/notification-settings/',
      headers: bearer(user.access),
      payload: { email: { balance_low: false } },
    });
    expect(patch.statusCode, patch.body).toBe(200);
    const settings = await t.app.inject({ method: 'GET', url: '/api/v1/account/notification-settings/', headers: bearer(user.access) });
    expect(settings.json()).toEqual({
      email: {
        activation_succeeded: true,
        activation_failed: true,
        subscription_expiring: true,
        subscription_expired: true,
        renewal_failed: true,
        balance_low: false,
      },
    });
    await emitEvents(
      t.runtime.db,
      { type: 'balance.low', userId: user.id, subject: null, data: { balance: '1.00' } },
      { type: 'subscription.expired', userId: user.id, subject: '9', data: { offer_name: 'Silver' } },
    );
    await deliver();
    expect(smtp.to(address).map((m) => m.subject)).toEqual(['"Silver" has expired']);

    const back = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/account/notification-settings/',
      headers: bearer(user.access),
      payload: { email: { balance_low: true } },
    });
    expect((back.json() as { email: Record<string, boolean> }).email.balance_low).toBe(true);
    await emitEvents(t.runtime.db, { type: 'balance.low', userId: user.id, subject: null, data: { balance: '0.50' } });
    await deliver();
    expect(smtp.to(address).map((m) => m.subject)).toEqual(['"Silver" has expired', 'Your balance is low']);
  });

  it('records a recipient the server refuses for good (5xx) as failed with its reply, and does not try it again', async () => {
    const { user, address } = await userWithEmail();
    smtp.onRecipient = (to) => (to === address ? { code: 550, message: 'No such mailbox here' } : undefined);
    await emitEvents(t.runtime.db, { type: 'balance.low', userId: user.id, subject: null, data: { balance: '1.00' } });
    expect(await deliver()).toEqual({ sent: 0, retried: 0, failed: 1 });
    const [row] = await deliveries(user.id);
    expect(row).toMatchObject({ status: 'failed', attempts: 1, sent_at: null });
    expect(row!.last_error).toMatch(/^550 .*No such mailbox here/);

    const muchLater = new Date(Date.now() + 7 * 86_400_000);
    expect(await email().sender.runOnce(muchLater)).toEqual({ sent: 0, retried: 0, failed: 0 });
    expect((await deliveries(user.id))[0]!.attempts).toBe(1);
    expect(smtp.to(address)).toEqual([]);
  });

  it('tries again after a temporary refusal (4xx), later each time, and then sends once', async () => {
    const { user, address } = await userWithEmail();
    smtp.onRecipient = (to, n) => (to === address && n <= 2 ? { code: 451, message: 'Try again later' } : undefined);
    await emitEvents(t.runtime.db, { type: 'balance.low', userId: user.id, subject: null, data: { balance: '1.00' } });
    await queue();
    const start = new Date();
    expect(await deliver(start)).toEqual({ sent: 0, retried: 1, failed: 0 });
    expect((await deliveries(user.id))[0]).toMatchObject({ status: 'queued', attempts: 1, last_error: expect.stringMatching(/^451 .*Try again later/) });

    const at = (ms: number) => new Date(start.getTime() + ms);
    expect(await email().sender.runOnce(at(RETRY_BASE_MS - 1000))).toEqual({ sent: 0, retried: 0, failed: 0 });
    expect(await email().sender.runOnce(at(RETRY_BASE_MS + 1000))).toEqual({ sent: 0, retried: 1, failed: 0 });
    // The second delay is twice the first.
    expect(await email().sender.runOnce(at(RETRY_BASE_MS + 1000 + 2 * RETRY_BASE_MS - 2000))).toEqual({ sent: 0, retried: 0, failed: 0 });
    expect(await email().sender.runOnce(at(RETRY_BASE_MS + 1000 + 2 * RETRY_BASE_MS + 1000))).toEqual({ sent: 1, retried: 0, failed: 0 });
    expect((await deliveries(user.id))[0]).toMatchObject({ status: 'sent', attempts: 3 });
    expect(smtp.to(address)).toHaveLength(1);
  });

  it('gives up as failed after EMAIL_MAX_ATTEMPTS temporary refusals', async () => {
    const { user, address } = await userWithEmail();
    smtp.onRecipient = (to) => (to === address ? { code: 421, message: 'Busy' } : undefined);
    await emitEvents(t.runtime.db, { type: 'balance.low', userId: user.id, subject: null, data: { balance: '1.00' } });
    await queue();
    const outcomes = [];
    for (let day = 0; day < 5; day += 1) outcomes.push(await email().sender.runOnce(new Date(Date.now() + day * 86_400_000)));
    expect(outcomes.map((o) => o.retried + o.failed * 10)).toEqual([1, 1, 10, 0, 0]);
    expect((await deliveries(user.id))[0]).toMatchObject({ status: 'failed', attempts: 3, last_error: expect.stringMatching(/^421 /) });
  });

  it('queues and sends one email per event however often the consumers read the outbox, even with two senders at once', async () => {
    const { user, address } = await userWithEmail();
    await emitEvents(
      t.runtime.db,
      ...['1.00', '2.00', '3.00', '4.00', '5.00'].map((balance) => ({ type: 'balance.low' as const, userId: user.id, subject: null, data: { balance } })),
    );
    await queue();
    await rewindConsumer(t.runtime.db, EMAIL_CONSUMER);
    await rewindConsumer(t.runtime.db, FEED_CONSUMER);
    await queue();
    await drain(t.runtime.db, t.runtime.notifications.feed);
    await drain(t.runtime.db, t.runtime.notifications.feed);

    const other = new EmailSender(t.runtime.db, smtpTransport(smtpUrl, MAIL_FROM, 5000), {
      maxAttempts: 3, retryBaseMs: 1000, retryMaxMs: 1000, leaseMs: 30_000, intervalMs: 1000, batch: 2, messageIdDomain: 'example.test',
    }, pino({ level: 'silent' }));
    const [a, b] = await Promise.all([email().sender.runOnce(), other.runOnce()]);
    expect(a.sent + b.sent).toBeGreaterThanOrEqual(5);
    expect(smtp.to(address)).toHaveLength(5);
    // No message of this or any earlier test arrived twice.
    expect(new Set(smtp.received.map((m) => m.messageId)).size).toBe(smtp.received.length);
    expect((await deliveries(user.id)).map((r) => r.status)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent']);
    expect((await feed(t.app, user)).count).toBe(5);
  });

  it('sends an email whose sender died after claiming it once its lease has run out, and ignores that sender if it comes back', async () => {
    const { user, address } = await userWithEmail();
    await emitEvents(t.runtime.db, { type: 'balance.low', userId: user.id, subject: null, data: { balance: '1.00' } });
    await queue();
    const now = new Date();
    const deadOwner = randomUUID();
    const claimedByDead = await claimDue(t.runtime.db, deadOwner, now, new Date(now.getTime() + 60_000), 1000);
    const mine = claimedByDead.find((d) => d.recipient === address)!;
    expect(mine).toBeDefined();

    expect((await email().sender.runOnce(new Date(now.getTime() + 59_000))).sent).toBe(0);
    expect(smtp.to(address)).toEqual([]);
    expect((await email().sender.runOnce(new Date(now.getTime() + 61_000))).sent).toBeGreaterThanOrEqual(1);
    expect(smtp.to(address)).toHaveLength(1);

    await markFailed(t.runtime.db, mine.id, deadOwner, 'a late answer from the dead sender');
    expect((await deliveries(user.id))[0]).toMatchObject({ status: 'sent', attempts: 2, last_error: null });
  });

  it('lets a person set, change and clear their email, and refuses an invalid one', async () => {
    const user = await newUser(t.app);
    const first = `${uniqueName()}@example.test`;
    const second = `${uniqueName()}@example.test`;
    expect((await setEmail(t.app, user, first)).email).toBe(first);
    expect((await setEmail(t.app, user, second)).email).toBe(second);
    const profile = await t.app.inject({ method: 'GET', url: '/api/v1/auth/profile/', headers: bearer(user.access) });
    expect(profile.json()).toMatchObject({ id: user.id, username: user.username, email: second });
    expect((await setEmail(t.app, user, null)).email).toBeNull();

    const patch = (payload: unknown) =>
      t.app.inject({ method: 'PATCH', url: '/api/v1/auth/profile/', headers: bearer(user.access), payload: payload as object });
    expectError(await patch({ email: 'not an address' }), 400, 'validation_error');
    expectError(await patch({}), 400, 'validation_error');
    expect((await patch({ email: first, is_admin: true })).json()).toMatchObject({ email: first, is_admin: false });
    expectError(await t.app.inject({ method: 'PATCH', url: '/api/v1/auth/profile/', payload: { email: first } }), 401);
    const settings = (payload: unknown) =>
      t.app.inject({ method: 'PATCH', url: '/api/v1/account/notification-settings/', headers: bearer(user.access), payload: payload as object });
    expectError(await settings({ email: { balance_low: 'no' } }), 400, 'validation_error');
    expectError(await settings({}), 400, 'validation_error');
  });
});
