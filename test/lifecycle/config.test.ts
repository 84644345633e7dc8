// The lifecycle's settings: defaults, and a clear error naming the variable for a wrong value.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const base = () => ({ JWT_SECRET: 'a-test-secret-that-is-at-least-32-chars', DATA_DIR: mkdtempSync(join(tmpdir(), 'offers-config-')) });

describe('lifecycle settings', () => {
  it('default to a pass a minute, reminders 3 and 1 days before, renewal 60 minutes before, 30 days of events, and 5.00', () => {
    expect(loadConfig(base()).lifecycle).toEqual({
      intervalMs: 60_000,
      reminderDaysBefore: [3, 1],
      autoRenewLeadMinutes: 60,
      eventRetentionDays: 30,
      lowBalanceThreshold: '5.00',
    });
  });

  it('reads the reminder days as a list, largest first, without repeats', () => {
    expect(loadConfig({ ...base(), REMINDER_DAYS_BEFORE: '1, 7,3,7' }).lifecycle.reminderDaysBefore).toEqual([7, 3, 1]);
  });

  it.each([
    ['REMINDER_DAYS_BEFORE', '3,x'],
    ['REMINDER_DAYS_BEFORE', '0'],
    ['LIFECYCLE_INTERVAL_MS', '5'],
    ['AUTO_RENEW_LEAD_MINUTES', '-1'],
    ['EVENT_RETENTION_DAYS', '0'],
    ['LOW_BALANCE_THRESHOLD', '5.001'],
    ['LOW_BALANCE_THRESHOLD', '-5'],
  ])('refuses %s=%s with a message naming it', (name, value) => {
    expect(() => loadConfig({ ...base(), [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base(), [name]: value })).toThrow(name);
  });
});
