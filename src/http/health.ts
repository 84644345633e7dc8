// Liveness and readiness probes; no token needed.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import { Type } from 'typebox';

const Status = Type.Object({
  status: Type.String(),
  // States only, never an error text: /ready needs no token. Load shedding answers it too (plugins/load-shedding.ts).
  checks: Type.Optional(
    Type.Record(
      Type.String(),
      Type.Union([Type.Literal('ok'), Type.Literal('unavailable'), Type.String({ pattern: '^under pressure \\(\\w+\\)$' })]),
    ),
  ),
});

const TIMEOUT_MS = 2000;

type CheckState = 'ok' | 'unavailable';

/** 'ok' or 'unavailable'; the reason goes to the log only, since /ready needs no token. */
async function probe(check: () => Promise<unknown>, onFailure: (reason: string) => void): Promise<CheckState> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch (err) {
    onFailure((err as Error).message);
    return 'unavailable';
  } finally {
    clearTimeout(timer);
  }
}

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/health', { schema: { tags: ['health'], response: { 200: Status } } }, async () => ({ status: 'ok' }));

  app.get('/ready', { schema: { tags: ['health'], response: { 200: Status, 503: Status } } }, async (_request, reply) => {
    const failed = (component: string) => (reason: string) => app.log.warn({ component, reason }, 'readiness check failed');
    const checks: Record<string, CheckState> = { database: await probe(() => sql`SELECT 1`.execute(app.db), failed('database')) };
    const redis = app.redis;
    if (redis) checks.redis = await probe(() => redis.ping(), failed('redis'));
    const ready = Object.values(checks).every((v) => v === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks });
  });
};

export default healthRoutes;
