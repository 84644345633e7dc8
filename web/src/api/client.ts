// The typed API client (types generated from the service's OpenAPI document: npm run api:types).
// Every request carries the in-memory access token; a 401 on such a request refreshes the session
// once through the httpOnly cookie and retries; errors become ApiErrors carrying the API's message.
import createClient from 'openapi-fetch';
import { markOffline, markOnline } from './connection';
import { ApiError, errorFromBody, networkError } from './errors';
import type { paths } from './schema';
import { getAccessToken, getCsrfToken, setTokens } from './session-token';
import type { ResponseOf } from './types';

export type BrowserTokens = ResponseOf<'/api/v1/auth/browser/refresh/', 'post'>;

const BROWSER_AUTH = '/api/v1/auth/browser';

/** fetch that records whether the server could be reached at all. */
async function reach(request: Request): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(request);
  } catch (err) {
    if (request.signal.aborted) throw err;
    markOffline();
    throw networkError();
  }
  markOnline();
  return response;
}

let signedOutListener: (() => void) | null = null;
/** Called when the session could not be refreshed: the cookie expired or was revoked elsewhere. */
export const onSessionLost = (listener: () => void) => {
  signedOutListener = listener;
};

let refreshing: Promise<BrowserTokens | null> | null = null;

/**
 * Trades the refresh cookie for a new access token (rotating the cookie). Concurrent callers share
 * one request: the cookie works once, so two refreshes at once would end the session.
 * Resolves null when there is no valid session (401).
 */
export function refreshSession(): Promise<BrowserTokens | null> {
  refreshing ??= (async () => {
    try {
      const headers: Record<string, string> = {};
      const csrf = getCsrfToken();
      if (csrf) headers['x-csrf-token'] = csrf;
      const response = await reach(new Request(`${BROWSER_AUTH}/refresh/`, { method: 'POST', headers, credentials: 'same-origin' }));
      if (response.status === 401 || response.status === 403) {
        setTokens(null);
        return null;
      }
      if (!response.ok) throw errorFromBody(await response.json().catch(() => undefined), response.status);
      const tokens = (await response.json()) as BrowserTokens;
      setTokens(tokens);
      return tokens;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

async function authFetch(request: Request): Promise<Response> {
  const token = getAccessToken();
  const retry = token ? request.clone() : null;
  if (token) request.headers.set('authorization', `Bearer ${token}`);
  const response = await reach(request);
  if (response.status !== 401 || !retry) return response;
  const tokens = await refreshSession();
  if (!tokens) {
    signedOutListener?.();
    return response;
  }
  retry.headers.set('authorization', `Bearer ${tokens.access_token}`);
  return reach(retry);
}

export const api = createClient<paths>({ baseUrl: '', fetch: authFetch });

type Result<T> = { data?: T; error?: unknown; response: Response };

/** The answer's data, or the API's error thrown as an ApiError. */
export async function unwrap<T>(pending: Promise<Result<T>>): Promise<T> {
  const { data, error, response } = await pending;
  if (!response.ok) throw errorFromBody(error, response.status);
  return data as T;
}

export { ApiError };

/** The CSRF header the cookie-authenticated routes (refresh, logout) require. */
export const csrfHeader = () => ({ 'x-csrf-token': getCsrfToken() ?? '' });
