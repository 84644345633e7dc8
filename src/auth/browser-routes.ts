// /api/v1/auth/browser: sessions for the web app. The refresh token lives in an httpOnly cookie
// that only these routes receive; the access token stays in the page's memory. Every request that
// the cookie authenticates must also carry X-CSRF-Token, an HMAC of the session the cookie belongs to.
import cookie from '@fastify/cookie';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, forbidden, unauthenticated } from '../domain/errors.js';
import { errors } from '../http/schemas.js';
import { csrfMatches, csrfToken } from './csrf.js';
import { BrowserSession, CsrfHeaders, LoggedOut, LoginBody } from './schemas.js';

export const REFRESH_COOKIE = 'offers_refresh';
export const CSRF_COOKIE = 'offers_csrf';

const tags = ['auth'];
const security = [{ browserSession: [], csrfToken: [] }];

const browserRoutes: FastifyPluginAsyncTypebox = async (app) => {
  await app.register(cookie);
  // The prefix these routes are mounted at: the refresh cookie goes to them and nowhere else.
  const refreshPath = `${app.prefix}/`;
  const { jwtSecret, refreshTokenTtl } = app.config;

  /** Sets both cookies (Secure over HTTPS, as the proxy reports it when TRUST_PROXY allows) and builds the answer. */
  function startSession(reply: FastifyReply, pair: { access: string; refresh: string; expires_in: number }, sessionId: string) {
    const csrf = csrfToken(jwtSecret, sessionId);
    const common = { sameSite: 'strict', secure: 'auto', maxAge: refreshTokenTtl } as const;
    reply.setCookie(REFRESH_COOKIE, pair.refresh, { ...common, httpOnly: true, path: refreshPath });
    reply.setCookie(CSRF_COOKIE, csrf, { ...common, path: '/' });
    return { access_token: pair.access, token_type: 'Bearer' as const, expires_in: pair.expires_in, csrf_token: csrf };
  }

  function endCookies(reply: FastifyReply) {
    reply.clearCookie(REFRESH_COOKIE, { sameSite: 'strict', secure: 'auto', httpOnly: true, path: refreshPath });
    reply.clearCookie(CSRF_COOKIE, { sameSite: 'strict', secure: 'auto', path: '/' });
  }

  function checkCsrf(request: FastifyRequest, sessionId: string) {
    const presented = request.headers['x-csrf-token'];
    if (!csrfMatches(jwtSecret, sessionId, typeof presented === 'string' ? presented : undefined)) {
      throw forbidden('X-CSRF-Token is missing or does not match this session', 'csrf_failed');
    }
  }

  app.post('/login/', {
    schema: {
      tags,
      summary: 'Log in from the web app: the refresh token is set as an httpOnly cookie',
      body: LoginBody,
      response: { 200: BrowserSession, ...errors(400, 401, 429) },
    },
  }, async (request, reply) => {
    const pair = await app.auth.login(request.body.username, request.body.password, request.ip);
    const claims = await app.tokens.verify(pair.access);
    if (!claims) throw new Error('a freshly signed access token did not verify');
    return startSession(reply, pair, claims.sessionId);
  });

  app.post('/refresh/', {
    schema: {
      tags,
      summary: 'Rotate the cookie session (same reuse detection as /auth/refresh/)',
      security,
      headers: CsrfHeaders,
      response: { 200: BrowserSession, ...errors(401, 403, 429) },
    },
  }, async (request, reply) => {
    const token = request.cookies[REFRESH_COOKIE];
    if (!token) throw unauthenticated('not_authenticated', 'No browser session: log in first');
    const sessionId = await app.auth.sessionOf(token);
    if (!sessionId) throw unauthenticated('invalid_refresh_token', 'Refresh token is invalid, expired or revoked');
    checkCsrf(request, sessionId);
    try {
      return startSession(reply, await app.auth.refresh(token), sessionId);
    } catch (err) {
      // A reused or revoked token will never work again, so the browser forgets it (not on an outage).
      if (err instanceof DomainError && err.kind === 'unauthenticated') endCookies(reply);
      throw err;
    }
  });

  app.post('/logout/', {
    config: { rateLimit: false },
    schema: {
      tags,
      summary: 'End the cookie session; answers 204 (and clears the cookies) even without one',
      security,
      headers: CsrfHeaders,
      response: { 204: LoggedOut, ...errors(403) },
    },
  }, async (request, reply) => {
    const token = request.cookies[REFRESH_COOKIE];
    const sessionId = token ? await app.auth.sessionOf(token) : undefined;
    if (sessionId) {
      checkCsrf(request, sessionId);
      await app.auth.endSession(sessionId);
    }
    endCookies(reply);
    return reply.code(204).send(null);
  });
};

export default browserRoutes;
