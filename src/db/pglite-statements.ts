// Named prepared statements for the PGlite thread. PGlite's query() parses and describes its SQL as
// the unnamed statement on every call, in six separate trips into PostgreSQL; that cost more than
// planning and running the service's small queries. Here a repeated SQL text is parsed once, and
// each call is one trip: Bind, Describe, Execute and Sync together.
import { parse, protocol, type PGlite, type Results } from '@electric-sql/pglite';
import { LRUCache } from 'lru-cache';
import type { QueryOptions } from './pglite-thread-protocol.js';

/** Distinct SQL texts kept prepared; the least recently used beyond this is closed. */
export const MAX_PREPARED_STATEMENTS = 300;

/**
 * Commands that cannot change what a prepared statement means. Any other (DDL, SET, DO, DISCARD...)
 * drops every statement: PostgreSQL replans on its own, but refuses to, with 0A000, when a table's
 * columns changed under a statement that returns them.
 */
const DATA_COMMANDS = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE']);
/** "cached plan must not change result type" (and "prepared statement does not exist", 26000). */
const STALE_STATEMENT = new Set(['0A000', '26000']);

interface Statement {
  name: string;
  paramTypes: number[];
}

type DatabaseError = InstanceType<typeof protocol.messages.DatabaseError> & { query?: string };

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export class PreparedStatements {
  /** Statements to Close, sent ahead of the next message (Close is allowed even in a failed transaction). */
  #closing: Uint8Array[] = [];
  /** By SQL text; one dropped (evicted, stale or cleared) is closed with the next trip. */
  readonly #statements = new LRUCache<string, Statement>({
    max: MAX_PREPARED_STATEMENTS,
    dispose: (statement) => this.#closing.push(protocol.serialize.close({ type: 'S', name: statement.name })),
  });
  #nextName = 0;
  /** A transaction ran a command that dropped the statements: those prepared after it die with its rollback. */
  #droppedInTransaction = false;

  constructor(private readonly pglite: PGlite) {}

  /** Same contract as PGlite's query() and Transaction.query(); the caller holds PGlite's locks. */
  async query(sql: string, params: unknown[], options: QueryOptions | undefined, inTransaction: boolean): Promise<Results> {
    try {
      const results = params.length === 0 ? await this.#unnamed(sql, options) : await this.#prepared(sql, params, options, inTransaction);
      if (results.command !== undefined && !DATA_COMMANDS.has(results.command)) this.#dropAll(inTransaction);
      if (!inTransaction) await this.pglite.syncToFs();
      return results;
    } catch (err) {
      // As PGlite's query() does: the failing SQL goes with PostgreSQL's error.
      if (err instanceof protocol.messages.DatabaseError) (err as DatabaseError).query = sql;
      throw err;
    }
  }

  /** Called as a transaction ends, before its COMMIT or ROLLBACK. */
  transactionEnding(): void {
    if (this.#droppedInTransaction) this.#dropAll(false);
  }

  /** Statements without parameters (DDL, migrations' bookkeeping) go unnamed, as before, in one trip. */
  async #unnamed(sql: string, options: QueryOptions | undefined): Promise<Results> {
    return this.#send(
      [protocol.serialize.parse({ text: sql }), protocol.serialize.bind({}), protocol.serialize.describe({ type: 'P' }), protocol.serialize.execute({})],
      options,
    );
  }

  async #prepared(sql: string, params: unknown[], options: QueryOptions | undefined, inTransaction: boolean): Promise<Results> {
    for (let attempt = 1; ; attempt++) {
      const statement = this.#statements.get(sql) ?? (await this.#prepare(sql));
      try {
        return await this.#send(
          [
            protocol.serialize.bind({ statement: statement.name, values: this.#serialise(params, statement.paramTypes) }),
            protocol.serialize.describe({ type: 'P' }),
            protocol.serialize.execute({}),
          ],
          options,
        );
      } catch (err) {
        if (!(err instanceof protocol.messages.DatabaseError) || !STALE_STATEMENT.has(err.code ?? '')) throw err;
        if (this.#statements.peek(sql) === statement) this.#statements.delete(sql);
        // Outside a transaction the failed call left nothing behind and the fresh statement can run;
        // inside one the transaction is aborted and the error is the caller's.
        if (inTransaction || attempt > 1) throw err;
      }
    }
  }

  async #prepare(sql: string): Promise<Statement> {
    const name = `offers_${this.#nextName++}`;
    // A Parse that fails (bad SQL, a failed transaction) creates nothing, and nothing is cached.
    const messages = await this.#exchange([protocol.serialize.parse({ name, text: sql }), protocol.serialize.describe({ type: 'S', name })]);
    const statement = { name, paramTypes: parse.parseDescribeStatementResults(messages) };
    this.#statements.set(sql, statement);
    return statement;
  }

  /** As PGlite's query() turns parameters into text: by the type PostgreSQL inferred for each. */
  #serialise(params: unknown[], types: number[]): Array<string | null> {
    return params.map((param, i) => {
      if (param === null || param === undefined) return null;
      const serialise = this.pglite.serializers[types[i]!];
      return serialise ? (serialise(param) as string) : String(param);
    });
  }

  async #send(messages: Uint8Array[], options: QueryOptions | undefined): Promise<Results> {
    return parse.parseResults(await this.#exchange(messages), this.pglite.parsers, options)[0]!;
  }

  /** One trip into PostgreSQL, ended by Sync; throws the first error PostgreSQL reported. */
  async #exchange(messages: Uint8Array[]) {
    const closing = this.#closing;
    this.#closing = [];
    return this.pglite.execProtocolStream(concat([...closing, ...messages, protocol.serialize.sync()]), { syncToFs: false });
  }

  #dropAll(inTransaction: boolean): void {
    this.#statements.clear();
    this.#droppedInTransaction = inTransaction;
  }
}
