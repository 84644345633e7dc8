// The thread that owns the embedded PGlite database (see pglite-thread.ts). Its queries run here, so
// the WebAssembly PostgreSQL never holds up the HTTP event loop.
import { setFlagsFromString } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { PreparedStatements } from './pglite-statements.js';
import type { QueryOptions, ThreadReply, ThreadRequest, ThreadError } from './pglite-thread-protocol.js';

const port = parentPort;
if (!port) throw new Error('pglite-worker.ts runs as a worker thread');
const { dataDir, settings } = workerData as { dataDir: string; settings: string[] };
// PostgreSQL's WebAssembly starts on V8's baseline compiler and hot functions are recompiled by the
// optimising one in the background. By default one such job runs per V8 platform thread, each with
// its own compiler memory (tens of MB for PostgreSQL's largest functions) that stays in that
// thread's malloc arena afterwards. One job at a time keeps that peak to one function's worth; the
// tier-up only takes longer. V8 reads the flag when it compiles, so it applies to the module below.
setFlagsFromString('--wasm-num-compilation-tasks=1');
const pglite = new PGlite(dataDir, { startParams: [...PGlite.defaultStartParams, ...settings] });
const statements = new PreparedStatements(pglite);

/** Error fields that travel: structured cloning keeps only an Error's message and stack, not `code`. */
function toThreadError(err: unknown): ThreadError {
  if (!(err instanceof Error)) return { message: String(err), name: 'Error', fields: {} };
  const fields: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(err)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') fields[key] = value;
  }
  return { message: err.message, name: err.name, stack: err.stack, fields };
}

interface OpenTransaction {
  tx: Transaction;
  finish(commit: boolean): void;
  /** The transaction's end: undefined once committed or rolled back, the error otherwise. */
  settled: Promise<unknown>;
}

const transactions = new Map<number, OpenTransaction>();
let nextTransaction = 1;

async function begin(): Promise<number> {
  const id = nextTransaction++;
  let finish!: (commit: boolean) => void;
  const outcome = new Promise<boolean>((resolve) => (finish = resolve));
  let begun!: (tx: Transaction) => void;
  const started = new Promise<Transaction>((resolve) => (begun = resolve));
  // PGlite's own transaction() holds its lock from BEGIN to COMMIT, as on the main thread before.
  const done = pglite.transaction(async (tx) => {
    begun(tx);
    if (!(await outcome)) await tx.rollback();
  });
  const settled = done.then(
    () => undefined,
    (err: unknown) => err ?? new Error('transaction failed'),
  );
  const tx = await Promise.race([started, settled.then((err) => Promise.reject(err))]);
  transactions.set(id, { tx, finish, settled });
  return id;
}

async function end(id: number, commit: boolean): Promise<void> {
  const open = transactions.get(id);
  if (!open) throw new Error(`no open transaction ${id}`);
  statements.transactionEnding();
  open.finish(commit);
  const err = await open.settled;
  transactions.delete(id);
  if (err !== undefined) throw err;
}

/**
 * A query under the same locks as PGlite's own query() (outside a transaction: never between a
 * transaction's statements) or Transaction.query() (inside one: under the transaction's lock).
 */
async function query(sql: string, params: unknown[] = [], options: QueryOptions | undefined, id: number | undefined) {
  if (id === undefined) {
    await pglite._checkReady();
    return pglite._runExclusiveTransaction(() => pglite.runExclusive(() => statements.query(sql, params, options, false)));
  }
  const open = transactions.get(id);
  if (!open || open.tx.closed) throw new Error('Transaction is closed');
  return pglite.runExclusive(() => statements.query(sql, params, options, true));
}

async function handle(request: ThreadRequest): Promise<unknown> {
  switch (request.op) {
    case 'query': {
      const { rows, fields, affectedRows } = await query(request.sql, request.params, request.options, request.tx);
      return { rows, fields, affectedRows };
    }
    case 'begin':
      return begin();
    case 'end':
      return end(request.tx, request.commit);
    case 'rollback': {
      const open = transactions.get(request.tx);
      if (!open) throw new Error('Transaction is closed');
      statements.transactionEnding();
      return open.tx.rollback();
    }
    case 'close':
      // A database closed before its first query may still be starting: let it finish its files.
      await pglite.waitReady.catch(() => {});
      if (!pglite.closed) await pglite.close();
      return undefined;
  }
}

const reply = (message: ThreadReply) => port.postMessage(message);

pglite.waitReady.then(
  () => reply({ id: 0, ok: true, value: undefined }),
  (err: unknown) => reply({ id: 0, ok: false, error: toThreadError(err) }),
);

port.on('message', (request: ThreadRequest) => {
  // Each request runs on its own: a transaction's queries must pass a BEGIN still waiting for the lock.
  handle(request).then(
    (value) => reply({ id: request.id, ok: true, value }),
    (err: unknown) => reply({ id: request.id, ok: false, error: toThreadError(err) }),
  );
});
