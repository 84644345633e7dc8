// Sessions (refresh-token families) ended before their access tokens expire: logout, logout-all,
// refresh-token reuse. Every process keeps them in memory, so checking a request costs one Map
// lookup. The database (refresh_tokens.revoked_at) is the truth: a process loads it at start, on
// each Redis reconnection and every few seconds; Redis pub/sub only makes other processes hear of a
// revocation at once instead of at their next reload.
import type { Logger } from 'pino';
import type { Channel } from '../cache/pubsub.js';
import type { Database } from '../db/connect.js';
import { recentlyRevokedSessions } from './queries.js';

/** A process that missed a message (Redis down, publish failed) learns of it this late at most. */
const RELOAD_EVERY_MS = 5000;
/** Room for clocks of processes and database disagreeing by a few seconds. */
export const MARGIN_SECONDS = 60;

export class SessionRevocations {
  /** Session id → when to forget it (ms): by then every access token of the session has expired. */
  readonly #revoked = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #reloading: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly accessTokenTtlSeconds: number,
    private readonly log: Logger,
    private readonly channel?: Channel,
  ) {}

  isRevoked(sessionId: string): boolean {
    return this.#revoked.has(sessionId);
  }

  /** Call after the revocation is committed to the database, so a reload can never miss it. */
  async revoked(sessionIds: readonly string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    this.#remember(sessionIds);
    try {
      await this.channel?.publish(sessionIds.join(' '));
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not announce revoked sessions; other processes learn of them at their next reload');
    }
  }

  /** Loads what was revoked within an access-token lifetime, then keeps up to date. */
  async start(): Promise<void> {
    await this.reload();
    this.channel?.subscribe({
      onMessage: (message) => this.#remember(message.split(' ').filter(Boolean)),
      onSubscribed: () => void this.reload().catch((err: unknown) => this.#reloadFailed(err)),
      onError: (err) => this.log.warn({ err: err.message }, 'session revocation channel error'),
    });
    const tick = () => {
      this.#timer = setTimeout(() => {
        this.reload()
          .catch((err: unknown) => this.#reloadFailed(err))
          .finally(() => {
            if (this.#timer) tick();
          });
      }, RELOAD_EVERY_MS);
      this.#timer.unref();
    };
    tick();
  }

  reload(): Promise<void> {
    this.#reloading ??= (async () => {
      try {
        const sessionIds = await recentlyRevokedSessions(this.db, this.accessTokenTtlSeconds + MARGIN_SECONDS);
        this.#forgetExpired();
        this.#remember(sessionIds);
      } finally {
        this.#reloading = undefined;
      }
    })();
    return this.#reloading;
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.channel?.close();
    await this.#reloading?.catch(() => undefined);
  }

  #remember(sessionIds: Iterable<string>) {
    const forgetAt = Date.now() + (this.accessTokenTtlSeconds + MARGIN_SECONDS) * 1000;
    for (const id of sessionIds) this.#revoked.set(id, forgetAt);
  }

  #forgetExpired() {
    const now = Date.now();
    for (const [id, forgetAt] of this.#revoked) if (forgetAt < now) this.#revoked.delete(id);
  }

  #reloadFailed(err: unknown) {
    this.log.warn({ err: (err as Error).message }, 'could not reload revoked sessions; will try again');
  }
}
