// Whether a token's user still exists. A token outlives a deleted user; asking the database on every
// request would cost a query each, so each process remembers the answer for a short while.
import { LRUCache } from 'lru-cache';
import type { Database } from '../db/connect.js';
import { userExists } from './queries.js';

const REMEMBERED_USERS = 50_000;

export class LiveUsers {
  readonly #known: LRUCache<number, boolean> | undefined;

  /** `ttlMs` 0 asks the database every time. */
  constructor(
    private readonly db: Database,
    ttlMs: number,
  ) {
    this.#known =
      ttlMs > 0 ? new LRUCache({ max: REMEMBERED_USERS, ttl: ttlMs, fetchMethod: (id: number) => userExists(db, id) }) : undefined;
  }

  async exists(userId: number): Promise<boolean> {
    if (!this.#known) return userExists(this.db, userId);
    return this.#known.get(userId) ?? (await this.#known.fetch(userId)) === true;
  }
}
