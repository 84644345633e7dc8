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

export interface AccessClaims {
  userId: number;
  isAdmin: boolean;
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
    return new SignJWT({ adm: claims.isAdmin, typ: 'access' })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setSubject(String(claims.userId))
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.#key);
  }

  /** Resolves to the claims, or undefined for any token that is not a valid, unexpired access token. */
  async verify(token: string): Promise<AccessClaims | undefined> {
    const known = this.#verified.get(token);
    if (known) {
      if (Date.now() < known.expiresAtMs) return known.claims;
      this.#verified.delete(token);
    }
    try {
      const { payload } = await jwtVerify(token, this.#key, { algorithms: [ALGORITHM], issuer: ISSUER });
      const userId = Number(payload.sub);
      if (payload.typ !== 'access' || !Number.isSafeInteger(userId) || userId < 1) return undefined;
      const claims = { userId, isAdmin: payload.adm === true };
      if (payload.exp !== undefined) this.#verified.set(token, { claims, expiresAtMs: payload.exp * 1000 });
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
