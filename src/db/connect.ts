// Opens the database: PostgreSQL through a pg pool when a URL is given, embedded PGlite otherwise.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import { lockEmbeddedDatabase } from './embedded-lock.js';
import { PGliteThread } from './pglite-thread.js';
import { PreparedStatementPool } from './prepared-pool.js';
import type { DB } from './types.js';

/**
 * PostgreSQL's default 128 MB of shared buffers live in PGlite's WebAssembly memory, and all of it
 * ends up resident: with 16 MB the embedded service's peak RSS drops by about 120 MB. Pages missed
 * here are still in the operating system's cache (PGlite reads its files through it).
 */
const EMBEDDED_SETTINGS = ['-c', 'shared_buffers=16MB'];

export type Database = Kysely<DB>;
export type DatabaseKind = 'postgres' | 'pglite';

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  /** A folder for PGlite's files, or 'memory://' for a throw-away database. */
  pgliteDir: string;
  poolSize?: number;
  /**
   * The longest a query may go unanswered before its connection is closed and the query fails as
   * unavailable (PostgreSQL only). PostgreSQL's own statement_timeout is set just under it.
   */
  queryTimeoutMs?: number;
  /**
   * Told when a pooled connection dies (PostgreSQL restarted or failed over, an admin ended the
   * session, the network was cut), whether it was idle or in use. The pool drops that connection
   * and opens a new one on the next query.
   */
  onConnectionLost?: (err: Error) => void;
}

const INT8_OID = 20;
/**
 * How long a query may wait for a connection (a new one, or a busy pool's next free one) before it
 * fails; never longer than the query bound, so a request waits at most twice that bound in all.
 */
const CONNECT_TIMEOUT_MS = 5000;
const DEFAULT_QUERY_TIMEOUT_MS = 15_000;
/**
 * PostgreSQL cancels a statement at this share of the query bound: a merely slow query then ends
 * with 57014 on a connection that stays usable, and the client-side watchdog only fires when no
 * answer can come at all (the network or the host is gone).
 */
const STATEMENT_TIMEOUT_SHARE = 0.9;
/** Idle time before TCP keepalive probes start, so a connection cut without a FIN or RST is noticed. */
const KEEPALIVE_DELAY_MS = 10_000;

export function embeddedDir(dataDir: string): string {
  return join(dataDir, 'pgdata');
}

export interface OpenedDatabase {
  db: Database;
  kind: DatabaseKind;
  /** Closes the pool or PGlite and releases the embedded lock. */
  close(): Promise<void>;
}

export function openDatabase(options: DatabaseOptions): OpenedDatabase {
  if (options.databaseUrl) {
    const queryTimeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: Math.min(CONNECT_TIMEOUT_MS, queryTimeoutMs),
      statement_timeout: Math.floor(queryTimeoutMs * STATEMENT_TIMEOUT_SHARE),
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
      // COUNT(*) and identity columns are int8; every one we read fits a JS number.
      types: { getTypeParser: (oid, format) => (oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)) },
    });
    const onConnectionLost = options.onConnectionLost ?? (() => {});
    // pg emits 'error' on a client whose connection breaks, and pg-pool listens only while the client
    // is idle: a break while a request or a job holds the client (in a transaction, between two
    // queries) would be an uncaught exception that ends the process. Every client gets a listener
    // for its whole life; the query in flight fails on its own and the pool drops the client.
    // pg may emit 'error' more than once for one broken connection (the server's FATAL message,
    // then the closed socket); the log says once per connection.
    pool.on('connect', (client) => {
      let reported = false;
      client.on('error', (err) => {
        if (reported) return;
        reported = true;
        onConnectionLost(err);
      });
    });
    // The idle case is reported by the client's own listener above; the pool repeats it here.
    pool.on('error', () => {});
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: new PreparedStatementPool(pool, queryTimeoutMs) }) });
    return { db, kind: 'postgres', close: () => db.destroy() };
  }
  const inMemory = options.pgliteDir.startsWith('memory://');
  if (!inMemory) mkdirSync(options.pgliteDir, { recursive: true });
  const release = inMemory ? () => {} : lockEmbeddedDatabase(options.pgliteDir);
  // Kysely's own PGlite dialect serialises transactions on PGlite's single connection; PGlite itself
  // runs in a worker thread so its queries do not stop the event loop.
  const pglite = new PGliteThread(options.pgliteDir, EMBEDDED_SETTINGS);
  const db = new Kysely<DB>({ dialect: new PGliteDialect({ pglite }) });
  return {
    db,
    kind: 'pglite',
    close: async () => {
      await db.destroy();
      // Kysely closes only a PGlite it has used; the thread must end either way.
      await pglite.close();
      release();
    },
  };
}
