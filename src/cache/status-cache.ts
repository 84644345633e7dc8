// Activation status cache: a Redis hash per transaction (in-memory LRU when embedded), written after
// each committed state change. The database stays the truth: a miss or a Redis error reads it.
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { TransactionStatus } from '../db/types.js';

export interface CachedStatus {
  transaction_id: string;
  user_id: number;
  status: TransactionStatus;
  offer_id: number | null;
  amount: string;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  reference: string | null;
  error_code: string | null;
  error_message: string | null;
}

export interface StatusCache {
  get(transactionId: string): Promise<CachedStatus | undefined>;
  set(status: CachedStatus): Promise<void>;
}

export class MemoryStatusCache implements StatusCache {
  readonly #lru: LRUCache<string, CachedStatus>;

  constructor(ttlSeconds: number, max = 50_000) {
    this.#lru = new LRUCache({ max, ttl: ttlSeconds * 1000 });
  }

  async get(transactionId: string) {
    return this.#lru.get(transactionId);
  }

  async set(status: CachedStatus) {
    this.#lru.set(status.transaction_id, status);
  }
}

const FIELDS = [
  'transaction_id',
  'user_id',
  'status',
  'offer_id',
  'amount',
  'created_at',
  'updated_at',
  'completed_at',
  'reference',
  'error_code',
  'error_message',
] as const;

export class RedisStatusCache implements StatusCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}

  #key(id: string) {
    return `${this.prefix}:status:${id}`;
  }

  async get(transactionId: string): Promise<CachedStatus | undefined> {
    const values = await this.redis.hmget(this.#key(transactionId), ...FIELDS);
    const field = (i: number) => (values[i] === '' || values[i] === undefined ? null : values[i]);
    const [id, userId, status, offerId, amount, createdAt, updatedAt] = FIELDS.slice(0, 7).map((_, i) => field(i));
    if (!id || !userId || !status || !amount || !createdAt || !updatedAt) return undefined;
    return {
      transaction_id: id,
      user_id: Number(userId),
      status: status as TransactionStatus,
      offer_id: offerId === null ? null : Number(offerId),
      amount,
      created_at: createdAt,
      updated_at: updatedAt,
      completed_at: field(7),
      reference: field(8),
      error_code: field(9),
      error_message: field(10),
    };
  }

  async set(status: CachedStatus): Promise<void> {
    const key = this.#key(status.transaction_id);
    const flat = FIELDS.flatMap((f) => [f, status[f] === null ? '' : String(status[f])]);
    await this.redis.multi().hset(key, ...flat).expire(key, this.ttlSeconds).exec();
  }
}

/** Statuses an activation never leaves. */
export const FINAL_STATUSES: ReadonlySet<TransactionStatus> = new Set<TransactionStatus>(['SUCCESS', 'FAILED']);

/**
 * Final statuses never change again, so each process also keeps them in memory and polls of a
 * finished activation skip the Redis round trip. Unfinished ones always come from Redis.
 */
export class TieredStatusCache implements StatusCache {
  readonly #final: MemoryStatusCache;

  constructor(
    private readonly shared: StatusCache,
    ttlSeconds: number,
  ) {
    this.#final = new MemoryStatusCache(ttlSeconds);
  }

  async get(transactionId: string): Promise<CachedStatus | undefined> {
    const local = await this.#final.get(transactionId);
    if (local) return local;
    const status = await this.shared.get(transactionId);
    if (status && FINAL_STATUSES.has(status.status)) await this.#final.set(status);
    return status;
  }

  async set(status: CachedStatus): Promise<void> {
    if (FINAL_STATUSES.has(status.status)) await this.#final.set(status);
    await this.shared.set(status);
  }
}
