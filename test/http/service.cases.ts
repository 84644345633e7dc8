import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { DB } from '../../src/db/types.js';
import { bearer, newUser, type TestUser } from '../helpers/api.js';
import { type TestApp } from '../helpers/backends.js';
import { appWithEnv, expectError } from '../helpers/checks.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Every route of the foundation issue, as OpenAPI paths, with the methods each must document. */
const FOUNDATION_ROUTES: [string, string, string, boolean][] = [
  ['/api/v1/auth/register/', 'post', '201', false],
  ['/api/v1/auth/login/', 'post', '200', false],
  ['/api/v1/auth/refresh/', 'post', '200', false],
  ['/api/v1/auth/logout/', 'post', '200', true],
  ['/api/v1/auth/profile/', 'get', '200', true],
  ['/api/v1/offers/', 'get', '200', true],
  ['/api/v1/offers/{id}/', 'get', '200', true],
  ['/api/v1/account/', 'get', '200', true],
  ['/api/v1/account/balance/', 'get', '200', true],
  ['/api/v1/account/subscriptions/', 'get', '200', true],
  ['/api/v1/account/transactions/', 'get', '200', true],
  ['/api/v1/account/transactions/{transaction_id}/', 'get', '200', true],
  ['/api/v1/admin/users/', 'post', '201', true],
  ['/api/v1/admin/users/', 'get', '200', true],
  ['/api/v1/admin/users/{id}/', 'get', '200', true],
  ['/api/v1/admin/users/{id}/credit/', 'post', '201', true],
  ['/api/v1/admin/offers/', 'post', '201', true],
  ['/api/v1/admin/offers/', 'get', '200', true],
  ['/api/v1/admin/offers/{id}/', 'patch', '200', true],
  ['/api/v1/admin/transactions/', 'get', '200', true],
  ['/health', 'get', '200', false],
  ['/ready', 'get', '200', false],
];

export function serviceSurfaceTests(app: () => TestApp) {
  describe('service surface', () => {
    let t: TestApp;
    let user: TestUser;
    beforeAll(async () => {
      t = app();
      user = await newUser(t.app);
    });

    describe('health and readiness', () => {
      it('answers /health without a token', async () => {
        const res = await t.app.inject({ method: 'GET', url: '/health' });
        expect(res.statusCode).toBe(200);
        expect(res.json()).toEqual({ status: 'ok' });
      });

      it('answers /ready without a token once the database (and Redis, when configured) answer', async () => {
        const res = await t.app.inject({ method: 'GET', url: '/ready' });
        expect(res.statusCode).toBe(200);
        const expected: Record<string, string> = { database: 'ok' };
        if (t.env.REDIS_URL) expected.redis = 'ok';
        expect(res.json()).toEqual({ status: 'ready', checks: expected });
      });

      it('answers /ready with 503 when the database cannot be reached, and /health still with 200', async () => {
        const unreachable = new Kysely<DB>({
          dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none', connectionTimeoutMillis: 1000 }) }),
        });
        const app = await buildApp({ ...t.runtime, db: unreachable });
        try {
          const res = await app.inject({ method: 'GET', url: '/ready' });
          expect(res.statusCode).toBe(503);
          // Component names and states only: no token is needed, so no connection details.
          expect(res.json()).toEqual({ status: 'unavailable', checks: { database: 'unavailable', ...(t.env.REDIS_URL ? { redis: 'ok' } : {}) } });
          expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
          // An unreachable database behind an API call is a 503 to retry later, without internals.
          const broken = await app.inject({ method: 'GET', url: '/api/v1/account/', headers: bearer(user.access) });
          expectError(broken, 503, 'service_unavailable');
          expect(Number(broken.headers['retry-after'])).toBeGreaterThan(0);
          expect(broken.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|pg|stack/i);
        } finally {
          await app.close();
          await unreachable.destroy();
        }
      });

      it('answers /ready with 503 when a configured Redis cannot be reached', async () => {
        const redis = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
        const app = await buildApp({ ...t.runtime, redis });
        try {
          const res = await app.inject({ method: 'GET', url: '/ready' });
          expect(res.statusCode).toBe(503);
          expect(res.json()).toEqual({ status: 'unavailable', checks: { database: 'ok', redis: 'unavailable' } });
        } finally {
          await app.close();
          redis.disconnect();
        }
      });
    });

    describe('API documentation', () => {
      it('serves an OpenAPI 3 document without a token that describes every foundation route', async () => {
        const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
        expect(res.statusCode).toBe(200);
        const doc = res.json();
        expect(doc.openapi).toMatch(/^3\./);
        expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
        for (const [path, method, success, secured] of FOUNDATION_ROUTES) {
          const operation = doc.paths[path]?.[method];
          expect(operation, `${method.toUpperCase()} ${path}`).toBeDefined();
          expect(Object.keys(operation.responses), `${method} ${path}`).toContain(success);
          expect(Boolean(operation.security), `${method} ${path} security`).toBe(secured);
          if (method === 'post' || method === 'patch') expect(operation.requestBody, `${method} ${path} body`).toBeDefined();
        }
        const error = doc.paths['/api/v1/offers/{id}/'].get.responses['404'];
        expect(JSON.stringify(error)).toMatch(/code/);
      });

      it('serves Swagger UI at /docs without a token', async () => {
        const res = await t.app.inject({ method: 'GET', url: '/docs' });
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-type']).toMatch(/text\/html/);
        expect(res.body).toMatch(/swagger/i);
        // Swagger UI's own policy, which lets its scripts and styles load.
        expect(res.headers['content-security-policy']).toMatch(/script-src 'self'/);
      });
    });

    describe('headers', () => {
      it.each(['/health', '/api/v1/offers/', '/api/v1/nope'])('sends the security headers of a JSON API on %s, and no-store', async (url) => {
        const res = await t.app.inject({ method: 'GET', url, headers: bearer(user.access) });
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(res.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
        expect(res.headers['x-frame-options']).toBe('DENY');
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
        expect(res.headers['referrer-policy']).toBeDefined();
        expect(res.headers['x-powered-by']).toBeUndefined();
      });

      it('answers CORS preflights for any origin by default', async () => {
        const res = await t.app.inject({
          method: 'OPTIONS',
          url: '/api/v1/offers/',
          headers: { origin: 'https://shop.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
        });
        expect(res.statusCode).toBe(204);
        expect(res.headers['access-control-allow-origin']).toBe('https://shop.example');
        expect(String(res.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
        const get = await t.app.inject({ method: 'GET', url: '/api/v1/offers/', headers: { ...bearer(user.access), origin: 'https://shop.example' } });
        expect(get.headers['access-control-allow-origin']).toBe('https://shop.example');
        expect(String(get.headers['access-control-expose-headers']).toLowerCase()).toContain('x-request-id');
      });

      it('allows only the origins listed in CORS_ORIGIN', async () => {
        const app = await appWithEnv(t, { CORS_ORIGIN: 'https://shop.example, https://admin.example' });
        try {
          const preflight = (origin: string) =>
            app.inject({ method: 'OPTIONS', url: '/api/v1/offers/', headers: { origin, 'access-control-request-method': 'GET' } });
          expect((await preflight('https://admin.example')).headers['access-control-allow-origin']).toBe('https://admin.example');
          expect((await preflight('https://evil.example')).headers['access-control-allow-origin']).toBeUndefined();
          const get = await app.inject({ method: 'GET', url: '/health', headers: { origin: 'https://evil.example' } });
          expect(get.headers['access-control-allow-origin']).toBeUndefined();
        } finally {
          await app.close();
        }
      });

      it('gives every response a request id, and keeps one the client sent', async () => {
        const a = await t.app.inject({ method: 'GET', url: '/health' });
        const b = await t.app.inject({ method: 'GET', url: '/api/v1/nope' });
        expect(a.headers['x-request-id']).toMatch(UUID);
        expect(b.headers['x-request-id']).toMatch(UUID);
        expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
        const mine = await t.app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'trace-abc-123' } });
        expect(mine.headers['x-request-id']).toBe('trace-abc-123');
      });

      it('logs each request as structured JSON carrying its request id', async () => {
        const lines: Record<string, unknown>[] = [];
        const sink = new Writable({
          write(chunk, _encoding, done) {
            for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
            done();
          },
        });
        const app = await buildApp({ ...t.runtime, log: pino({ level: 'info' }, sink) });
        try {
          const res = await app.inject({ method: 'GET', url: '/api/v1/account/', headers: bearer(user.access) });
          expect(res.statusCode).toBe(200);
          const id = res.headers['x-request-id'];
          const mine = lines.filter((l) => l.reqId === id);
          expect(mine.length).toBeGreaterThanOrEqual(2);
          expect(mine.some((l) => (l.req as { url?: string } | undefined)?.url === '/api/v1/account/')).toBe(true);
          expect(mine.some((l) => (l.res as { statusCode?: number } | undefined)?.statusCode === 200)).toBe(true);
          expect(JSON.stringify(lines)).not.toContain(user.access);
        } finally {
          await app.close();
        }
      });
    });
  });
}
