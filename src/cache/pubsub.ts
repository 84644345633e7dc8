// A Redis pub/sub channel: every process of a deployment hears what any of them publishes.
import { Redis } from 'ioredis';

export interface ChannelHandlers {
  onMessage(message: string): void;
  /**
   * Called each time the subscription is (re)established. Messages published while this process
   * was not subscribed are lost, so a subscriber catches up from its source of truth here.
   */
  onSubscribed(): void;
  onError(err: Error): void;
}

export interface Channel {
  publish(message: string): Promise<void>;
  subscribe(handlers: ChannelHandlers): void;
  close(): Promise<void>;
}

export class RedisChannel implements Channel {
  #subscriber: Redis | undefined;

  /** `publisher` is a shared command connection; a subscribing connection can do nothing else, so it gets its own. */
  constructor(
    private readonly url: string,
    private readonly publisher: Redis,
    private readonly name: string,
  ) {}

  async publish(message: string): Promise<void> {
    await this.publisher.publish(this.name, message);
  }

  subscribe(handlers: ChannelHandlers): void {
    const subscriber = new Redis(this.url, {
      connectionName: 'offers-api:pubsub',
      // Subscribed again by hand on every 'ready', so onSubscribed runs after each reconnection.
      autoResubscribe: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
    });
    subscriber.on('error', handlers.onError);
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.name) handlers.onMessage(message);
    });
    subscriber.on('ready', () => {
      subscriber.subscribe(this.name).then(handlers.onSubscribed, handlers.onError);
    });
    this.#subscriber = subscriber;
  }

  async close(): Promise<void> {
    this.#subscriber?.disconnect();
  }
}
