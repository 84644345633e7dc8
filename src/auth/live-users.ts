// Whether a token's user still exists and is not disabled. A token outlives a deleted or disabled
// user; asking the database on every request would cost a query each, so each process remembers the
// answers for a short while (disabling also revokes the user's sessions, which every process hears at once).
import type { Database } from '../db/connect.js';
import { userExists } from './queries.js';

/** Beyond this many remembered users the memory is simply dropped: the answers are seconds old anyway. */
const REMEMBERED_USERS = 50_000;

export class LiveUsers {
  readonly #known = new Map<number, boolean>();
  readonly #asking = new Map<number, Promise<boolean>>();
  // Everything is forgotten every ttlMs rather than each answer timed: reading the clock on every
  // request costs more than the lookup itself on some virtual machines.
  readonly #forget: NodeJS.Timeout | undefined;

  /** An answer is kept at most `ttlMs`; 0 asks the database every time. */
  constructor(
    private readonly db: Database,
    ttlMs: number,
  ) {
    if (ttlMs > 0) this.#forget = setInterval(() => this.#known.clear(), ttlMs).unref();
  }

  /** Answers at once when the user was looked up lately: most requests need no promise at all. */
  exists(userId: number): boolean | Promise<boolean> {
    return this.#known.get(userId) ?? this.#asking.get(userId) ?? this.#ask(userId);
  }

  /** Drops what this process remembers of the user (disabled or enabled here just now). */
  forget(userId: number): void {
    this.#known.delete(userId);
  }

  close(): void {
    clearInterval(this.#forget);
  }

  #ask(userId: number): Promise<boolean> {
    const asking = userExists(this.db, userId)
      .then((exists) => {
        if (this.#forget) {
          if (this.#known.size >= REMEMBERED_USERS) this.#known.clear();
          this.#known.set(userId, exists);
        }
        return exists;
      })
      .finally(() => this.#asking.delete(userId));
    this.#asking.set(userId, asking);
    return asking;
  }
}
