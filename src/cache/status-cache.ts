// Status cache: one entry per id (Redis when configured, an in-memory LRU when embedded), written after
// each committed state change. It holds whatever view it is given; the database stays the truth, so
// a miss or a Redis error reads the database.
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';

export interface StatusCache<V extends object> {
  get(id: string): Promise<V | undefined>;
  set(id: string, view: V): Promise<void>;
  /** Several at once: one round trip to Redis. */
  setMany(entries: [id: string, view: V][]): Promise<void>;
}

export class MemoryStatusCache<V extends object> implements StatusCache<V> {
  readonly #lru: LRUCache<string, V>;

  constructor(ttlSeconds: number, max = 50_000) {
    this.#lru = new LRUCache({ max, ttl: ttlSeconds * 1000 });
  }

  async get(id: string) {
    return this.#lru.get(id);
  }

  async set(id: string, view: V) {
    this.#lru.set(id, view);
  }

  async setMany(entries: [string, V][]) {
    for (const [id, view] of entries) this.#lru.set(id, view);
  }
}

export class RedisStatusCache<V extends object> implements StatusCache<V> {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}

  #key(id: string) {
    return `${this.prefix}:view:${id}`;
  }

  async get(id: string): Promise<V | undefined> {
    const text = await this.redis.get(this.#key(id));
    return text === null ? undefined : (JSON.parse(text) as V);
  }

  async set(id: string, view: V): Promise<void> {
    await this.redis.set(this.#key(id), JSON.stringify(view), 'EX', this.ttlSeconds);
  }

  async setMany(entries: [string, V][]): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (const [id, view] of entries) pipeline.set(this.#key(id), JSON.stringify(view), 'EX', this.ttlSeconds);
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err !== null);
    if (failed) throw failed[0];
  }
}

/**
 * Views that `isFinal` never change again, so each process also keeps them in memory and polls of a
 * finished item skip the Redis round trip. Unfinished ones always come from Redis.
 */
export class TieredStatusCache<V extends object> implements StatusCache<V> {
  readonly #final: MemoryStatusCache<V>;

  constructor(
    private readonly shared: StatusCache<V>,
    private readonly isFinal: (view: V) => boolean,
    ttlSeconds: number,
  ) {
    this.#final = new MemoryStatusCache(ttlSeconds);
  }

  async get(id: string): Promise<V | undefined> {
    const local = await this.#final.get(id);
    if (local) return local;
    const view = await this.shared.get(id);
    if (view && this.isFinal(view)) await this.#final.set(id, view);
    return view;
  }

  async set(id: string, view: V): Promise<void> {
    if (this.isFinal(view)) await this.#final.set(id, view);
    await this.shared.set(id, view);
  }

  async setMany(entries: [string, V][]): Promise<void> {
    await this.#final.setMany(entries.filter(([, view]) => this.isFinal(view)));
    await this.shared.setMany(entries);
  }
}
