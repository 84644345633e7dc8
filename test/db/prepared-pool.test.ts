// The pg pool under Kysely prepares each parameterised SQL text once per connection and reuses it.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenedDatabase, openDatabase } from '../../src/db/connect.js';
import { backends, freshDatabase } from '../helpers/backends.js';

describe.runIf(backends.includes('postgres'))('named prepared statements on PostgreSQL', () => {
  let database: OpenedDatabase;
  let drop = async () => {};
  beforeAll(async () => {
    const fresh = await freshDatabase();
    drop = fresh.drop;
    // One connection, so every query below meets the statements the ones before it prepared.
    database = openDatabase({ databaseUrl: fresh.url, pgliteDir: 'unused', poolSize: 1 });
  });
  afterAll(async () => {
    await database?.close();
    await drop();
  });

  const prepared = async () =>
    (await sql<{ statement: string }>`SELECT statement FROM pg_prepared_statements ORDER BY prepare_time`.execute(database.db)).rows.map((r) => r.statement);

  it('prepares a parameterised query once and answers later calls with other values from it', async () => {
    const square = (n: number) => sql<{ n: number }>`SELECT ${n}::int * ${n}::int AS n`.execute(database.db);
    expect((await square(3)).rows).toEqual([{ n: 9 }]);
    expect((await square(4)).rows).toEqual([{ n: 16 }]);
    expect(await prepared()).toEqual(['SELECT $1::int * $2::int AS n']);

    await database.db.transaction().execute(async (trx) => {
      expect((await sql<{ n: number }>`SELECT ${5}::int * ${5}::int AS n`.execute(trx)).rows).toEqual([{ n: 25 }]);
    });
    // BEGIN, COMMIT and queries without parameters are not prepared.
    expect(await prepared()).toEqual(['SELECT $1::int * $2::int AS n']);
  });

  it('reports a failing prepared statement as the query error and keeps the connection usable', async () => {
    const divide = (n: number) => sql<{ n: number }>`SELECT 10 / ${n}::int AS n`.execute(database.db);
    await expect(divide(0)).rejects.toThrow(/division by zero/);
    expect((await divide(5)).rows).toEqual([{ n: 2 }]);
  });
});
