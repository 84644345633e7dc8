// Access tokens are short-lived HS256 JWTs (algorithm pinned); refresh tokens are opaque random
// strings stored only as SHA-256 hashes.
import { createHash, randomBytes } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { LRUCache } from 'lru-cache';

const ISSUER = 'offers-api';
const ALGORITHM = 'HS256';
// Clients send the same access token with every request for its whole life, and checking its
// signature through WebCrypto costs more than the rest of a cached read; so a verified token is
// remembered until its own `exp`. Only tokens that passed every check are kept.
const VERIFIED_TOKENS = 10_000;

// A user id as the service writes it: `1e0`, `01` or `+1` would also read as user 1.
const SUBJECT = /^[1-9][0-9]{0,9}$/;
/** users.id is an integer column: a larger id would make the database fail instead of finding nobody. */
const MAX_USER_ID = 2_147_483_647;

export interface AccessClaims {
  userId: number;
  isAdmin: boolean;
  /** The session (refresh-token family) the token belongs to, so ending the session ends the token. */
  sessionId: string;
}

export class AccessTokens {
  readonly #key: Uint8Array;
  readonly #verified = new LRUCache<string, { claims: AccessClaims; expiresAtMs: number }>({ max: VERIFIED_TOKENS });

  constructor(
    secret: string,
    readonly ttlSeconds: number,
  ) {
    this.#key = new TextEncoder().encode(secret);
  }

  sign(claims: AccessClaims): Promise<string> {
    return new SignJWT({ adm: claims.isAdmin, typ: 'access', sid: claims.sessionId })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setSubject(String(claims.userId))
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.#key);
  }

  /** The claims of a token verified earlier and not expired since, without a promise: the hot path of every request. */
  remembered(token: string): AccessClaims | undefined {
    const known = this.#verified.get(token);
    if (!known) return undefined;
    if (Date.now() < known.expiresAtMs) return known.claims;
    this.#verified.delete(token);
    return undefined;
  }

  /**
   * Resolves to the claims, or undefined for any token that is not a valid, unexpired access token.
   * Whether its session was ended since is for the caller to ask: that answer changes, this one does not.
   */
  async verify(token: string): Promise<AccessClaims | undefined> {
    const known = this.remembered(token);
    if (known) return known;
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        algorithms: [ALGORITHM],
        issuer: ISSUER,
        requiredClaims: ['exp', 'sub', 'iat', 'sid'],
      });
      const { sub, sid, exp } = payload;
      if (payload.typ !== 'access' || !SUBJECT.test(sub!) || typeof sid !== 'string' || sid === '') return undefined;
      const userId = Number(sub);
      if (userId > MAX_USER_ID) return undefined;
      const claims = { userId, isAdmin: payload.adm === true, sessionId: sid };
      this.#verified.set(token, { claims, expiresAtMs: exp! * 1000 });
      return claims;
    } catch {
      return undefined;
    }
  }
}

export function newRefreshToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
