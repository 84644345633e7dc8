// Which client address the API believes (TRUST_PROXY), and which request id it logs (X-Request-Id).
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { type TestApp } from '../helpers/backends.js';
import { appWithEnv, sharedApp } from '../helpers/checks.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CLIENT_CLAIM = '203.0.113.9';
const PROXY = '10.0.0.5';
const INNER_PROXY = '10.0.0.7';

describe('the HTTP edge', () => {
  const shared = sharedApp('embedded');
  let t: TestApp;
  beforeAll(() => {
    t = shared();
  });

  /** The app with TRUST_PROXY set, plus a route that tells the address the request is seen from. */
  async function appTrusting(trustProxy: string | undefined): Promise<FastifyInstance> {
    const env = { ...t.env, ...(trustProxy === undefined ? {} : { TRUST_PROXY: trustProxy }) };
    const app = await buildApp({ ...t.runtime, config: loadConfig(env) });
    app.get('/test/address', async (request) => ({ ip: request.ip }));
    await app.ready();
    return app;
  }

  // The client claims an address; the inner proxy appended the address it saw; the outer proxy connects.
  const addressSeen = async (app: FastifyInstance, remoteAddress: string) =>
    (
      await app.inject({ method: 'GET', url: '/test/address', remoteAddress, headers: { 'x-forwarded-for': `${CLIENT_CLAIM}, ${INNER_PROXY}` } })
    ).json().ip as string;

  describe('TRUST_PROXY', () => {
    it.each([
      [undefined, PROXY, PROXY],
      ['false', PROXY, PROXY],
      ['1', PROXY, INNER_PROXY],
      ['2', PROXY, CLIENT_CLAIM],
      ['10.0.0.0/8', PROXY, CLIENT_CLAIM],
      ['10.0.0.0/8', '192.0.2.1', '192.0.2.1'],
      ['10.0.0.5, 10.0.0.7', PROXY, CLIENT_CLAIM],
      ['10.0.0.5', PROXY, INNER_PROXY],
      ['true', PROXY, CLIENT_CLAIM],
    ])('set to %s, takes a request from %s as coming from %s', async (trustProxy, remoteAddress, expected) => {
      const app = await appTrusting(trustProxy);
      try {
        expect(await addressSeen(app, remoteAddress)).toBe(expected);
      } finally {
        await app.close();
      }
    });

    it('lets no client escape the login rate limit by claiming another address behind one trusted proxy', async () => {
      const app = await appWithEnv(t, { TRUST_PROXY: '1', AUTH_RATE_LIMIT_PER_MINUTE: '1' });
      const login = (claim: string) =>
        app.inject({
          method: 'POST',
          url: '/api/v1/auth/login/',
          remoteAddress: PROXY,
          headers: { 'x-forwarded-for': `${claim}, ${INNER_PROXY}` },
          payload: { username: 'nobody_here', password: 'whatever-it-is' },
        });
      try {
        expect((await login('198.51.100.1')).statusCode).toBe(401);
        expect((await login('198.51.100.2')).statusCode).toBe(429);
      } finally {
        await app.close();
      }
    });

    it.each(['10.0.0.0/33', '10.0.0.300', 'proxy.internal', '10.0.0.1,,10.0.0.2', '-1', 'maybe'])('refuses TRUST_PROXY=%s at start-up', (value) => {
      expect(() => loadConfig({ ...t.env, TRUST_PROXY: value })).toThrow(ConfigError);
    });

    it('warns at start-up that TRUST_PROXY=true believes every client', async () => {
      const lines: string[] = [];
      const sink = new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      });
      const app = await buildApp({ ...t.runtime, log: pino({ level: 'warn' }, sink), config: loadConfig({ ...t.env, TRUST_PROXY: 'true' }) });
      await app.close();
      expect(lines.join('')).toMatch(/"level":40.*TRUST_PROXY=true/);
    });
  });

  describe('X-Request-Id', () => {
    const idFor = async (sent: string) => (await t.app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': sent } })).headers['x-request-id'];

    it.each(['trace-abc-123', 'a', 'A1.b2_c3:d4-e5', 'x'.repeat(64)])('keeps a short plain id the client sent: %s', async (sent) => {
      expect(await idFor(sent)).toBe(sent);
    });

    it.each([
      ['one over 64 characters', 'x'.repeat(65)],
      ['a very long one', 'y'.repeat(8000)],
      ['spaces', 'abc def'],
      ['quotes and markup', '"><script>alert(1)</script>'],
      ['a log line break in disguise', 'abc\\n{"level":60}'],
      ['non-ASCII letters', 'réquest-ïd'],
      ['an empty one', ''],
    ])('replaces %s with a generated UUID', async (_label, sent) => {
      expect(await idFor(sent)).toMatch(UUID);
    });
  });
});
