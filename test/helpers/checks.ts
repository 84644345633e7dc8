// Assertions shared by the API tests: the error shape and list pages walked both ways.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { type Backend, startApp, type TestApp } from './backends.js';

/**
 * Lifts the per-address budget on the auth endpoints: every inject comes from 127.0.0.1, so a
 * suite that registers many users would otherwise hit it. The budget has its own test.
 */
export const MANY_LOGINS = { AUTH_RATE_LIMIT_PER_MINUTE: '100000' };

/**
 * One app for a whole test file, started before its first test and closed after its last: app start
 * (PGlite above all) costs more than most tests. Call inside a describe; the getter is for the tests.
 */
export function sharedApp(backend: Backend, overrides: Record<string, string> = MANY_LOGINS): () => TestApp {
  let t: TestApp | undefined;
  beforeAll(async () => {
    t = await startApp(backend, overrides, { worker: false });
  });
  afterAll(async () => t?.close());
  return () => {
    if (!t) throw new Error('the shared app is not started yet');
    return t;
  };
}

/**
 * A second app on the same runtime (same database, services and Redis) whose HTTP layer reads the
 * environment with `overrides` applied: for settings read per request, such as REGISTRATION_ENABLED,
 * CORS_ORIGIN or AUTH_RATE_LIMIT_PER_MINUTE, without paying for another database. Close it yourself.
 */
export async function appWithEnv(t: TestApp, overrides: Record<string, string>): Promise<FastifyInstance> {
  const app = await buildApp({ ...t.runtime, config: loadConfig({ ...t.env, ...overrides }) });
  await app.ready();
  return app;
}

const STACK_TRACE = /\bat .*:\d+:\d+|node_modules|\.ts:\d+|\.js:\d+/;

/** Asserts the one error shape {error, code, details?}, the status, and that nothing internal leaks. */
export function expectError(res: LightMyRequestResponse, status: number, code?: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.json() as { error: string; code: string; details?: unknown[] };
  expect(Object.keys(body).sort()).toEqual(expect.arrayContaining(['code', 'error']));
  expect(Object.keys(body).filter((k) => !['error', 'code', 'details'].includes(k))).toEqual([]);
  expect(body.error).toEqual(expect.any(String));
  expect(body.error.length).toBeGreaterThan(0);
  expect(body.code).toMatch(/^[a-z][a-z0-9_]*$/);
  if (body.details !== undefined) expect(Array.isArray(body.details)).toBe(true);
  expect(res.body).not.toMatch(STACK_TRACE);
  if (code) expect(body.code).toBe(code);
  return body;
}

export interface ListPage<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export async function getPage<T>(app: FastifyInstance, url: string, headers: Record<string, string>): Promise<ListPage<T>> {
  const res = await app.inject({ method: 'GET', url, headers });
  expect(res.statusCode, res.body).toBe(200);
  const page = res.json() as ListPage<T>;
  expect(Object.keys(page).sort()).toEqual(['count', 'next', 'previous', 'results']);
  return page;
}

const withQuery = (url: string, query: string) => `${url}${url.includes('?') ? '&' : '?'}${query}`;

/**
 * Walks a list forward through `next` and back through `previous` with a small limit and checks the
 * pages against one big page: same items, same order, no gaps or repeats, and the way back
 * retraces the way forward. Returns the items. The list must hold at most 200 items.
 */
export async function expectConsistentPaging<T>(
  app: FastifyInstance,
  url: string,
  headers: Record<string, string>,
  options: { limit: number; key: (item: T) => unknown },
): Promise<T[]> {
  const { limit, key } = options;
  const all = await getPage<T>(app, withQuery(url, 'limit=200'), headers);
  expect(all.next).toBeNull();
  expect(all.previous).toBeNull();
  expect(all.results.length).toBe(all.count);

  const forward: ListPage<T>[] = [await getPage<T>(app, withQuery(url, `limit=${limit}`), headers)];
  expect(forward[0]!.previous).toBeNull();
  while (forward.at(-1)!.next) {
    const cursor = forward.at(-1)!.next!;
    forward.push(await getPage<T>(app, withQuery(url, `limit=${limit}&cursor=${encodeURIComponent(cursor)}`), headers));
    expect(forward.length).toBeLessThanOrEqual(all.count + 1);
  }
  for (const page of forward) {
    expect(page.count).toBe(all.count);
    expect(page.results.length).toBeLessThanOrEqual(limit);
  }
  forward.slice(0, -1).forEach((page) => expect(page.results.length).toBe(limit));
  expect(forward.flatMap((p) => p.results.map(key))).toEqual(all.results.map(key));

  const backward: ListPage<T>[] = [forward.at(-1)!];
  while (backward.at(-1)!.previous) {
    const cursor = backward.at(-1)!.previous!;
    backward.push(await getPage<T>(app, withQuery(url, `limit=${limit}&cursor=${encodeURIComponent(cursor)}`), headers));
    expect(backward.length).toBeLessThanOrEqual(forward.length);
  }
  expect(backward.reverse().map((p) => p.results.map(key))).toEqual(forward.map((p) => p.results.map(key)));
  return all.results;
}

/** Sums decimal strings exactly (in cents) and formats the total like NUMERIC(…, 2) does. */
export function sumMoney(amounts: string[]): string {
  const cents = amounts.reduce((total, a) => {
    const [whole, fraction = ''] = a.split('.');
    return total + BigInt(whole!) * 100n + BigInt(fraction.padEnd(2, '0'));
  }, 0n);
  return `${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`;
}
