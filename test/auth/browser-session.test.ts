// Browser sessions (/api/v1/auth/browser/): the refresh token in an httpOnly cookie, rotated like the
// JSON flow's, and a CSRF token bound to the session on every request the cookie authenticates.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, login, newUser, type TestUser } from '../helpers/api.js';
import { backends, type TestApp } from '../helpers/backends.js';
import { appWithEnv, expectError, sharedApp } from '../helpers/checks.js';

const BASE = '/api/v1/auth/browser';

interface SetCookie {
  value: string;
  attributes: Map<string, string | true>;
}

/** The Set-Cookie headers of a response by cookie name, attributes lower-cased. */
function setCookies(res: LightMyRequestResponse): Map<string, SetCookie> {
  const raw = res.headers['set-cookie'];
  const lines = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return new Map(
    lines.map((line) => {
      const [pair, ...attrs] = line.split(';').map((part) => part.trim());
      const [name, value] = [pair!.slice(0, pair!.indexOf('=')), pair!.slice(pair!.indexOf('=') + 1)];
      const attributes = new Map(
        attrs.map((a): [string, string | true] => {
          const eq = a.indexOf('=');
          return eq < 0 ? [a.toLowerCase(), true] : [a.slice(0, eq).toLowerCase(), a.slice(eq + 1)];
        }),
      );
      return [name, { value, attributes }];
    }),
  );
}

interface Session {
  refresh: string;
  csrf: string;
  access: string;
}

const sessionOf = (res: LightMyRequestResponse): Session => {
  const cookies = setCookies(res);
  const body = res.json() as { access_token: string; csrf_token: string };
  return { refresh: cookies.get('offers_refresh')!.value, csrf: cookies.get('offers_csrf')!.value, access: body.access_token };
};

const browserLogin = (app: FastifyInstance, user: TestUser, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: `${BASE}/login/`, payload: { username: user.username, password: user.password }, headers });

const withCookie = (refresh: string | undefined, csrf: string | undefined) => ({
  ...(refresh === undefined ? {} : { cookie: `offers_refresh=${refresh}; offers_csrf=${csrf ?? ''}` }),
  ...(csrf === undefined ? {} : { 'x-csrf-token': csrf }),
});

const browserRefresh = (app: FastifyInstance, refresh: string | undefined, csrf: string | undefined) =>
  app.inject({ method: 'POST', url: `${BASE}/refresh/`, headers: withCookie(refresh, csrf) });

const browserLogout = (app: FastifyInstance, refresh: string | undefined, csrf: string | undefined) =>
  app.inject({ method: 'POST', url: `${BASE}/logout/`, headers: withCookie(refresh, csrf) });

const profile = (app: FastifyInstance, access: string) => app.inject({ method: 'GET', url: '/api/v1/auth/profile/', headers: bearer(access) });

function expectCleared(res: LightMyRequestResponse) {
  const cookies = setCookies(res);
  for (const name of ['offers_refresh', 'offers_csrf']) {
    expect(cookies.get(name)?.value, name).toBe('');
    expect(cookies.get(name)?.attributes.get('max-age'), name).toBe('0');
  }
  expect(cookies.get('offers_refresh')?.attributes.get('path')).toBe(`${BASE}/`);
}

describe.each(backends)('browser sessions on %s', (backend) => {
  const shared = sharedApp(backend);
  let t: TestApp;
  let app: FastifyInstance;
  beforeAll(() => {
    t = shared();
    app = t.app;
  });

  it('logs in with an httpOnly, SameSite=Strict refresh cookie scoped to the browser auth routes and a readable CSRF cookie', async () => {
    const user = await newUser(app);
    const res = await browserLogin(app, user);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['access_token', 'csrf_token', 'expires_in', 'token_type']);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    expect(res.body).not.toContain('refresh');

    const cookies = setCookies(res);
    const refresh = cookies.get('offers_refresh')!;
    expect(refresh.value).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(refresh.attributes.get('httponly')).toBe(true);
    expect(refresh.attributes.get('samesite')).toBe('Strict');
    expect(refresh.attributes.get('path')).toBe(`${BASE}/`);
    expect(refresh.attributes.get('max-age')).toBe(String(7 * 24 * 3600));
    expect(refresh.attributes.has('secure')).toBe(false);

    const csrf = cookies.get('offers_csrf')!;
    expect(csrf.value).toBe(body.csrf_token);
    expect(csrf.attributes.has('httponly')).toBe(false);
    expect(csrf.attributes.get('samesite')).toBe('Strict');
    expect(csrf.attributes.get('path')).toBe('/');
    expect(csrf.attributes.get('max-age')).toBe(String(7 * 24 * 3600));

    expect((await profile(app, body.access_token)).json()).toMatchObject({ id: user.id, username: user.username });
  });

  it('answers bad credentials like the JSON login, without cookies', async () => {
    const user = await newUser(app);
    const res = await browserLogin(app, { ...user, password: 'wrong password!' });
    expectError(res, 401, 'invalid_credentials');
    expect(res.headers['set-cookie']).toBeUndefined();
    expectError(await app.inject({ method: 'POST', url: `${BASE}/login/`, payload: { username: user.username } }), 400, 'validation_error');
  });

  it('marks both cookies Secure when a trusted proxy says the request came over HTTPS, and only then', async () => {
    const user = await newUser(app);
    const behindProxy = await appWithEnv(t, { TRUST_PROXY: '1' });
    try {
      const https = setCookies(await browserLogin(behindProxy, user, { 'x-forwarded-proto': 'https' }));
      expect(https.get('offers_refresh')!.attributes.get('secure')).toBe(true);
      expect(https.get('offers_csrf')!.attributes.get('secure')).toBe(true);
      const http = setCookies(await browserLogin(behindProxy, user, { 'x-forwarded-proto': 'http' }));
      expect(http.get('offers_refresh')!.attributes.has('secure')).toBe(false);
    } finally {
      await behindProxy.close();
    }
    // Without TRUST_PROXY any client could send the header: it is not believed.
    const untrusted = setCookies(await browserLogin(app, user, { 'x-forwarded-proto': 'https' }));
    expect(untrusted.get('offers_refresh')!.attributes.has('secure')).toBe(false);
  });

  it('rotates the refresh cookie; presenting the old one again revokes the whole session', async () => {
    const user = await newUser(app);
    const first = sessionOf(await browserLogin(app, user));

    const rotated = await browserRefresh(app, first.refresh, first.csrf);
    expect(rotated.statusCode, rotated.body).toBe(200);
    const second = sessionOf(rotated);
    expect(second.refresh).not.toBe(first.refresh);
    expect(second.csrf).toBe(first.csrf);
    expect(rotated.json()).toMatchObject({ token_type: 'Bearer', csrf_token: first.csrf });
    expect(setCookies(rotated).get('offers_refresh')!.attributes.get('httponly')).toBe(true);
    expect((await profile(app, second.access)).statusCode).toBe(200);

    const reused = await browserRefresh(app, first.refresh, first.csrf);
    expectError(reused, 401, 'refresh_token_reused');
    expectCleared(reused);
    expectError(await browserRefresh(app, second.refresh, second.csrf), 401, 'invalid_refresh_token');
    expectError(await profile(app, second.access), 401, 'invalid_token');
    expectError(await profile(app, first.access), 401, 'invalid_token');
  });

  it('refuses a refresh without a cookie (401) and a cookie without a matching CSRF header (403)', async () => {
    const user = await newUser(app);
    const session = sessionOf(await browserLogin(app, user));
    const other = sessionOf(await browserLogin(app, await newUser(app)));

    expectError(await browserRefresh(app, undefined, session.csrf), 401, 'not_authenticated');
    expectError(await browserRefresh(app, 'not-a-known-token', session.csrf), 401, 'invalid_refresh_token');
    const missing = await app.inject({ method: 'POST', url: `${BASE}/refresh/`, headers: { cookie: `offers_refresh=${session.refresh}; offers_csrf=${session.csrf}` } });
    expectError(missing, 403, 'csrf_failed');
    const altered = `${session.csrf.slice(0, -1)}${session.csrf.endsWith('A') ? 'B' : 'A'}`;
    expectError(await browserRefresh(app, session.refresh, altered), 403, 'csrf_failed');
    expectError(await browserRefresh(app, session.refresh, ''), 403, 'csrf_failed');
    // A CSRF token genuinely issued, but for another session (one the attacker holds), is refused too.
    expectError(await browserRefresh(app, session.refresh, other.csrf), 403, 'csrf_failed');

    // None of the refused attempts rotated the token.
    expect((await browserRefresh(app, session.refresh, session.csrf)).statusCode).toBe(200);
  });

  it('logs out: the session’s access tokens stop working, the cookies are cleared, a second logout is a no-op', async () => {
    const user = await newUser(app);
    const session = sessionOf(await browserLogin(app, user));
    expect((await profile(app, session.access)).statusCode).toBe(200);

    expectError(await browserLogout(app, session.refresh, undefined), 403, 'csrf_failed');
    const other = sessionOf(await browserLogin(app, await newUser(app)));
    expectError(await browserLogout(app, session.refresh, other.csrf), 403, 'csrf_failed');
    expect((await profile(app, session.access)).statusCode).toBe(200);

    const res = await browserLogout(app, session.refresh, session.csrf);
    expect(res.statusCode, res.body).toBe(204);
    expect(res.body).toBe('');
    expectCleared(res);
    expectError(await profile(app, session.access), 401, 'invalid_token');
    expectError(await browserRefresh(app, session.refresh, session.csrf), 401, 'invalid_refresh_token');

    for (const again of [await browserLogout(app, session.refresh, session.csrf), await browserLogout(app, undefined, undefined)]) {
      expect(again.statusCode).toBe(204);
      expectCleared(again);
    }
    expect((await browserLogout(app, 'never-issued', 'whatever')).statusCode).toBe(204);
    // Another user's browser session is untouched.
    expect((await profile(app, other.access)).statusCode).toBe(200);
  });

  it('leaves the JSON token flow as it was, and the two do not mix', async () => {
    const user = await newUser(app);
    const pair = await login(app, user.username, user.password);
    expect(Object.keys(pair).sort()).toEqual(['access', 'expires_in', 'refresh', 'token_type']);
    const json = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh/', payload: { refresh: pair.refresh } });
    expect(json.statusCode).toBe(200);
    expect(json.headers['set-cookie']).toBeUndefined();
    // A JSON client's refresh token sent as a cookie still needs the session's CSRF token.
    const rotated = json.json() as { refresh: string };
    expectError(await browserRefresh(app, rotated.refresh, undefined), 403, 'csrf_failed');
  });

  it('never lets another origin use the cookie routes with credentials', async () => {
    const user = await newUser(app);
    const session = sessionOf(await browserLogin(app, user));
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: `${BASE}/refresh/`,
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-csrf-token' },
    });
    expect(preflight.headers['access-control-allow-credentials']).toBeUndefined();
    expect(String(preflight.headers['access-control-allow-headers'] ?? '').toLowerCase()).not.toContain('x-csrf-token');
    const post = await app.inject({ method: 'POST', url: `${BASE}/refresh/`, headers: { ...withCookie(session.refresh, session.csrf), origin: 'https://evil.example' } });
    expect(post.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('documents the browser routes in the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    for (const route of ['login', 'refresh', 'logout']) {
      const op = doc.paths[`${BASE}/${route}/`]?.post;
      expect(op?.tags, route).toEqual(['auth']);
    }
    expect(Object.keys(doc.paths[`${BASE}/login/`].post.responses['200'].content['application/json'].schema.properties).sort()).toEqual([
      'access_token',
      'csrf_token',
      'expires_in',
      'token_type',
    ]);
    expect(doc.paths[`${BASE}/refresh/`].post.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ in: 'header', name: 'x-csrf-token' })]));
    expect(doc.paths[`${BASE}/logout/`].post.responses).toHaveProperty('204');
    expect(doc.components.securitySchemes.browserSession).toEqual({ type: 'apiKey', in: 'cookie', name: 'offers_refresh' });
  });
});
