// The live event stream over real HTTP: a listening server and an SSE client reading the body.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SseClient } from '../../bench/lib/sse-client.js';
import { activate, bearer, credit, newOffer, newUser, type TestUser } from '../helpers/api.js';
import { backends, startApp, type TestApp } from '../helpers/backends.js';
import { MANY_LOGINS } from '../helpers/checks.js';

async function listen(t: TestApp): Promise<string> {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
}

const STREAM = '/api/v1/events/stream/';

describe.each(backends)('event stream (%s)', (backend) => {
  let t: TestApp;
  let base: string;
  const open: SseClient[] = [];
  const stream = async (user: { access: string }, extra: Record<string, string> = {}, query = '') => {
    const client = await SseClient.open(`${base}${STREAM}${query}`, { ...bearer(user.access), ...extra });
    open.push(client);
    return client;
  };

  beforeAll(async () => {
    // A poll far longer than the 1 s promised: delivery in time proves the commit signal works.
    t = await startApp(backend, { ...MANY_LOGINS, STREAM_POLL_MS: '60000', STREAM_HEARTBEAT_MS: '100', MAX_STREAMS_PER_USER: '3' });
    base = await listen(t);
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await t?.close();
  });

  it("delivers the caller's own activation events, each within a second of its commit", async () => {
    const user = await newUser(t.app, { balance: '50.00' });
    const offer = await newOffer(t.app, { price: '20.00' });
    const client = await stream(user);
    expect(client.response.status).toBe(200);
    expect(client.response.headers.get('content-type')).toMatch(/^text\/event-stream/);

    const res = await activate(t.app, user.access, offer.id);
    expect(res.statusCode).toBe(202);
    const { transaction_id } = res.json() as { transaction_id: string };
    await client.until(() => client.events.some((e) => e.event === 'activation.succeeded'), 5000, 'activation.succeeded');
    await client.until(() => client.events.some((e) => e.event === 'subscription.activated'), 5000, 'subscription.activated');

    expect(client.events.map((e) => e.event)).toEqual(['activation.pending', 'activation.succeeded', 'subscription.activated']);
    for (const [i, e] of client.data.entries()) {
      expect(Object.keys(e).sort()).toEqual(['created_at', 'data', 'id', 'seq', 'subject', 'type']);
      expect(e.type).toBe(client.events[i]!.event);
      // created_at is when the writing transaction began: commit-to-client is at most this long.
      expect(client.events[i]!.at - Date.parse(e.created_at)).toBeLessThan(1000);
    }
    expect(client.data[0]!.subject).toBe(transaction_id);
    expect(client.data[0]!.data).toMatchObject({ transaction_id, amount: '20.00', balance: '30.00' });
  });

  it("never sends another user's events", async () => {
    const [alice, bob] = await Promise.all([newUser(t.app), newUser(t.app)]);
    const client = await stream(alice);
    const bobs = await credit(t.app, bob.id, '7.00');
    const alices = await credit(t.app, alice.id, '3.00');
    await client.until(() => client.events.length >= 1);
    expect(client.data.map((e) => e.subject)).toEqual([alices.transaction_id]);
    expect(client.data.map((e) => e.subject)).not.toContain(bobs.transaction_id);
  });

  it('resumes after Last-Event-ID with exactly the events it missed, then goes on live without duplicates', async () => {
    const user = await newUser(t.app);
    const first = await stream(user);
    await credit(t.app, user.id, '1.00');
    await first.until(() => first.events.length === 1);
    first.close();
    const missed = [await credit(t.app, user.id, '2.00'), await credit(t.app, user.id, '3.00')];

    const again = await stream(user, { 'last-event-id': first.events[0]!.id! });
    await again.until(() => again.events.length >= 2);
    const live = await credit(t.app, user.id, '4.00');
    await again.until(() => again.events.length >= 3);
    expect(again.data.map((e) => e.subject)).toEqual([...missed, live].map((c) => c.transaction_id));
    expect(new Set(again.events.map((e) => e.id)).size).toBe(3);
    again.close();

    // The query parameter does the same for clients that cannot set the header.
    const byQuery = await stream(user, {}, `?last_event_id=${encodeURIComponent(again.events[1]!.id!)}`);
    await byQuery.until(() => byQuery.events.length >= 1);
    expect(byQuery.data.map((e) => e.subject)).toEqual([live.transaction_id]);
    byQuery.close();
  });

  it('sends heartbeats as comments', async () => {
    const client = await stream(await newUser(t.app));
    await client.until(() => client.comments.filter((c) => c.text === 'ping').length >= 2, 3000, 'two heartbeats');
    client.close();
  });

  it('answers a forged Last-Event-ID with a 400', async () => {
    const client = await stream(await newUser(t.app), { 'last-event-id': 'not-an-id' });
    expect(client.response.status).toBe(400);
    expect(client.refusal).toMatchObject({ code: 'invalid_last_event_id' });
  });

  it('refuses a stream without credentials', async () => {
    const res = await fetch(`${base}${STREAM}`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'not_authenticated' });
  });

  it('refuses more streams per user than MAX_STREAMS_PER_USER, and takes one again when another closes', async () => {
    const user = await newUser(t.app);
    const streams = [await stream(user), await stream(user), await stream(user)];
    const fourth = await stream(user);
    expect(fourth.response.status).toBe(429);
    expect(fourth.refusal).toMatchObject({ code: 'too_many_streams' });
    streams[0]!.close();
    await vi.waitFor(async () => {
      const next = await stream(user);
      expect(next.response.status).toBe(200);
    });
  });

  describe('tickets', () => {
    let user: TestUser;
    beforeAll(async () => {
      user = await newUser(t.app);
    });
    const ticket = async () => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/events/ticket/', headers: bearer(user.access) });
      expect(res.statusCode).toBe(200);
      return res.json() as { ticket: string; expires_in: number };
    };
    const byTicket = (value: string) => SseClient.open(`${base}${STREAM}?ticket=${encodeURIComponent(value)}`).then((c) => (open.push(c), c));

    it('opens a stream once, and not twice', async () => {
      const { ticket: value, expires_in } = await ticket();
      expect(expires_in).toBe(30);
      const client = await byTicket(value);
      expect(client.response.status).toBe(200);
      const c = await credit(t.app, user.id, '5.00');
      await client.until(() => client.events.length >= 1);
      expect(client.data[0]!.subject).toBe(c.transaction_id);
      client.close();

      const reused = await byTicket(value);
      expect(reused.response.status).toBe(401);
      expect(reused.refusal).toMatchObject({ code: 'invalid_ticket' });
    });

    it('refuses an expired ticket', async () => {
      const { ticket: value } = await ticket();
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 31_000 });
      try {
        const client = await byTicket(value);
        expect(client.response.status).toBe(401);
        expect(client.refusal).toMatchObject({ code: 'invalid_ticket' });
      } finally {
        vi.useRealTimers();
      }
    });

    it('refuses a ticket it never issued, and one without a token', async () => {
      expect((await byTicket('x'.repeat(32))).response.status).toBe(401);
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/events/ticket/' });
      expect(res.statusCode).toBe(401);
    });
  });
});

describe.each(backends)('event stream lifetime (%s)', (backend) => {
  it('ends open streams when the server closes, so that close() does not wait for them', async () => {
    const t = await startApp(backend, MANY_LOGINS, { worker: false });
    try {
      const base = await listen(t);
      const user = await newUser(t.app);
      const client = await SseClient.open(`${base}${STREAM}`, bearer(user.access));
      expect(client.response.status).toBe(200);
      const started = Date.now();
      await t.app.close();
      await client.done;
      expect(client.ended).toBe(true);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await t.close();
    }
  });

  it('keeps a stream open past the request and idle-connection timeouts', async () => {
    const t = await startApp(
      backend,
      { ...MANY_LOGINS, HTTP_REQUEST_TIMEOUT_MS: '1000', HTTP_HEADERS_TIMEOUT_MS: '500', HTTP_CONNECTION_TIMEOUT_MS: '1000', STREAM_HEARTBEAT_MS: '1500' },
      { worker: false },
    );
    try {
      const base = await listen(t);
      const client = await SseClient.open(`${base}${STREAM}`, bearer((await newUser(t.app)).access));
      await client.until(() => client.ended || client.comments.filter((c) => c.text === 'ping').length >= 2, 6000, 'two heartbeats');
      expect(client.ended).toBe(false);
      client.close();
    } finally {
      await t.close();
    }
  });
});
