import { randomUUID } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, login, newUser, type TestUser } from '../helpers/api.js';
import { ADMIN, type TestApp } from '../helpers/backends.js';
import { expectError } from '../helpers/checks.js';

interface Pair {
  access: string;
  refresh: string;
}

export function tokenTests(app: () => TestApp) {
  describe('tokens', () => {
    let t: TestApp;
    let user: TestUser;
    let adminId: number;
    beforeAll(async () => {
      t = app();
      user = await newUser(t.app);
      const admin = await login(t.app, ADMIN.username, ADMIN.password);
      adminId = (await t.app.inject({ method: 'GET', url: '/api/v1/auth/profile/', headers: bearer(admin.access) })).json().id;
    });

    const refresh = (token: unknown) => t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh/', payload: { refresh: token } });
    const profile = (headers: Record<string, string>) => t.app.inject({ method: 'GET', url: '/api/v1/auth/profile/', headers });
    const logout = (access: string, token: string) =>
      t.app.inject({ method: 'POST', url: '/api/v1/auth/logout/', headers: bearer(access), payload: { refresh: token } });
    /** A fresh session (its own token family) for the shared user. */
    const session = () => login(t.app, user.username, user.password);

    async function rotate(token: string): Promise<Pair> {
      const res = await refresh(token);
      expect(res.statusCode, res.body).toBe(200);
      return res.json();
    }

    describe('refresh', () => {
      it('returns a new working pair and retires the presented refresh token', async () => {
        const first = await session();
        const res = await refresh(first.refresh);
        expect(res.statusCode).toBe(200);
        const next = res.json();
        expect(next).toEqual({ access: expect.any(String), refresh: expect.any(String), token_type: 'Bearer', expires_in: 900 });
        expect(next.refresh).not.toBe(first.refresh);
        expect((await profile(bearer(next.access))).json().id).toBe(user.id);
        expectError(await refresh(first.refresh), 401);
      });

      it('revokes the whole family, newest token included, when a rotated token is presented again', async () => {
        const first = await session();
        const second = await rotate(first.refresh);
        const third = await rotate(second.refresh);
        expectError(await refresh(first.refresh), 401, 'refresh_token_reused');
        expectError(await refresh(third.refresh), 401);
        expectError(await refresh(second.refresh), 401);
      });

      it('leaves the user’s other sessions alone when one family is revoked for reuse', async () => {
        const stolen = await session();
        const other = await session();
        await rotate(stolen.refresh);
        expectError(await refresh(stolen.refresh), 401, 'refresh_token_reused');
        expect((await refresh(other.refresh)).statusCode).toBe(200);
      });

      it('lets at most one of two simultaneous uses of a token win, and never leaves a reused family alive', async () => {
        for (let round = 0; round < 5; round++) {
          const { refresh: token } = await rotate((await session()).refresh);
          const answers = await Promise.all([refresh(token), refresh(token)]);
          const winners = answers.filter((r) => r.statusCode === 200);
          expect(winners.length).toBeLessThanOrEqual(1);
          for (const loser of answers.filter((r) => r.statusCode !== 200)) expectError(loser, 401);
          // The second use was a reuse: whatever the first one obtained must be dead too.
          for (const winner of winners) expectError(await refresh(winner.json().refresh), 401);
        }
      });

      it('refuses an expired refresh token', async () => {
        const pair = await session();
        await sql`UPDATE refresh_tokens SET expires_at = now() - interval '1 second'
                  WHERE family_id = (SELECT family_id FROM refresh_tokens ORDER BY created_at DESC LIMIT 1)`.execute(t.runtime.db);
        const res = await refresh(pair.refresh);
        expectError(res, 401, 'invalid_refresh_token');
      });

      it.each([
        ['an unknown token', 'x'.repeat(43)],
        ['an access token', 'ACCESS'],
      ])('answers 401 for %s', async (_label, token) => {
        const value = token === 'ACCESS' ? (await session()).access : token;
        expectError(await refresh(value.slice(0, 200)), 401);
      });

      it.each([
        ['no refresh field', {}],
        ['an empty token', { refresh: '' }],
        ['a number', { refresh: 42 }],
      ])('answers 400 for %s', async (_label, payload) => {
        expectError(await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh/', payload }), 400);
      });
    });

    describe('logout', () => {
      it('answers 200 with a message and revokes every refresh token of that session', async () => {
        const first = await session();
        const second = await rotate(first.refresh);
        const res = await logout(second.access, first.refresh);
        expect(res.statusCode).toBe(200);
        expect(res.json()).toEqual({ message: expect.any(String) });
        expectError(await refresh(second.refresh), 401);
      });

      it('leaves no live token when a refresh of the same session runs at the same moment', async () => {
        for (let round = 0; round < 5; round++) {
          const pair = await rotate((await session()).refresh);
          const [out, rotated] = await Promise.all([logout(pair.access, pair.refresh), refresh(pair.refresh)]);
          expect(out.statusCode).toBe(200);
          if (rotated.statusCode === 200) expectError(await refresh(rotated.json().refresh), 401);
          else expectError(rotated, 401);
        }
      });

      it('keeps the user’s other sessions', async () => {
        const leaving = await session();
        const staying = await session();
        expect((await logout(leaving.access, leaving.refresh)).statusCode).toBe(200);
        expectError(await refresh(leaving.refresh), 401);
        expect((await refresh(staying.refresh)).statusCode).toBe(200);
      });

      it('needs an access token', async () => {
        const pair = await session();
        const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout/', payload: { refresh: pair.refresh } });
        expectError(res, 401);
        expect((await refresh(pair.refresh)).statusCode).toBe(200);
      });

      it('refuses to revoke another user’s refresh token', async () => {
        const victim = await newUser(t.app);
        const res = await logout(user.access, victim.refresh);
        expectError(res, 401, 'invalid_refresh_token');
        expect((await refresh(victim.refresh)).statusCode).toBe(200);
      });

      it('answers 401 invalid_refresh_token for an unknown refresh token, as refresh does', async () => {
        expectError(await logout(user.access, 'no-such-token'), 401, 'invalid_refresh_token');
        expectError(await refresh('no-such-token'), 401, 'invalid_refresh_token');
      });
    });

    describe('profile', () => {
      it('shows id, username, email, is_admin and date_joined', async () => {
        const res = await profile(bearer(user.access));
        expect(res.statusCode).toBe(200);
        expect(res.json()).toEqual({ id: user.id, username: user.username, email: null, is_admin: false, date_joined: expect.any(String) });
      });

      it('says is_admin for the admin', async () => {
        const admin = await login(t.app, ADMIN.username, ADMIN.password);
        expect((await profile(bearer(admin.access))).json()).toMatchObject({ username: ADMIN.username, is_admin: true });
      });
    });

    describe('access tokens', () => {
      const key = () => new TextEncoder().encode(t.env.JWT_SECRET);
      interface CraftOptions {
        alg?: string;
        secret?: Uint8Array;
        exp?: number | null;
        iat?: boolean;
        iss?: string;
        typ?: string;
        adm?: boolean;
        sid?: string | null;
      }
      /** A token like the service signs them; `null` (or `iat: false`) leaves that claim out. */
      function craft(sub: number | string, options: CraftOptions = {}) {
        const jwt = new SignJWT({ adm: options.adm ?? false, typ: options.typ ?? 'access', ...(options.sid === null ? {} : { sid: options.sid ?? randomUUID() }) })
          .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' })
          .setSubject(String(sub))
          .setIssuer(options.iss ?? 'offers-api');
        if (options.iat !== false) jwt.setIssuedAt();
        if (options.exp !== null) jwt.setExpirationTime(options.exp ?? Math.floor(Date.now() / 1000) + 600);
        return jwt.sign(options.secret ?? key());
      }

      it('accepts a token crafted exactly like the service signs them (the control for the cases below)', async () => {
        const res = await profile(bearer(await craft(user.id)));
        expect(res.statusCode).toBe(200);
        expect(res.json().id).toBe(user.id);
        const admin = await t.app.inject({ method: 'GET', url: '/api/v1/admin/users/', headers: bearer(await craft(adminId, { adm: true })) });
        expect(admin.statusCode).toBe(200);
      });

      it.each([
        ['alg none', async (sub: number) => new UnsecuredJWT({ adm: true, typ: 'access' }).setSubject(String(sub)).setIssuer('offers-api').setIssuedAt().setExpirationTime('10m').encode()],
        ['HS512 with the same secret', (sub: number) => craft(sub, { alg: 'HS512', adm: true })],
        ['HS384 with the same secret', (sub: number) => craft(sub, { alg: 'HS384', adm: true })],
        ['another secret', (sub: number) => craft(sub, { secret: new TextEncoder().encode('another-secret-that-is-long-enough-for-hs256'), adm: true })],
        ['an expired exp', (sub: number) => craft(sub, { exp: Math.floor(Date.now() / 1000) - 60, adm: true })],
        ['another issuer', (sub: number) => craft(sub, { iss: 'someone-else', adm: true })],
        ['a non-access type', (sub: number) => craft(sub, { typ: 'refresh', adm: true })],
        ['no exp', (sub: number) => craft(sub, { exp: null, adm: true })],
        ['no iat', (sub: number) => craft(sub, { iat: false, adm: true })],
        ['no session id', (sub: number) => craft(sub, { sid: null, adm: true })],
        ['a subject in exponent notation', (sub: number) => craft(`${sub}e0`, { adm: true })],
        ['a subject with a leading zero', (sub: number) => craft(`0${sub}`, { adm: true })],
        ['a subject with a sign', (sub: number) => craft(`+${sub}`, { adm: true })],
        ['a fractional subject', (sub: number) => craft(`${sub}.0`, { adm: true })],
      ])('answers 401 for a token with %s, on user and admin routes', async (_label, make) => {
        const forUser = await make(user.id);
        expectError(await profile(bearer(forUser)), 401, 'invalid_token');
        const forAdmin = await make(adminId);
        const res = await t.app.inject({ method: 'GET', url: '/api/v1/admin/users/', headers: bearer(forAdmin) });
        expectError(res, 401, 'invalid_token');
      });

      it('answers 401 for a token whose payload was changed after signing', async () => {
        const [header, , signature] = user.access.split('.');
        const payload = Buffer.from(JSON.stringify({ sub: String(adminId), adm: true, typ: 'access', iss: 'offers-api', exp: 9999999999 })).toString('base64url');
        expectError(await profile(bearer(`${header}.${payload}.${signature}`)), 401, 'invalid_token');
      });

      it.each([
        ['no Authorization header', undefined, 'not_authenticated'],
        ['another scheme', `Basic ${Buffer.from('a:b').toString('base64')}`, 'invalid_token'],
        ['a bare token', 'ACCESS', 'invalid_token'],
        ['an empty bearer', 'Bearer ', 'invalid_token'],
        ['garbage', 'Bearer not.a.jwt', 'invalid_token'],
      ])('answers 401 with WWW-Authenticate for %s', async (_label, authorization, code) => {
        const value = authorization === 'ACCESS' ? user.access : authorization;
        const res = await profile(value === undefined ? {} : { authorization: value });
        expectError(res, 401, code);
        expect(res.headers['www-authenticate']).toBe('Bearer');
      });

      it('rejects a valid token for a user that no longer exists', async () => {
        const ghost = await craft(2_000_000_000 - Math.floor(Math.random() * 1000));
        expectError(await profile(bearer(ghost)), 401);
      });
    });
  });
}
