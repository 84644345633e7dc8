// Kysely's pool over pg, sending each parameterised query as a named prepared statement: PostgreSQL
// then parses a given SQL text once per connection instead of on every call, which is most of its
// work for the small queries this service runs (see the closing note of the benchmarks issue).
import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';
import { DatabaseNotAnswering, isConnectionFailure } from './errors.js';

/** Distinct SQL texts that get a name; past this, queries go unnamed, so memory stays bounded. */
const MAX_NAMED_STATEMENTS = 2000;

class StatementNames {
  readonly #names = new Map<string, string>();

  nameOf(text: string): string | undefined {
    let name = this.#names.get(text);
    if (name === undefined && this.#names.size < MAX_NAMED_STATEMENTS) {
      name = `kysely_${this.#names.size}`;
      this.#names.set(text, name);
    }
    return name;
  }
}

class PreparingClient implements PostgresPoolClient {
  /** The connection failed under a query: the client goes back to the pool only to be destroyed. */
  #broken = false;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly names: StatementNames,
    private readonly queryTimeoutMs: number,
  ) {}

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(sqlOrCursor: string | PostgresCursor<R>, parameters?: ReadonlyArray<unknown>): unknown {
    if (typeof sqlOrCursor !== 'string') return this.client.query(sqlOrCursor as unknown as pg.Submittable);
    const values = parameters ? [...parameters] : [];
    // Statements without parameters (BEGIN, COMMIT, migrations' DDL) stay on the simple protocol.
    const name = values.length > 0 ? this.names.nameOf(sqlOrCursor) : undefined;
    const result = this.client.query(name === undefined ? { text: sqlOrCursor, values } : { name, text: sqlOrCursor, values });
    const watchdog = setTimeout(() => this.#abandon(), this.queryTimeoutMs).unref();
    return result.then(
      (rows) => {
        clearTimeout(watchdog);
        return rows;
      },
      (err: unknown) => {
        clearTimeout(watchdog);
        if (isConnectionFailure(err)) this.#broken = true;
        throw err;
      },
    );
  }

  /**
   * No answer in time. A server that is merely slow has cancelled the statement already
   * (statement_timeout sits below this bound), so the network or the host is gone: packets dropped
   * without a reset leave the socket open until TCP keepalive gives up, minutes later. Closing it
   * fails the query (and whatever else was queued on it) with DatabaseNotAnswering now, and the
   * client is destroyed on release. pg's own query_timeout is no substitute: it fails the query but
   * leaves it running on the connection, so the next query on that client would wait behind it.
   */
  #abandon(): void {
    this.#broken = true;
    this.client.connection.stream.destroy(new DatabaseNotAnswering(this.queryTimeoutMs));
  }

  release(destroy?: boolean): void {
    // PostgreSQL's FATAL message reaches the query before the socket closes; without this the
    // client would look healthy for that moment and the next request could be handed a dead one.
    this.client.release(destroy || this.#broken);
  }
}

export class PreparedStatementPool implements PostgresPool {
  readonly #names = new StatementNames();
  // Kysely keeps its connection state per client object, so each pg client keeps one wrapper.
  readonly #clients = new WeakMap<pg.PoolClient, PreparingClient>();

  constructor(
    private readonly pool: pg.Pool,
    /** The longest a query may go unanswered before its connection is closed; see PreparingClient. */
    private readonly queryTimeoutMs: number,
  ) {}

  get options(): object {
    return this.pool.options;
  }

  async connect(): Promise<PostgresPoolClient> {
    const client = await this.pool.connect();
    let wrapped = this.#clients.get(client);
    if (!wrapped) {
      wrapped = new PreparingClient(client, this.#names, this.queryTimeoutMs);
      this.#clients.set(client, wrapped);
    }
    return wrapped;
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}
