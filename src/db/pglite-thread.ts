// Embedded PGlite in a worker thread. PGlite runs PostgreSQL as WebAssembly on the thread that calls
// it, so on the main thread every query stopped HTTP for its whole run. This object has the shape
// Kysely's PGliteDialect expects of a PGlite instance and forwards each call to pglite-worker.ts;
// the dialect's transaction handling (one at a time, under PGlite's own lock) is unchanged.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { QueryOptions, ThreadError, ThreadReply, ThreadRequest } from './pglite-thread-protocol.js';

export interface ThreadResults<T> {
  rows: T[];
  fields: { name: string; dataTypeID: number }[];
  affectedRows?: number;
}

export interface ThreadTransaction {
  query<T>(sql: string, params?: unknown[], options?: QueryOptions): Promise<ThreadResults<T>>;
  rollback(): Promise<void>;
}

type Distribute<R> = R extends unknown ? Omit<R, 'id'> : never;

function fromThreadError(error: ThreadError): Error {
  const err = new Error(error.message);
  Object.assign(err, error.fields);
  err.name = error.name;
  if (error.stack) err.stack = error.stack;
  return err;
}

/**
 * tsx's ESM API file. require.resolve picks the CommonJS build, which cannot register the loader
 * in a worker, so the ESM one is read from the package's export map.
 */
function tsxEsmApi(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('tsx/package.json');
  const { exports } = require(manifest) as { exports: Record<string, { import: { default: string } }> };
  return join(dirname(manifest), exports['./esm/api']!.import.default);
}

/**
 * The thread's JavaScript only turns query results into messages; V8 would still give it a young
 * generation of 32 MB (two 16 MB semi-spaces), all of it resident once used. 4 MB semi-spaces
 * keep that to about 12 MB; objects that outlive them (none do for long here) move to the old
 * generation, which keeps V8's default limit.
 */
const RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 12 };

/** The worker's entry: the built .js next to this file, or the .ts source through tsx (tests, `tsx src/...`). */
function startWorker(dataDir: string, settings: string[]): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './pglite-worker.ts' : './pglite-worker.js', import.meta.url);
  const options = { workerData: { dataDir, settings }, resourceLimits: RESOURCE_LIMITS };
  if (!fromSource) return new Worker(entry, options);
  const tsx = pathToFileURL(tsxEsmApi()).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => m.tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(import.meta.url)}))`;
  return new Worker(boot, { ...options, eval: true });
}

export class PGliteThread {
  ready = false;
  closed = false;
  readonly waitReady: Promise<void>;
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
  #nextId = 1;
  /** Set once the worker is gone: every later call fails with it. */
  #gone: Error | undefined;

  /** `settings`: PostgreSQL start-up options (`-c name=value` pairs) on top of PGlite's defaults. */
  constructor(dataDir: string, settings: string[] = []) {
    this.#worker = startWorker(dataDir, settings);
    // An idle database must not keep the process alive, as PGlite on the main thread did not;
    // a call in flight does (see #call).
    this.#worker.unref();
    this.waitReady = new Promise<void>((resolve, reject) => this.#pending.set(0, { resolve: () => resolve(), reject }));
    this.#worker.ref();
    void this.waitReady.then(
      () => (this.ready = true),
      () => {},
    );
    this.#worker.on('message', (reply: ThreadReply) => this.#settle(reply));
    this.#worker.on('error', (err) => this.#fail(err));
    this.#worker.on('exit', (code) => this.#fail(new Error(`the PGlite worker thread stopped (exit code ${code})`)));
  }

  query<T>(sql: string, params?: unknown[], options?: QueryOptions): Promise<ThreadResults<T>> {
    return this.#call({ op: 'query', sql, params, options, tx: undefined }) as Promise<ThreadResults<T>>;
  }

  /** Same contract as PGlite's: commits when `callback` resolves, rolls back and rethrows when it throws. */
  async transaction<T>(callback: (tx: ThreadTransaction) => Promise<T>): Promise<T> {
    const id = (await this.#call({ op: 'begin' })) as number;
    const tx: ThreadTransaction = {
      query: <R>(sql: string, params?: unknown[], options?: QueryOptions) =>
        this.#call({ op: 'query', sql, params, options, tx: id }) as Promise<ThreadResults<R>>,
      rollback: async () => {
        await this.#call({ op: 'rollback', tx: id });
      },
    };
    let value: T;
    try {
      value = await callback(tx);
    } catch (err) {
      await this.#call({ op: 'end', tx: id, commit: false });
      throw err;
    }
    await this.#call({ op: 'end', tx: id, commit: true });
    return value;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (!this.#gone) await this.#call({ op: 'close' });
    } finally {
      await this.#worker.terminate();
    }
  }

  #call(request: Distribute<ThreadRequest>): Promise<unknown> {
    if (this.#gone) return Promise.reject(this.#gone);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...request, id } as ThreadRequest);
    });
  }

  #settle(reply: ThreadReply): void {
    const waiter = this.#pending.get(reply.id);
    if (!waiter) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker.unref();
    if (reply.ok) waiter.resolve(reply.value);
    else waiter.reject(fromThreadError(reply.error));
  }

  #fail(err: Error): void {
    this.#gone ??= err;
    this.closed = true;
    for (const waiter of this.#pending.values()) waiter.reject(this.#gone);
    this.#pending.clear();
  }
}
