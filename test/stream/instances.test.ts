// Two API processes' worth of app on one PostgreSQL database and one Redis: an event committed
// through one reaches a stream held on the other through the Redis commit signal.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SseClient } from '../../bench/lib/sse-client.js';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createRuntime } from '../../src/runtime.js';
import { bearer, credit, newUser } from '../helpers/api.js';
import { backends, startApp, type TestApp } from '../helpers/backends.js';
import { MANY_LOGINS } from '../helpers/checks.js';

describe.runIf(backends.includes('postgres') && Boolean(process.env.TEST_REDIS_URL))('event stream across API processes (postgres + redis)', () => {
  let a: TestApp;
  let b: { app: Awaited<ReturnType<typeof buildApp>>; close: () => Promise<void> };
  let baseB: string;

  beforeAll(async () => {
    a = await startApp('postgres', MANY_LOGINS, { worker: false });
    // B polls the outbox only every minute: only the signal through Redis can bring events in time.
    // (A short idle-connection timeout only so that close() does not wait a minute for a socket
    // the test's fetch client leaves open.)
    const runtime = await createRuntime(loadConfig({ ...a.env, STREAM_POLL_MS: '60000', HTTP_CONNECTION_TIMEOUT_MS: '2000' }));
    const app = await buildApp(runtime);
    await app.listen({ port: 0, host: '127.0.0.1' });
    baseB = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    b = { app, close: async () => (await app.close(), await runtime.close()) };
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('delivers an admin credit committed on app A to a stream held on app B within a second', async () => {
    const user = await newUser(a.app);
    const client = await SseClient.open(`${baseB}/api/v1/events/stream/`, bearer(user.access));
    expect(client.response.status).toBe(200);
    const committedBy = Date.now();
    const { transaction_id } = await credit(a.app, user.id, '12.50');
    await client.until(() => client.events.length >= 1, 1000, 'the credit, within a second');
    expect(client.data[0]).toMatchObject({ type: 'balance.credited', subject: transaction_id });
    expect(client.events[0]!.at - committedBy).toBeLessThan(1000);
    client.close();
  });

  it('takes a ticket bought on A once on B, and refuses it on A afterwards', async () => {
    const user = await newUser(a.app);
    const res = await a.app.inject({ method: 'POST', url: '/api/v1/events/ticket/', headers: bearer(user.access) });
    const { ticket } = res.json() as { ticket: string };
    const onB = await SseClient.open(`${baseB}/api/v1/events/stream/?ticket=${ticket}`);
    expect(onB.response.status).toBe(200);
    onB.close();
    await a.app.listen({ port: 0, host: '127.0.0.1' });
    const baseA = `http://127.0.0.1:${(a.app.server.address() as AddressInfo).port}`;
    const onA = await SseClient.open(`${baseA}/api/v1/events/stream/?ticket=${ticket}`);
    expect(onA.response.status).toBe(401);
  });
});
