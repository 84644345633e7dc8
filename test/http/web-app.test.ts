// The web app served by the service itself: its built files at `/` with their own CSP and caching,
// the SPA fallback for the app's routes, and the API, docs and 404s untouched around it.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { WEB_APP_CSP } from '../../src/plugins/web-app.js';
import { bearer, newUser } from '../helpers/api.js';
import { backends, type TestApp } from '../helpers/backends.js';
import { appWithEnv, expectError, sharedApp } from '../helpers/checks.js';

const INDEX = '<!doctype html><html><head><script type="module" src="/assets/app-3f2a9c.js"></script></head><body><div id="root"></div></body></html>';
const SCRIPT = 'document.getElementById("root").textContent = "offers";';
/** A script the build compressed (it writes .br and .gz next to files over 1 KB). */
const BIG_SCRIPT = `export const offers = ${JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ id: i, name: `Offer ${i}` })))};`;
const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const API_CSP = "default-src 'none';frame-ancestors 'none'";

/** A stand-in for `npm run build`'s output: index.html, a hashed script and a file at the top. */
function fakeDist(): string {
  const dir = mkdtempSync(join(tmpdir(), 'offers-web-dist-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'assets', 'app-3f2a9c.js'), SCRIPT);
  writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(dir, 'assets', 'offers-9b1e77.js'), BIG_SCRIPT);
  writeFileSync(join(dir, 'assets', 'offers-9b1e77.js.br'), brotliCompressSync(BIG_SCRIPT));
  writeFileSync(join(dir, 'assets', 'offers-9b1e77.js.gz'), gzipSync(BIG_SCRIPT));
  return dir;
}

describe('WEB_DIST_DIR', () => {
  it('defaults to web/dist in the package and reads the setting', () => {
    const base = { JWT_SECRET: 'a-test-secret-that-is-at-least-32-chars', DATA_DIR: mkdtempSync(join(tmpdir(), 'offers-config-')) };
    expect(loadConfig(base).webDistDir).toBe(resolve(import.meta.dirname, '../../web/dist'));
    expect(loadConfig({ ...base, WEB_DIST_DIR: '/srv/offers-web' }).webDistDir).toBe('/srv/offers-web');
  });
});

describe.each(backends)('the web app on %s', (backend) => {
  const shared = sharedApp(backend);
  let t: TestApp;
  let app: FastifyInstance;
  beforeAll(async () => {
    t = shared();
    app = await appWithEnv(t, { WEB_DIST_DIR: fakeDist() });
  });
  afterAll(async () => app?.close());

  const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });

  it('serves index.html at / with the app’s CSP and no-cache', async () => {
    const res = await get('/', { accept: HTML });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toBe(INDEX);
    expect(res.headers['content-security-policy']).toBe(WEB_APP_CSP);
    expect(res.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['x-frame-options']).toBe('DENY');
  });

  it('serves hashed assets as immutable for a year, other files with no-cache', async () => {
    const script = await get('/assets/app-3f2a9c.js');
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toMatch(/javascript/);
    expect(script.body).toBe(SCRIPT);
    expect(script.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(script.headers['content-security-policy']).toBe(WEB_APP_CSP);

    const icon = await get('/favicon.svg');
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['cache-control']).toBe('no-cache');
  });

  it('sends the compressed copy the browser accepts, and the file itself to one that accepts none', async () => {
    const url = '/assets/offers-9b1e77.js';
    const br = await get(url, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.statusCode).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toMatch(/javascript/);
    expect(br.headers.vary).toMatch(/accept-encoding/i);
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(br.rawPayload.length).toBeLessThan(BIG_SCRIPT.length / 2);
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(BIG_SCRIPT);

    const gzip = await get(url, { 'accept-encoding': 'gzip' });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gzip.rawPayload).toString()).toBe(BIG_SCRIPT);

    const plain = await get(url, { 'accept-encoding': 'identity' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(BIG_SCRIPT);

    // A file the build left uncompressed (under 1 KB) is sent as is, whatever the browser accepts.
    const small = await get('/assets/app-3f2a9c.js', { 'accept-encoding': 'br, gzip' });
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(small.body).toBe(SCRIPT);
  });

  it.each(['/catalogue', '/admin/users/5', '/account/history?page=2'])('answers a page reload at %s with index.html', async (url) => {
    const res = await get(url, { accept: HTML });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(INDEX);
    expect(res.headers['content-security-policy']).toBe(WEB_APP_CSP);
    expect(res.headers['cache-control']).toBe('no-cache');
  });

  it.each([
    ['/api/v1/nope', HTML],
    ['/api/v1/offers/5/nope', HTML],
    ['/assets/missing-123.js', HTML],
    ['/metrics', HTML],
    ['/catalogue', 'application/json'],
    ['/catalogue', ''],
  ])('keeps %s (Accept %j) a JSON 404 with the API’s headers', async (url, accept) => {
    const res = await get(url, accept ? { accept } : {});
    expectError(res, 404, 'not_found');
    expect(res.headers['content-security-policy']).toBe(API_CSP);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('leaves the API, the OpenAPI document, the docs and health as they were', async () => {
    const user = await newUser(app);
    const account = await get('/api/v1/account/', { ...bearer(user.access), accept: HTML });
    expect(account.statusCode).toBe(200);
    expect(account.headers['content-type']).toMatch(/^application\/json/);
    expect(account.headers['content-security-policy']).toBe(API_CSP);
    expect(account.headers['cache-control']).toBe('no-store');

    const doc = await get('/openapi.json', { accept: HTML });
    expect(doc.json()).toHaveProperty('openapi');
    expect(doc.json().paths).not.toHaveProperty('/*');

    const docs = await get('/docs', { accept: HTML });
    expect([200, 302]).toContain(docs.statusCode);
    expect(docs.body).not.toBe(INDEX);
    expect(docs.headers['content-security-policy']).not.toBe(WEB_APP_CSP);

    const health = await get('/health', { accept: HTML });
    expect(health.statusCode).toBe(200);
    expect(health.headers['content-type']).toMatch(/^application\/json/);
  });
});

describe.each(backends)('without a built web app on %s', (backend) => {
  const shared = sharedApp(backend);

  it('says so at / and the API still answers', async () => {
    const t = shared();
    const app = await appWithEnv(t, { WEB_DIST_DIR: mkdtempSync(join(tmpdir(), 'offers-web-empty-')) });
    try {
      const root = await app.inject({ method: 'GET', url: '/', headers: { accept: HTML } });
      expect(expectError(root, 404, 'not_found').error).toMatch(/not built.*npm run build/);
      expectError(await app.inject({ method: 'GET', url: '/catalogue', headers: { accept: HTML } }), 404, 'not_found');
      expect((await app.inject({ method: 'GET', url: '/api/v1/offers/' })).statusCode).toBe(401);
      expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});
