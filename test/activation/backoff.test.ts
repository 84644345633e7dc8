import { describe, expect, it } from 'vitest';
import { retryDelay } from '../../src/activation/worker.js';
import { ConfigError, loadConfig } from '../../src/config.js';

const env = { JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256', DATABASE_URL: 'postgres://localhost/x', PARTNER_SIMULATOR: 'true' };

describe('retry backoff', () => {
  it('never waits longer than the ceiling, whatever the attempt number', () => {
    const settings = { baseMs: 1000, maxMs: 300_000 };
    for (const attempt of [1, 2, 9, 22, 23, 45, 1000, 1025, 2 ** 31]) {
      const delay = retryDelay(attempt, settings);
      expect(Number.isSafeInteger(delay), `attempt ${attempt}: ${delay}`).toBe(true);
      expect(delay, `attempt ${attempt}`).toBeGreaterThanOrEqual(1);
      expect(delay, `attempt ${attempt}`).toBeLessThanOrEqual(settings.maxMs);
    }
    expect(retryDelay(1000, settings)).toBeGreaterThanOrEqual(settings.maxMs / 2);
  });

  it('doubles from the base with jitter between half and the whole step', () => {
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      const step = 100 * 2 ** (attempt - 1);
      const delay = retryDelay(attempt, { baseMs: 100, maxMs: 1_000_000 });
      expect(delay).toBeGreaterThanOrEqual(step / 2);
      expect(delay).toBeLessThanOrEqual(step);
    }
  });

  it('accepts a large attempt limit and a ceiling a timer can hold, and refuses a longer ceiling', () => {
    const config = loadConfig({ ...env, ACTIVATION_MAX_ATTEMPTS: '1000', ACTIVATION_RETRY_MAX_MS: '2147483647' });
    expect(config.activationMaxAttempts).toBe(1000);
    expect(config.activationRetryMaxMs).toBe(2 ** 31 - 1);
    expect(loadConfig(env)).toMatchObject({ activationRetryMaxMs: 300_000, activationDeadlineMs: 86_400_000 });
    expect(() => loadConfig({ ...env, ACTIVATION_RETRY_MAX_MS: '2147483648' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...env, ACTIVATION_RETRY_MAX_MS: '2147483648' })).toThrow(/ACTIVATION_RETRY_MAX_MS/);
  });
});
