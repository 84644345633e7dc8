// The worker role runs the notifications by itself: the feed always, email with SMTP_URL, and the
// log says once at start whether email is on.
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { bootstrap } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { credit, newUser } from '../helpers/api.js';
import { backendEnv, backends } from '../helpers/backends.js';
import { emitEvents, feed, setEmail } from './helpers.js';
import { TestSmtpServer } from './smtp.js';

async function until(condition: () => Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.each(backends)('notifications in the worker role on %s', (backend) => {
  async function withWorker(overrides: Record<string, string>, test: (app: FastifyInstance, runtime: Runtime, logLines: string[]) => Promise<void>) {
    const { env, cleanup } = await backendEnv(backend);
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const config = loadConfig({ ...env, LOG_LEVEL: 'info', NOTIFICATIONS_INTERVAL_MS: '20', ...overrides });
    const runtime = await createRuntime(config, backend === 'embedded' ? { pgliteDir: 'memory://', log } : { log });
    let app: FastifyInstance | undefined;
    try {
      await bootstrap(runtime);
      runtime.startWorker();
      app = await buildApp(runtime);
      await app.ready();
      await test(app, runtime, lines);
    } finally {
      await app?.close();
      await runtime.close();
      await cleanup();
    }
  }

  it('fills the feed without being asked and says once at start that email is off', async () => {
    await withWorker({}, async (app, runtime, lines) => {
      const user = await newUser(app);
      await credit(app, user.id, '5.00');
      await until(async () => (await feed(app, user)).count === 1);
      runtime.startWorker();
      await runtime.stopWorker();
      expect(lines.filter((l) => l.includes('email notifications are off')).length).toBe(1);
      expect(lines.filter((l) => l.includes('email notifications are on')).length).toBe(0);
    });
  });

  it('emails without being asked when SMTP_URL is set', async () => {
    const smtp = new TestSmtpServer();
    const smtpUrl = await smtp.start();
    try {
      await withWorker({ SMTP_URL: smtpUrl, MAIL_FROM: 'offers@example.test' }, async (app, runtime, lines) => {
        const user = await newUser(app);
        const address = `${user.username}@example.test`;
        await setEmail(app, user, address);
        await emitEvents(runtime.db, { type: 'balance.low', userId: user.id, subject: null, data: { balance: '1.00', threshold: '5.00' } });
        await until(async () => smtp.to(address).length === 1);
        expect(smtp.to(address)[0]!.subject).toBe('Your balance is low');
        expect(lines.filter((l) => l.includes('email notifications are on')).length).toBe(1);
        expect(lines.some((l) => l.includes('email notifications are off'))).toBe(false);
      });
    } finally {
      await smtp.stop();
    }
  });
});
