// Deletes refresh tokens nobody can use any more, so the table holds live sessions, not their history.
import type { Logger } from 'pino';
import type { Database } from '../db/connect.js';
import { PeriodicTask } from '../db/periodic-task.js';
import { purgeRefreshTokens } from './queries.js';
import { MARGIN_SECONDS } from './revocations.js';

const PURGE_EVERY_MS = 10 * 60_000;

export class RefreshTokenPurge {
  readonly #loop: PeriodicTask;

  /** Revoked sessions stay in the table while their access tokens may live, for processes that reload them. */
  constructor(db: Database, accessTokenTtlSeconds: number, log: Logger) {
    this.#loop = new PeriodicTask(
      async () => {
        const count = await purgeRefreshTokens(db, accessTokenTtlSeconds + MARGIN_SECONDS);
        if (count > 0) log.info({ count }, 'purged expired and revoked refresh tokens');
      },
      { intervalMs: PURGE_EVERY_MS, onError: (err) => log.error({ err }, 'refresh token purge failed') },
    );
  }

  /** Purges now, then every 10 minutes. */
  start(): void {
    this.#loop.start();
  }

  /** Waits for the purge in progress, if any. */
  async stop(): Promise<void> {
    await this.#loop.stop();
  }
}
