// Locks out a username, or an address, after repeated failed logins; successes never count.
import type { CounterStore } from '../cache/counters.js';
import { rateLimited } from '../domain/errors.js';
import { type Metrics, noMetrics } from '../metrics/port.js';

/** An address (many users behind one NAT) gets more room than a single username. */
const ADDRESS_FACTOR = 4;

export class LoginThrottle {
  constructor(
    private readonly counters: CounterStore,
    private readonly maxFailures: number,
    private readonly windowSeconds: number,
    private readonly metrics: Metrics = noMetrics,
  ) {}

  #keys(username: string, address: string) {
    return { user: `login:user:${username.toLowerCase()}`, address: `login:ip:${address}` };
  }

  /**
   * Counts the attempt against the username before the password is checked, so a burst of parallel
   * guesses cannot slip past the limit between check and record. A success resets the count.
   */
  async begin(username: string, address: string): Promise<void> {
    const keys = this.#keys(username, address);
    const [user, ip] = await Promise.all([
      this.counters.increment(keys.user, this.windowSeconds),
      this.counters.read(keys.address),
    ]);
    const retryAfter = Math.max(
      user.count > this.maxFailures ? user.ttlSeconds : 0,
      ip.count >= this.maxFailures * ADDRESS_FACTOR ? ip.ttlSeconds : 0,
    );
    if (retryAfter > 0) {
      this.metrics.rateLimited('login_lockout');
      throw rateLimited('Too many failed login attempts; try again later', retryAfter);
    }
  }

  async recordFailure(username: string, address: string): Promise<void> {
    await this.counters.increment(this.#keys(username, address).address, this.windowSeconds);
  }

  async recordSuccess(username: string, address: string): Promise<void> {
    await this.counters.reset(this.#keys(username, address).user);
  }
}
