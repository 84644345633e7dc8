// Fixed-window counters (failed logins per username and per address): in memory when embedded,
// in Redis when scaled out, so every API process sees the same counts.
import type { Redis } from 'ioredis';

export interface CounterState {
  count: number;
  /** Seconds until the window resets; 0 when the counter is not set. */
  ttlSeconds: number;
}

export interface CounterStore {
  increment(key: string, windowSeconds: number): Promise<CounterState>;
  read(key: string): Promise<CounterState>;
  reset(key: string): Promise<void>;
}

export class MemoryCounterStore implements CounterStore {
  readonly #entries = new Map<string, { count: number; expiresAt: number }>();

  #live(key: string) {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #state(entry: { count: number; expiresAt: number } | undefined): CounterState {
    if (!entry) return { count: 0, ttlSeconds: 0 };
    return { count: entry.count, ttlSeconds: Math.ceil((entry.expiresAt - Date.now()) / 1000) };
  }

  async increment(key: string, windowSeconds: number): Promise<CounterState> {
    const entry = this.#live(key) ?? { count: 0, expiresAt: Date.now() + windowSeconds * 1000 };
    entry.count += 1;
    this.#entries.set(key, entry);
    return this.#state(entry);
  }

  async read(key: string): Promise<CounterState> {
    return this.#state(this.#live(key));
  }

  async reset(key: string): Promise<void> {
    this.#entries.delete(key);
  }
}

export class RedisCounterStore implements CounterStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async increment(key: string, windowSeconds: number): Promise<CounterState> {
    const name = `${this.prefix}:counter:${key}`;
    const result = await this.redis.multi().incr(name).expire(name, windowSeconds, 'NX').ttl(name).exec();
    const count = Number(result?.[0]?.[1] ?? 0);
    const ttl = Number(result?.[2]?.[1] ?? windowSeconds);
    return { count, ttlSeconds: ttl > 0 ? ttl : windowSeconds };
  }

  async read(key: string): Promise<CounterState> {
    const name = `${this.prefix}:counter:${key}`;
    const result = await this.redis.multi().get(name).ttl(name).exec();
    const count = Number(result?.[0]?.[1] ?? 0);
    const ttl = Number(result?.[1]?.[1] ?? 0);
    return { count, ttlSeconds: ttl > 0 ? ttl : 0 };
  }

  async reset(key: string): Promise<void> {
    await this.redis.del(`${this.prefix}:counter:${key}`);
  }
}

/**
 * Counters guard logins; they are not the truth about anything. When Redis is unreachable they
 * fail open (an attempt counts as the first), so logins keep working, and the error is logged.
 */
export class FailOpenCounterStore implements CounterStore {
  constructor(
    private readonly inner: CounterStore,
    private readonly onError: (err: unknown) => void,
  ) {}

  async #guard(operation: () => Promise<CounterState>): Promise<CounterState> {
    try {
      return await operation();
    } catch (err) {
      this.onError(err);
      return { count: 0, ttlSeconds: 0 };
    }
  }

  increment(key: string, windowSeconds: number) {
    return this.#guard(() => this.inner.increment(key, windowSeconds));
  }

  read(key: string) {
    return this.#guard(() => this.inner.read(key));
  }

  async reset(key: string) {
    await this.#guard(async () => {
      await this.inner.reset(key);
      return { count: 0, ttlSeconds: 0 };
    });
  }
}
