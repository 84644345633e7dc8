// Runs one named consumer of the outbox: reads committed events after its stored position, hands
// them to its handler, then stores the new position. Delivery is at least once (a crash between
// handling and storing repeats a batch), so handlers are idempotent on the event id. A lease keeps
// a consumer on one process at a time, however many workers run it.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database } from '../db/connect.js';
import * as q from './queries.js';

export type EventHandler = (events: q.ConsumedEvent[]) => Promise<void>;

export interface ConsumerSettings {
  batch: number;
  intervalMs: number;
  leaseMs: number;
}

export class EventConsumer {
  readonly #owner = randomUUID();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;
  #again = false;

  constructor(
    private readonly db: Database,
    readonly name: string,
    private readonly handler: EventHandler,
    private readonly settings: ConsumerSettings,
    private readonly log: Logger,
  ) {}

  /** Handles everything committed so far; returns how many events it handled (0 without the lease). */
  async runOnce(): Promise<number> {
    let handled = 0;
    let position = await q.leaseConsumer(this.db, this.name, this.#owner, this.settings.leaseMs);
    while (position) {
      const events = await q.eventsAfter(this.db, position, this.settings.batch);
      if (events.length === 0) break;
      await this.handler(events);
      const last = events.at(-1)!;
      const next = { xid: last.xid, seq: last.seq };
      if (!(await q.advanceConsumer(this.db, this.name, this.#owner, next))) break;
      handled += events.length;
      if (events.length < this.settings.batch) break;
      position = next;
    }
    return handled;
  }

  /** Asks for a pass soon, without waiting for the interval (after a commit in this process). */
  nudge(): void {
    if (this.#timer === undefined) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#timer = setTimeout(this.#tick, 0);
  }

  readonly #tick = () => {
    this.#again = false;
    this.#running = this.runOnce().catch((err: unknown) => {
      this.log.warn({ err, consumer: this.name }, 'event consumer pass failed; it will try again');
      return 0;
    });
    void this.#running.finally(() => {
      this.#running = undefined;
      if (this.#timer !== undefined) this.#timer = setTimeout(this.#tick, this.#again ? 0 : this.settings.intervalMs);
    });
  };

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(this.#tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
    await q.releaseConsumer(this.db, this.name, this.#owner).catch(() => undefined);
  }
}
