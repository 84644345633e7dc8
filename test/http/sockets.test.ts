// The HTTP edge as a client on a raw socket sees it: parser errors in the API's error shape, slow
// clients cut off, connections beyond the cap refused. Storage plays no part, so one backend will do.
import { connect, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { type TestApp } from '../helpers/backends.js';
import { appWithEnv, sharedApp } from '../helpers/checks.js';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function parse(raw: string): RawResponse {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

const open = (port: number) =>
  new Promise<Socket>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });

/** Everything the server sends until it closes the socket, or what came by `deadlineMs` if it does not. */
function untilClosed(socket: Socket, deadlineMs: number): Promise<{ closed: boolean; received: string; afterMs: number }> {
  const started = Date.now();
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ closed: false, received, afterMs: Date.now() - started }), deadlineMs);
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closed: true, received, afterMs: Date.now() - started });
    });
  });
}

async function exchange(port: number, request: string): Promise<RawResponse> {
  const socket = await open(port);
  const done = untilClosed(socket, 5000);
  socket.write(request, 'latin1');
  const { received } = await done;
  socket.destroy();
  return parse(received);
}

function expectApiError(res: RawResponse, status: number, code: string) {
  expect(res.status, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(res.body) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['code', 'error']);
  expect(body.code).toBe(code);
}

async function listen(app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as { port: number }).port;
}

describe('the HTTP edge on a socket', () => {
  const shared = sharedApp('embedded');
  let t: TestApp;
  let app: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    t = shared();
    app = await appWithEnv(t, { HTTP_HEADERS_TIMEOUT_MS: '500', HTTP_REQUEST_TIMEOUT_MS: '1000' });
    port = await listen(app);
  });
  afterAll(async () => app?.close());

  it('answers a well-formed request as usual', async () => {
    const res = await exchange(port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
  });

  it.each([
    ['a control byte in a header', 'GET /health HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\n\r\n', 400, 'bad_request'],
    ['a NUL in a header', 'GET /health HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n', 400, 'bad_request'],
    ['Content-Length together with chunked', 'POST /api/v1/auth/login/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, 'bad_request'],
    ['an unknown method', 'BREW /health HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad_request'],
    ['headers over the size limit', `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'headers_too_large'],
    ['a URL over the size limit', `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414, 'uri_too_long'],
  ])('answers %s in the API error shape', async (_label, request, status, code) => {
    expectApiError(await exchange(port, request), status, code);
  });

  it('closes a socket that sends its headers a byte at a time once the headers timeout passes', async () => {
    const socket = await open(port);
    const outcome = untilClosed(socket, 5000);
    socket.write('GET /health HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => socket.writable && socket.write('X'), 50);
    const { closed, received, afterMs } = await outcome;
    clearInterval(drip);
    socket.destroy();
    expect(closed).toBe(true);
    // 500 ms of headers timeout, checked every 500 ms.
    expect(afterMs).toBeLessThan(2500);
    expectApiError(parse(received), 408, 'request_timeout');
  });

  it('refuses at start-up a headers timeout longer than the request timeout, which Node would not run', () => {
    expect(() => loadConfig({ ...t.env, HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '2000' })).toThrow(ConfigError);
  });

  it('refuses connections beyond MAX_CONNECTIONS and serves those within it', async () => {
    const capped = await appWithEnv(t, { MAX_CONNECTIONS: '2' });
    const cappedPort = await listen(capped);
    const held: Socket[] = [];
    try {
      held.push(await open(cappedPort), await open(cappedPort));
      // Both accepted by the server before the third arrives.
      await expect.poll(() => new Promise((resolve) => capped.server.getConnections((_e, n) => resolve(n)))).toBe(2);
      const third = await open(cappedPort);
      const { closed, received } = await untilClosed(third, 3000);
      third.destroy();
      expect(closed).toBe(true);
      expect(received).toBe('');
      const first = untilClosed(held[0]!, 5000);
      held[0]!.write('GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      expect(parse((await first).received).status).toBe(200);
    } finally {
      held.forEach((s) => s.destroy());
      await capped.close();
    }
  });
});
