// Stream tickets: browsers' EventSource cannot send an Authorization header, so a client trades its
// access token for a short-lived ticket and puts that in the stream's URL. A ticket works once: a
// URL ends up in logs and browser history, and a replayed one must not open another stream.
//
// With REDIS_URL the tickets live in Redis (SET NX EX, then GETDEL), so a ticket bought from one API
// process is good on any other, and still only once. Without it there is one API process, and a
// map in its memory is the whole truth. (The database would also do, at the cost of a table, a
// write and a delete per stream opened, and a migration for something that lives 30 seconds.)
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { AccessClaims } from '../auth/tokens.js';

interface Stored {
  claims: AccessClaims;
  expiresAtMs: number;
}

export interface TicketStore {
  /** A new ticket standing for these claims, good once within the time to live. */
  issue(claims: AccessClaims): Promise<string>;
  /** The claims of a ticket not used nor expired; the ticket is used up either way. */
  redeem(ticket: string): Promise<AccessClaims | undefined>;
}

/** Read when a ticket is redeemed: tests move it forward instead of waiting. */
const now = () => Date.now();

const newTicket = () => randomBytes(24).toString('base64url');
// Only a hash is stored, so whoever reads Redis does not get tickets to use.
const ticketKey = (ticket: string) => createHash('sha256').update(ticket).digest('base64url');
const WELL_FORMED = /^[A-Za-z0-9_-]{32}$/;

function valid(stored: Stored | undefined): AccessClaims | undefined {
  return stored && now() < stored.expiresAtMs ? stored.claims : undefined;
}

export class MemoryTicketStore implements TicketStore {
  readonly #tickets: LRUCache<string, Stored>;

  constructor(private readonly ttlSeconds: number) {
    this.#tickets = new LRUCache({ max: 100_000, ttl: ttlSeconds * 1000 });
  }

  async issue(claims: AccessClaims): Promise<string> {
    const ticket = newTicket();
    this.#tickets.set(ticketKey(ticket), { claims, expiresAtMs: now() + this.ttlSeconds * 1000 });
    return ticket;
  }

  async redeem(ticket: string): Promise<AccessClaims | undefined> {
    if (!WELL_FORMED.test(ticket)) return undefined;
    const key = ticketKey(ticket);
    const stored = this.#tickets.get(key);
    this.#tickets.delete(key);
    return valid(stored);
  }
}

export class RedisTicketStore implements TicketStore {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly ttlSeconds: number,
  ) {}

  #key(ticket: string): string {
    return `${this.keyPrefix}:stream-ticket:${ticketKey(ticket)}`;
  }

  async issue(claims: AccessClaims): Promise<string> {
    const ticket = newTicket();
    const stored: Stored = { claims, expiresAtMs: now() + this.ttlSeconds * 1000 };
    // Redis's own expiry is the clean-up; the stored deadline is the rule (and what tests move).
    await this.redis.set(this.#key(ticket), JSON.stringify(stored), 'EX', this.ttlSeconds, 'NX');
    return ticket;
  }

  async redeem(ticket: string): Promise<AccessClaims | undefined> {
    if (!WELL_FORMED.test(ticket)) return undefined;
    const raw = await this.redis.getdel(this.#key(ticket));
    return raw === null ? undefined : valid(JSON.parse(raw) as Stored);
  }
}
