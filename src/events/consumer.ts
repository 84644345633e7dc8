// Runs one named consumer of the outbox: reads committed events after its stored position, hands
// them to its handler, then stores the new position. Delivery is at least once (a crash between
// handling and storing repeats a batch), so handlers are idempotent on the event id. A lease keeps
// a consumer on one process at a time, however many workers run it.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database } from '../db/connect.js';
import { PeriodicTask } from '../db/periodic-task.js';
import * as q from './queries.js';

export type EventHandler = (events: q.ConsumedEvent[]) => Promise<void>;

export interface ConsumerSettings {
  batch: number;
  intervalMs: number;
  leaseMs: number;
}

export class EventConsumer {
  readonly #owner = randomUUID();
  readonly #loop: PeriodicTask;

  constructor(
    private readonly db: Database,
    readonly name: string,
    private readonly handler: EventHandler,
    private readonly settings: ConsumerSettings,
    private readonly log: Logger,
  ) {
    this.#loop = new PeriodicTask(() => this.runOnce(), {
      intervalMs: settings.intervalMs,
      onError: (err) => log.warn({ err, consumer: name }, 'event consumer pass failed; it will try again'),
    });
  }

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
    this.#loop.wake();
  }

  start(): void {
    this.#loop.start();
  }

  /** Waits for the pass in progress, if any, then gives the lease up. */
  async stop(): Promise<void> {
    await this.#loop.stop();
    await q.releaseConsumer(this.db, this.name, this.#owner).catch(() => undefined);
  }
}
