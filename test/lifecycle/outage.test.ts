// The scheduler lives in the worker process: a database that is away must cost it a log line per
// pass, never the process.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { ActivationService } from '../../src/activation/service.js';
import { TestClock } from '../../src/clock.js';
import type { Database } from '../../src/db/connect.js';
import { LifecycleScheduler } from '../../src/lifecycle/scheduler.js';

const SETTINGS = { reminderDaysBefore: [3, 1], autoRenewLeadMinutes: 60, eventRetentionDays: 30, lowBalanceThreshold: '5.00' };

describe('the lifecycle scheduler while the database is away', () => {
  it('logs each failed pass as a warning and keeps running its passes', async () => {
    const refused = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    const db = { transaction: () => ({ execute: refused }) } as unknown as Database;
    const lines: { level: number; msg: string }[] = [];
    let twoPasses: () => void;
    const logged = new Promise<void>((resolve) => (twoPasses = resolve));
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
        if (lines.length === 2) twoPasses();
        done();
      },
    });
    const scheduler = new LifecycleScheduler(db, {} as ActivationService, new TestClock(), SETTINGS, 10, pino(sink));
    scheduler.start();
    await logged;
    await scheduler.stop();
    expect(lines.slice(0, 2)).toEqual([
      expect.objectContaining({ level: 40, msg: 'lifecycle pass skipped: database or redis unavailable' }),
      expect.objectContaining({ level: 40, msg: 'lifecycle pass skipped: database or redis unavailable' }),
    ]);
  });
});
