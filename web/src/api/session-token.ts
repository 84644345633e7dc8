// The access token lives in this module's memory only: never in localStorage or a readable cookie,
// so a script injected into the page cannot carry it away after the tab is closed. The refresh
// token is an httpOnly cookie the browser sends to /api/v1/auth/browser/ alone.

let accessToken: string | null = null;
let csrfToken: string | null = null;

export const getAccessToken = () => accessToken;

export function setTokens(tokens: { access_token: string; csrf_token?: string } | null): void {
  accessToken = tokens?.access_token ?? null;
  if (tokens?.csrf_token) csrfToken = tokens.csrf_token;
  if (!tokens) csrfToken = null;
}

/** The double-submit CSRF token: the readable `offers_csrf` cookie, or the last one the API returned. */
export function getCsrfToken(): string | null {
  const fromCookie = document.cookie
    .split('; ')
    .find((part) => part.startsWith('offers_csrf='))
    ?.slice('offers_csrf='.length);
  return fromCookie ? decodeURIComponent(fromCookie) : csrfToken;
}
