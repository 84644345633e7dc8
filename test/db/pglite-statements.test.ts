import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PREPARED_STATEMENTS } from '../../src/db/pglite-statements.js';
import { PGliteThread } from '../../src/db/pglite-thread.js';

// The PGlite thread keeps one named prepared statement per SQL text: a statement must never outlive
// what it was prepared against, nor be cached from a failed Parse.
describe('prepared statements in the PGlite thread', () => {
  let db: PGliteThread;
  beforeAll(async () => {
    db = new PGliteThread('memory://');
    await db.waitReady;
  });
  afterAll(() => db.close());

  const preparedCount = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements')).rows[0]!.n;

  it('returns the new columns after DDL changes a table under a prepared SELECT *', async () => {
    await db.query('CREATE TABLE shape (id int PRIMARY KEY, a text)');
    await db.query('INSERT INTO shape VALUES (1, $1)', ['x']);
    const select = 'SELECT * FROM shape WHERE id = $1';
    expect((await db.query(select, [1])).rows).toEqual([{ id: 1, a: 'x' }]);

    await db.query('ALTER TABLE shape ADD COLUMN b int DEFAULT 7');
    // First inside a transaction, where a refused plan could not be re-prepared.
    const inTransaction = await db.transaction((tx) => tx.query(select, [1]));
    expect(inTransaction.rows).toEqual([{ id: 1, a: 'x', b: 7 }]);
    expect((await db.query(select, [1])).rows).toEqual([{ id: 1, a: 'x', b: 7 }]);
  });

  it('forgets statements prepared inside a transaction whose DDL was rolled back', async () => {
    await db.query('CREATE TABLE undone (id int PRIMARY KEY)');
    await db.query('INSERT INTO undone VALUES ($1)', [1]);
    const select = 'SELECT * FROM undone WHERE id = $1';
    const rollback = db.transaction(async (tx) => {
      await tx.query('ALTER TABLE undone ADD COLUMN extra int');
      expect((await tx.query(select, [1])).rows).toEqual([{ id: 1, extra: null }]);
      throw new Error('undo');
    });
    await expect(rollback).rejects.toThrow('undo');
    // Inside a transaction a stale statement could not be re-prepared: the transaction would be aborted.
    expect((await db.transaction((tx) => tx.query(select, [1]))).rows).toEqual([{ id: 1 }]);
    expect((await db.query(select, [1])).rows).toEqual([{ id: 1 }]);
  });

  it('re-prepares once when a schema change it could not see makes PostgreSQL refuse the cached plan', async () => {
    await db.query('CREATE TABLE hidden (id int PRIMARY KEY)');
    await db.query(`CREATE FUNCTION widen_hidden() RETURNS int LANGUAGE plpgsql AS $$
      BEGIN ALTER TABLE hidden ADD COLUMN wide text DEFAULT 'w'; RETURN 1; END $$`);
    await db.query('INSERT INTO hidden VALUES ($1)', [1]);
    const select = 'SELECT * FROM hidden WHERE id = $1';
    expect((await db.query(select, [1])).rows).toEqual([{ id: 1 }]);
    // The DDL runs inside a SELECT, so nothing tells the thread the table changed.
    await db.query('SELECT widen_hidden() WHERE $1', [true]);
    expect((await db.query(select, [1])).rows).toEqual([{ id: 1, wide: 'w' }]);
  });

  it('runs a statement again after it failed, with PostgreSQL error fields intact', async () => {
    await db.query('CREATE TABLE unique_ids (id int PRIMARY KEY)');
    const insert = 'INSERT INTO unique_ids VALUES ($1)';
    await db.query(insert, [1]);
    await expect(db.query(insert, [1])).rejects.toMatchObject({
      code: '23505',
      constraint: 'unique_ids_pkey',
      detail: 'Key (id)=(1) already exists.',
    });
    expect((await db.query(insert, [2])).affectedRows).toBe(1);
  });

  it('caches nothing from a Parse refused in an aborted transaction', async () => {
    await db.query('CREATE TABLE aborted (id int PRIMARY KEY)');
    const fresh = 'SELECT count(*)::int AS n FROM aborted WHERE id > $1';
    const failed = db.transaction(async (tx) => {
      await tx.query('SELECT 1 / $1::int', [0]).catch(() => {});
      await tx.query(fresh, [0]);
    });
    await expect(failed).rejects.toMatchObject({ code: '25P02' });
    // In a transaction, where a bad cache entry could not be retried.
    expect((await db.transaction((tx) => tx.query(fresh, [0]))).rows).toEqual([{ n: 0 }]);
  });

  it('reports a statement that does not parse, and caches nothing for it', async () => {
    const broken = 'SELECT * FROM no_such_table WHERE id = $1';
    await expect(db.query(broken, [1])).rejects.toMatchObject({ code: '42P01' });
    await db.query('CREATE TABLE no_such_table (id int)');
    expect((await db.transaction((tx) => tx.query(broken, [1]))).rows).toEqual([]);
  });

  it('answers the same SQL text as arrays or as objects, as asked', async () => {
    const select = 'SELECT $1::int AS n, 12.50::numeric(12, 2) AS amount, 42::int8 AS big';
    expect((await db.query(select, [3], { rowMode: 'array' })).rows).toEqual([[3, '12.50', 42]]);
    expect((await db.query(select, [3], { rowMode: 'object' })).rows).toEqual([{ n: 3, amount: '12.50', big: 42 }]);
    expect((await db.query(select, [4], { rowMode: 'array' })).rows).toEqual([[4, '12.50', 42]]);
  });

  it(`keeps at most ${MAX_PREPARED_STATEMENTS} statements prepared, the least recently used closed first`, async () => {
    const first = 'SELECT $1::int AS first';
    await db.query(first, [1]);
    for (let i = 0; i < MAX_PREPARED_STATEMENTS + 20; i++) await db.query(`SELECT $1::int + ${i} AS n`, [1]);
    expect(await preparedCount()).toBeLessThanOrEqual(MAX_PREPARED_STATEMENTS);
    expect((await db.query(first, [5])).rows).toEqual([{ first: 5 }]);
  });
});
