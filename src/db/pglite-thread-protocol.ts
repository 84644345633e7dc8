// The messages between the main thread (pglite-thread.ts) and the PGlite worker (pglite-worker.ts).

export interface QueryOptions {
  rowMode?: 'array' | 'object';
}

export type ThreadRequest =
  | { id: number; op: 'query'; sql: string; params: unknown[] | undefined; options: QueryOptions | undefined; tx: number | undefined }
  | { id: number; op: 'begin' }
  | { id: number; op: 'end'; tx: number; commit: boolean }
  | { id: number; op: 'rollback'; tx: number }
  | { id: number; op: 'close' };

/** An error as it crosses the thread boundary: PostgreSQL's fields (code, detail, constraint...) kept. */
export interface ThreadError {
  message: string;
  name: string;
  stack?: string | undefined;
  fields: Record<string, string | number | boolean>;
}

/** id 0 answers the start-up (PGlite ready or failed). */
export type ThreadReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: ThreadError };
