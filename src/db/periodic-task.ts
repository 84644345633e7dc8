// A background pass that runs again and again: the first at once, then each one `intervalMs` after
// the previous one ended, so passes never overlap. A pass that throws is handed to `onError` and the
// loop goes on, which is how the background work rides out a database or Redis outage and catches
// up after it. stop() waits for the pass in progress, so a shutdown never cuts one in half.
import type { Logger } from 'pino';
import { isDatabaseUnavailable, isRedisUnavailable } from './errors.js';

export interface PeriodicTaskSettings {
  /** From the end of one pass to the start of the next. */
  intervalMs: number;
  /** Told about a pass that threw; it should log, the loop carries on either way. */
  onError: (err: unknown) => void;
}

export class PeriodicTask {
  #started = false;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  /** Someone asked for a pass while one was running: the next one starts at once after it. */
  #again = false;

  constructor(
    private readonly pass: () => Promise<unknown>,
    private readonly settings: PeriodicTaskSettings,
  ) {}

  /** Runs the first pass at once; a second start() while started does nothing. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    if (this.#running) this.#again = true;
    else this.#schedule(0);
  }

  /** Asks for a pass soon instead of at the end of the interval (a running pass is followed by another). */
  wake(): void {
    if (!this.#started) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#schedule(0);
  }

  /** Stops scheduling passes and waits for the one in progress, if any. */
  async stop(): Promise<void> {
    this.#started = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(this.#tick, delayMs);
  }

  readonly #tick = () => {
    this.#timer = undefined;
    this.#again = false;
    this.#running = this.pass()
      .then(() => undefined, this.settings.onError)
      .finally(() => {
        this.#running = undefined;
        if (this.#started) this.#schedule(this.#again ? 0 : this.settings.intervalMs);
      });
  };
}

/**
 * An onError for passes that only touch the database and Redis: during an outage every pass fails
 * the same way, so that is a warning with the message alone; anything else is an error.
 */
export function logFailedPass(log: Logger, messages: { unavailable: string; failed: string }): (err: unknown) => void {
  return (err) => {
    if (isDatabaseUnavailable(err) || isRedisUnavailable(err)) {
      log.warn({ err: (err as Error).message }, messages.unavailable);
    } else {
      log.error({ err }, messages.failed);
    }
  };
}
