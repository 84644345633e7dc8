// Opens the database: PostgreSQL through a pg pool when a URL is given, embedded PGlite otherwise.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import { lockEmbeddedDatabase } from './embedded-lock.js';
import { PreparedStatementPool } from './prepared-pool.js';
import type { DB } from './types.js';

export type Database = Kysely<DB>;
export type DatabaseKind = 'postgres' | 'pglite';

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  /** A folder for PGlite's files, or 'memory://' for a throw-away database. */
  pgliteDir: string;
  poolSize?: number;
  /**
   * Told when an idle pooled connection dies (PostgreSQL restarted, an admin ended the session).
   * The pool drops that connection and opens a new one on the next query; without a listener the
   * pool's 'error' event would be an uncaught exception and stop the process.
   */
  onIdleConnectionError?: (err: Error) => void;
}

const INT8_OID = 20;

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
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      // COUNT(*) and identity columns are int8; every one we read fits a JS number.
      types: { getTypeParser: (oid, format) => (oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)) },
    });
    pool.on('error', options.onIdleConnectionError ?? (() => {}));
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: new PreparedStatementPool(pool) }) });
    return { db, kind: 'postgres', close: () => db.destroy() };
  }
  const inMemory = options.pgliteDir.startsWith('memory://');
  if (!inMemory) mkdirSync(options.pgliteDir, { recursive: true });
  const release = inMemory ? () => {} : lockEmbeddedDatabase(options.pgliteDir);
  // Kysely's own PGlite dialect serialises transactions on PGlite's single connection.
  const pglite = new PGlite(options.pgliteDir);
  const db = new Kysely<DB>({ dialect: new PGliteDialect({ pglite }) });
  return {
    db,
    kind: 'pglite',
    close: async () => {
      await db.destroy();
      release();
    },
  };
}
