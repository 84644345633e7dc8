// CSRF tokens of browser sessions: an HMAC of the session id, so only the server can make one and a
// token planted in a victim's browser for the attacker's own session opens nothing of the victim's.
import { createHmac, timingSafeEqual } from 'node:crypto';

export function csrfToken(secret: string, sessionId: string): string {
  return createHmac('sha256', secret).update(`csrf:${sessionId}`).digest('base64url');
}

export function csrfMatches(secret: string, sessionId: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const expected = Buffer.from(csrfToken(secret, sessionId));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
