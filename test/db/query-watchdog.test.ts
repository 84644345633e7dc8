// Every PostgreSQL query is bounded: a server that is merely slow cancels the statement itself and
// keeps the connection; a server that cannot answer (packets dropped, no reset) has the connection
// closed under the query, which fails as unavailable, and the next query gets a fresh connection.
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenedDatabase, openDatabase } from '../../src/db/connect.js';
import { DatabaseNotAnswering, isDatabaseUnavailable } from '../../src/db/errors.js';
import { backends, freshDatabase } from '../helpers/backends.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const QUERY_TIMEOUT_MS = 600;
/** Time for the failure to travel back to the caller on a busy machine. */
const MARGIN_MS = 1000;
const GIVE_UP_AFTER_MS = 5000;

describe.runIf(backends.includes('postgres'))('the query bound on PostgreSQL', () => {
  let database: OpenedDatabase;
  let proxy: TcpProxy;
  let drop = async () => {};
  beforeAll(async () => {
    const fresh = await freshDatabase();
    drop = fresh.drop;
    proxy = await TcpProxy.forUrl(fresh.url);
    // One connection, so the query after a failure shows whether that connection was kept or replaced.
    database = openDatabase({ databaseUrl: proxy.urlFor(fresh.url), pgliteDir: 'unused', poolSize: 1, queryTimeoutMs: QUERY_TIMEOUT_MS });
  });
  afterAll(async () => {
    await database?.close();
    await proxy?.close();
    await drop();
  });

  const backendPid = async () => (await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(database.db)).rows[0]!.pid;
  /** Runs `run` and reports how it failed and how long it took; gives up waiting after a deadline so a hang fails the test. */
  const timed = async (run: () => Promise<unknown>) => {
    const started = Date.now();
    const outcome = await Promise.race([
      run().then(
        () => ({ error: undefined as unknown }),
        (err: unknown) => ({ error: err }),
      ),
      sleep(QUERY_TIMEOUT_MS + GIVE_UP_AFTER_MS).then(() => ({ error: new Error('no answer: the query still hangs') })),
    ]);
    return { ...outcome, tookMs: Date.now() - started };
  };

  it('lets PostgreSQL cancel a slow statement before the bound and keeps the connection', async () => {
    const before = await backendPid();
    const { error, tookMs } = await timed(() => sql`SELECT pg_sleep(${QUERY_TIMEOUT_MS / 1000 + 1})`.execute(database.db));
    expect(error).toMatchObject({ code: '57014' });
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(tookMs).toBeLessThan(QUERY_TIMEOUT_MS + MARGIN_MS);
    expect(await backendPid()).toBe(before);
  });

  it('fails a query the network swallows as unavailable within the bound and replaces its connection', async () => {
    const before = await backendPid();
    proxy.blackhole();
    const { error, tookMs } = await timed(() => sql`SELECT ${1}::int AS one`.execute(database.db));
    proxy.restore();
    expect(error).toBeInstanceOf(DatabaseNotAnswering);
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(tookMs).toBeGreaterThanOrEqual(QUERY_TIMEOUT_MS - 50);
    expect(tookMs).toBeLessThan(QUERY_TIMEOUT_MS + MARGIN_MS);
    expect(await backendPid()).not.toBe(before);
  });

  it('fails a transaction whose network goes silent halfway and gives the next query a working connection', async () => {
    const { error, tookMs } = await timed(() =>
      database.db.transaction().execute(async (trx) => {
        await sql`SELECT ${1}::int AS one`.execute(trx);
        proxy.blackhole();
        await sql`SELECT ${2}::int AS two`.execute(trx);
      }),
    );
    proxy.restore();
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(tookMs).toBeLessThan(QUERY_TIMEOUT_MS + MARGIN_MS);
    expect((await sql<{ three: number }>`SELECT ${3}::int AS three`.execute(database.db)).rows).toEqual([{ three: 3 }]);
  });
});
