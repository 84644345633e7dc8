// "Something was just committed to the outbox": a wake-up call for the stream fan-outs, so an event
// reaches its clients at once rather than at the next poll. Writers call notify() after commit; in
// this process it is an EventEmitter, across processes a Redis PUBLISH. A lost signal (Redis down,
// a writer that does not call it) costs only latency: every fan-out also polls the outbox.
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

type Listener = () => void;

export class CommitSignal {
  readonly #local = new EventEmitter().setMaxListeners(0);
  readonly #channel: string;
  #subscriber: Redis | undefined;
  #subscribed: Promise<void> = Promise.resolve();

  /** `publisher` is the process's fail-fast Redis client; `redisUrl` opens a subscriber on first listen. */
  constructor(
    private readonly redis: { publisher: Redis; url: string; keyPrefix: string } | undefined,
    private readonly log: Logger,
  ) {
    this.#channel = `${redis?.keyPrefix ?? 'offers'}:events:committed`;
  }

  /** Never throws and never waits: the commit it reports has happened whatever becomes of the signal. */
  readonly notify = (): void => {
    this.#local.emit('commit');
    this.redis?.publisher.publish(this.#channel, '1').catch((err: unknown) => {
      this.log.debug({ err: (err as Error).message }, 'commit signal not published; fan-outs will see the event at their next poll');
    });
  };

  listen(listener: Listener): () => void {
    this.#local.on('commit', listener);
    if (this.redis) this.#subscribe();
    this.#subscriber?.on('message', listener);
    return () => {
      this.#local.off('commit', listener);
      this.#subscriber?.off('message', listener);
    };
  }

  #subscribe(): void {
    if (this.#subscriber || !this.redis) return;
    // A connection in subscriber mode can do nothing else, hence its own; ioredis reconnects and
    // subscribes again by itself after an outage.
    const subscriber = new Redis(this.redis.url, { connectionName: 'offers-api:commit-signal', maxRetriesPerRequest: null });
    subscriber.on('error', (err) => this.log.warn({ err: err.message }, 'commit signal subscriber: redis connection error'));
    this.#subscribed = subscriber.subscribe(this.#channel).then(
      () => undefined,
      (err: unknown) => {
        this.log.warn({ err: (err as Error).message }, 'could not subscribe to commit signals; streams fall back to polling');
      },
    );
    this.#subscriber = subscriber;
  }

  /** Resolves once signals from other processes arrive (or, with Redis away, once that is known). */
  subscribed(): Promise<void> {
    return this.#subscribed;
  }

  close(): void {
    this.#local.removeAllListeners();
    this.#subscriber?.disconnect();
    this.#subscriber = undefined;
  }
}
