// The email settings: off by default, and refused at start-up when they cannot work.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const base = () => ({ JWT_SECRET: 'a-test-secret-that-is-at-least-32-chars', DATA_DIR: mkdtempSync(join(tmpdir(), 'offers-config-')) });

describe('email settings', () => {
  it('leave email off by default, with retries that grow from a minute to six hours', () => {
    expect(loadConfig(base())).toMatchObject({
      smtpUrl: undefined,
      mailFrom: undefined,
      smtpTimeoutMs: 30_000,
      emailMaxAttempts: 8,
      emailRetryBaseMs: 60_000,
      emailRetryMaxMs: 21_600_000,
      notificationsIntervalMs: 1000,
    });
  });

  it('take an SMTP URL with a sender, in either address form', () => {
    const config = loadConfig({ ...base(), SMTP_URL: 'smtp://mail.example.com:587', MAIL_FROM: 'Offers <offers@example.com>' });
    expect(config).toMatchObject({ smtpUrl: 'smtp://mail.example.com:587', mailFrom: 'Offers <offers@example.com>' });
    expect(loadConfig({ ...base(), SMTP_URL: 'smtps://u:p@mail.example.com', MAIL_FROM: 'offers@example.com' }).mailFrom).toBe('offers@example.com');
  });

  it.each([
    [{ SMTP_URL: 'smtp://mail.example.com' }, /MAIL_FROM is required when SMTP_URL is set/],
    [{ SMTP_URL: 'http://mail.example.com', MAIL_FROM: 'a@b.c' }, /SMTP_URL must start with smtp:\/\/ or smtps:\/\//],
    [{ SMTP_URL: 'smtp://mail.example.com', MAIL_FROM: 'nobody' }, /MAIL_FROM must be an address/],
    [{ EMAIL_MAX_ATTEMPTS: '0' }, /EMAIL_MAX_ATTEMPTS must be between 1/],
    [{ SMTP_TIMEOUT_MS: 'soon' }, /SMTP_TIMEOUT_MS must be a whole number/],
  ])('refuse %j', (env, message) => {
    expect(() => loadConfig({ ...base(), ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base(), ...env })).toThrow(message);
  });
});
