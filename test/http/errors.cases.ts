import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminToken, bearer, newOffer, newUser, type TestUser } from '../helpers/api.js';
import { type TestApp } from '../helpers/backends.js';
import { expectError } from '../helpers/checks.js';

const ONE_MIB = 1024 * 1024;

export function errorTests(app: () => TestApp) {
  describe('errors and HTTP hygiene', () => {
    let t: TestApp;
    let user: TestUser;
    let admin: Record<string, string>;
    let offerId: number;
    beforeAll(async () => {
      t = app();
      user = await newUser(t.app);
      admin = bearer(await adminToken(t.app));
      offerId = (await newOffer(t.app)).id;
    });

    const post = (url: string, body: string | Buffer, contentType = 'application/json', headers: Record<string, string> = {}) =>
      t.app.inject({ method: 'POST', url, payload: body, headers: { 'content-type': contentType, ...headers } });

    it.each([
      ['GET', '/api/v1/nope'],
      ['GET', '/'],
      ['POST', '/api/v1/offers/'],
      ['DELETE', '/api/v1/admin/offers/1/'],
      ['GET', '/api/v2/offers/'],
      ['PROPFIND', '/api/v1/offers/'],
      ['TRACE', '/health'],
    ] as const)('answers %s %s with a JSON 404', async (method, url) => {
      const res = await t.app.inject({ method, url, headers: bearer(user.access) });
      expectError(res, 404, 'not_found');
    });

    it.each([
      ['truncated JSON', '{"username": "a",'],
      ['a single quote string', "{'username': 'a'}"],
      ['trailing garbage', '{"username":"a","password":"b"} x'],
      ['an empty body', ''],
      ['a prototype-poisoning key', '{"__proto__": {"is_admin": true}, "username": "abc", "password": "whatever1"}'],
    ])('answers 400 for malformed JSON: %s', async (_label, body) => {
      expectError(await post('/api/v1/auth/login/', body), 400);
    });

    it('answers 413 for a body over 1 MiB, and accepts one just under', async () => {
      const big = JSON.stringify({ username: 'someone', password: 'x'.repeat(ONE_MIB) });
      expectError(await post('/api/v1/auth/login/', big), 413, 'payload_too_large');
      const name = 'n'.repeat(200);
      const underLimit = JSON.stringify({ name, description: 'd'.repeat(5000), price: '1.00', duration_days: 1, pad: 'p'.repeat(ONE_MIB - 6000) });
      expect(Buffer.byteLength(underLimit)).toBeLessThan(ONE_MIB);
      const res = await post('/api/v1/admin/offers/', underLimit, 'application/json', admin);
      expect(res.statusCode).not.toBe(413);
      expect(res.statusCode).toBeLessThan(500);
    });

    it.each([
      'text/plain',
      'application/xml',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=xyz',
      'application/octet-stream',
    ])('answers 415 for a %s body', async (contentType) => {
      expectError(await post('/api/v1/auth/login/', 'username=a&password=b', contentType), 415, 'unsupported_media_type');
    });

    it('accepts JSON with a charset parameter', async () => {
      const res = await post('/api/v1/auth/login/', JSON.stringify({ username: user.username, password: user.password }), 'application/json; charset=utf-8');
      expect(res.statusCode).toBe(200);
    });

    it('answers a URL that cannot be decoded with a 400 and no internals', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/account/transactions/%ZZ/', headers: bearer(user.access) });
      expectError(res, 400, 'bad_request');
      expect(res.body).not.toMatch(/\bat .*:\d+:\d+|node_modules/);
    });

    it('answers a path segment too long to route with a 414 that does not echo the URL', async () => {
      const segment = 'a'.repeat(200);
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/offers/${segment}/`, headers: bearer(user.access) });
      expectError(res, 414, 'uri_too_long');
      expect(res.body).not.toContain(segment);
    });

    it('answers validation errors with details naming the field', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/admin/offers/', headers: admin, payload: { name: 'x', price: 'free', duration_days: 0 } });
      const body = expectError(res, 400, 'validation_error');
      expect(body.details).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ field: 'price', message: expect.any(String) }),
          expect.objectContaining({ field: 'duration_days', message: expect.any(String) }),
        ]),
      );
    });

    // Property: whatever JSON a client sends, the answer is a 2xx or a 4xx in the one error shape.
    it('never answers a 500 or a stack trace, whatever JSON arrives at any writing endpoint', async () => {
      const endpoints: [string, string, Record<string, string>][] = [
        ['POST', '/api/v1/auth/register/', {}],
        ['POST', '/api/v1/auth/refresh/', {}],
        ['POST', '/api/v1/auth/logout/', bearer(user.access)],
        ['POST', '/api/v1/admin/users/', admin],
        ['POST', `/api/v1/admin/users/${user.id}/credit/`, admin],
        ['POST', '/api/v1/admin/offers/', admin],
        ['PATCH', `/api/v1/admin/offers/${offerId}/`, admin],
      ];
      const field = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string(), fc.constantFrom('0', '0.00', '-1', '1e309', '99999999999999.99', 'NaN', '\u0000'));
      const money = fc.oneof(
        fc.constantFrom('0', '0.00', '0.0', '00', '-0', '1e2', '0.001', '9999999999.99', '99999999999', ' 1.00'),
        fc.integer({ min: 0, max: 100_000 }).map((n) => (n / 100).toFixed(2)),
      );
      // Mostly valid bodies reach the services and the database, where the interesting failures live.
      const nearlyValid = fc.record({
        username: fc.stringMatching(/^[a-z0-9_]{3,12}$/),
        password: fc.string({ minLength: 8, maxLength: 20 }),
        refresh: fc.string({ minLength: 1, maxLength: 50 }),
        amount: money,
        reason: fc.string({ minLength: 1, maxLength: 10 }),
        name: fc.string({ minLength: 1, maxLength: 20 }),
        description: fc.string({ maxLength: 20 }),
        price: money,
        duration_days: fc.integer({ min: -5, max: 4000 }),
      });
      const body = fc.oneof(
        nearlyValid,
        fc.jsonValue({ maxDepth: 3 }),
        fc.record(
          { username: field, password: field, email: field, refresh: field, amount: field, reason: field, name: field, price: field, duration_days: field, is_active: field, is_admin: field },
          { requiredKeys: [] },
        ),
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...endpoints), body, async ([method, url, headers], payload) => {
          const res = await t.app.inject({ method: method as 'POST', url, headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
          expect(res.statusCode, `${method} ${url} ${JSON.stringify(payload)} → ${res.body}`).toBeLessThan(500);
          if (res.statusCode >= 400) expectError(res, res.statusCode);
        }),
        { numRuns: 150 },
      );
    });

    it('never answers a 500 for any query string on the list endpoints', async () => {
      const lists: [string, Record<string, string>][] = [
        ['/api/v1/offers/', bearer(user.access)],
        ['/api/v1/account/transactions/', bearer(user.access)],
        ['/api/v1/account/subscriptions/', bearer(user.access)],
        ['/api/v1/admin/users/', admin],
        ['/api/v1/admin/offers/', admin],
        ['/api/v1/admin/transactions/', admin],
      ];
      const value = fc.oneof(
        fc.string(),
        fc.integer().map(String),
        fc.constantFrom('', '-0', '1e3', '9'.repeat(30), Buffer.from('n:99999999999').toString('base64url'), Buffer.from('p:1').toString('base64url')),
      );
      const query = fc.dictionary(fc.constantFrom('limit', 'cursor', 'status', 'type', 'user', 'other'), value, { maxKeys: 3 });
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...lists), query, async ([url, headers], params) => {
          const res = await t.app.inject({ method: 'GET', url, query: params, headers });
          expect(res.statusCode, `${url} ${JSON.stringify(params)} → ${res.body}`).toBeLessThan(500);
          if (res.statusCode >= 400) expectError(res, 400);
        }),
        { numRuns: 150 },
      );
    });

    it('never answers a 500 for any path segment where an id goes', async () => {
      const templates = [
        (s: string) => `/api/v1/offers/${s}/`,
        (s: string) => `/api/v1/account/transactions/${s}/`,
        (s: string) => `/api/v1/admin/users/${s}/`,
        (s: string) => `/api/v1/admin/offers/${s}/`,
      ];
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...templates), fc.oneof(fc.string({ minLength: 1 }), fc.bigInt().map(String)), async (template, segment) => {
          const res = await t.app.inject({ method: 'GET', url: template(encodeURIComponent(segment)), headers: admin });
          expect(res.statusCode, `${template(segment)} → ${res.body}`).toBeLessThan(500);
        }),
        { numRuns: 100 },
      );
    });
  });
}
