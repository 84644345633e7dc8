// The webhook settings: their defaults, the retry schedule they give, and refusals at start-up.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { retryDelayMs } from '../../src/webhooks/domain.js';

const base = () => ({ JWT_SECRET: 'a-test-secret-that-is-at-least-32-chars', DATA_DIR: mkdtempSync(join(tmpdir(), 'offers-config-')) });

describe('webhook settings', () => {
  it('default to public https endpoints, 10 s per attempt, 10 attempts from a minute on, disabled after 72 hours', () => {
    expect(loadConfig(base()).webhooks).toEqual({
      timeoutMs: 10_000,
      retryBaseMs: 60_000,
      maxAttempts: 10,
      disableAfterHours: 72,
      allowPrivate: false,
      intervalMs: 1000,
    });
  });

  it('spread the default attempts over about three days, each delay longer than the one before', () => {
    const { retryBaseMs, maxAttempts } = loadConfig(base()).webhooks;
    for (const random of [0, 0.5, 1]) {
      const delays = Array.from({ length: maxAttempts - 1 }, (_, i) => retryDelayMs(i + 1, retryBaseMs, () => random));
      const days = delays.reduce((a, b) => a + b, 0) / 86_400_000;
      expect(days).toBeGreaterThan(2);
      expect(days).toBeLessThan(3.5);
      expect(delays[0]).toBe(Math.round(retryBaseMs * (0.8 + 0.4 * random)));
      delays.slice(1, 7).forEach((d, i) => expect(d).toBeGreaterThan(delays[i]!));
    }
  });

  it.each([
    [{ WEBHOOK_TIMEOUT_MS: '50' }, /WEBHOOK_TIMEOUT_MS must be between 100/],
    [{ WEBHOOK_MAX_ATTEMPTS: '0' }, /WEBHOOK_MAX_ATTEMPTS must be between 1/],
    [{ WEBHOOK_RETRY_BASE_MS: 'soon' }, /WEBHOOK_RETRY_BASE_MS must be a whole number/],
    [{ WEBHOOK_DISABLE_AFTER_HOURS: '0' }, /WEBHOOK_DISABLE_AFTER_HOURS must be between 1/],
    [{ WEBHOOK_ALLOW_PRIVATE: 'sometimes' }, /WEBHOOK_ALLOW_PRIVATE must be true or false/],
  ])('refuse %j', (env, message) => {
    expect(() => loadConfig({ ...base(), ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base(), ...env })).toThrow(message);
  });
});
