// Deletes refresh tokens nobody can use any more, so the table holds live sessions, not their history.
import type { Logger } from 'pino';
import type { Database } from '../db/connect.js';
import { purgeRefreshTokens } from './queries.js';
import { MARGIN_SECONDS } from './revocations.js';

const PURGE_EVERY_MS = 10 * 60_000;

export class RefreshTokenPurge {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  /** Revoked sessions stay in the table while their access tokens may live, for processes that reload them. */
  constructor(
    private readonly db: Database,
    private readonly accessTokenTtlSeconds: number,
    private readonly log: Logger,
  ) {}

  /** Purges now, then every 10 minutes. */
  start(): void {
    const tick = () => {
      this.#running = purgeRefreshTokens(this.db, this.accessTokenTtlSeconds + MARGIN_SECONDS)
        .then((count) => {
          if (count > 0) this.log.info({ count }, 'purged expired and revoked refresh tokens');
        })
        .catch((err: unknown) => this.log.error({ err }, 'refresh token purge failed'))
        .finally(() => {
          this.#running = undefined;
          if (this.#timer) this.#timer = setTimeout(tick, PURGE_EVERY_MS);
        });
    };
    this.#timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
