// Fault tests: steady traffic against real server processes while PostgreSQL or Redis goes away,
// and the checks that the processes stayed up and every paid activation ended with money intact.
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestContext } from 'vitest';
import { backendEnv } from './backends.js';
import { type Sql, openSql, Processes, type ServerProcess, waitFor } from './processes.js';

const REQUEST_TIMEOUT_MS = 20_000;
/** Pause between two requests of one client, so the load stays modest on a shared machine. */
const PAUSE_MS = 25;

export interface Answer {
  what: 'activate' | 'account';
  path: string;
  status: number;
  code?: string;
  retryAfter?: string | null;
  /** When the request was sent and when its answer (or its failure) came, epoch ms. */
  startedAt: number;
  at: number;
  tookMs: number;
}

/** Processes, environment and database of one test (PostgreSQL); all removed when the test ends. */
export async function faultTest(context: TestContext) {
  const { env, cleanup } = await backendEnv('postgres');
  env.AUTH_RATE_LIMIT_PER_MINUTE = '100000';
  const procs = new Processes();
  const afterwards: (() => Promise<void> | void)[] = [];
  context.onTestFailed(() => {
    process.stderr.write(`${procs.describe()}\n`);
  });
  context.onTestFinished(async () => {
    await procs.killAll();
    for (const step of afterwards) await step();
    await cleanup();
    rmSync(env.DATA_DIR!, { recursive: true, force: true });
  });
  const db = await openSql(env);
  afterwards.push(() => db.close());
  return { env, procs, db, afterwards: (step: () => Promise<void> | void) => afterwards.push(step) };
}

/** Several clients that each activate an offer and read their account in a loop until stopped, timing every answer. */
export class Traffic {
  readonly answers: Answer[] = [];
  readonly accepted: string[] = [];
  #stopped = false;
  #loops: Promise<void>[] = [];

  constructor(
    private readonly baseUrl: string,
    private readonly tokens: string[],
    private readonly offerId: number,
    private readonly requestTimeoutMs = REQUEST_TIMEOUT_MS,
  ) {}

  start(): void {
    this.#loops = this.tokens.map((token) => this.#loop(token));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#loops);
  }

  /** Answers given between two instants. */
  between(from: number, to: number): Answer[] {
    return this.answers.filter((a) => a.at >= from && a.at <= to);
  }

  /** Successful answers to the requests sent since an instant. */
  successesSince(since: number): number {
    return this.answers.filter((a) => a.startedAt >= since && (a.status === 200 || a.status === 202)).length;
  }

  async #loop(token: string): Promise<void> {
    while (!this.#stopped) {
      const activation = await this.#send('activate', 'POST', '/api/v1/activation/', token, { offer_id: this.offerId });
      if (activation.status === 202 && activation.body?.transaction_id) this.accepted.push(activation.body.transaction_id);
      await this.#send('account', 'GET', '/api/v1/account/', token);
      await sleep(PAUSE_MS);
    }
  }

  async #send(what: Answer['what'], method: string, path: string, token: string, body?: unknown) {
    const startedAt = Date.now();
    let status = 0;
    let json: { code?: string; transaction_id?: string } | undefined;
    let retryAfter: string | null = null;
    try {
      const res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      json = (await res.json().catch(() => undefined)) as typeof json;
    } catch {
      // status 0: no answer at all (the process is gone or the request timed out)
    }
    const at = Date.now();
    this.answers.push({ what, path, status, code: json?.code, retryAfter, startedAt, at, tookMs: at - startedAt });
    return { status, body: json };
  }
}

/** Answers that are neither a success nor a well-formed 503 service_unavailable with Retry-After. */
export function badAnswers(answers: Answer[]): Answer[] {
  return answers.filter(
    (a) => !(a.status === 200 || a.status === 202 || (a.status === 503 && a.code === 'service_unavailable' && Number(a.retryAfter) > 0)),
  );
}

export async function readiness(baseUrl: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${baseUrl}/ready`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  return { status: res.status, body: await res.json() };
}

/** Activations of the test's database that are not final yet. */
export async function unfinishedActivations(db: Sql): Promise<{ id: string; status: string }[]> {
  return db.rows(`SELECT id::text, status FROM transactions WHERE type = 'ACTIVATION' AND status NOT IN ('SUCCESS', 'FAILED')`);
}

/** Waits until every activation in the database is SUCCESS or FAILED, until `deadline` (epoch ms). */
export async function waitUntilAllFinal(db: Sql, deadline: number, context: () => string): Promise<void> {
  let left: { id: string; status: string }[] = [];
  await waitFor(
    async () => {
      left = await unfinishedActivations(db);
      return left.length === 0 ? true : undefined;
    },
    {
      what: 'every activation to be final',
      timeoutMs: Math.max(0, deadline - Date.now()),
      intervalMs: 200,
      context: () => `unfinished: ${JSON.stringify(left.slice(0, 10))} (${left.length})\n${context()}`,
    },
  );
}

/**
 * The money equation over the whole database: credits = balances + what non-FAILED activations
 * kept, and exactly one REFUND for each FAILED activation (none for the others).
 */
export async function moneyEquation(db: Sql) {
  const [sums] = await db.rows<{ credits: string; balances: string; kept: string; holds: boolean }>(`
    WITH s AS (
      SELECT (SELECT COALESCE(sum(amount), 0) FROM transactions WHERE type = 'CREDIT') AS credits,
             (SELECT COALESCE(sum(balance), 0) FROM accounts) AS balances,
             (SELECT COALESCE(sum(amount), 0) FROM transactions WHERE type = 'ACTIVATION' AND status <> 'FAILED') AS kept)
    SELECT credits::text, balances::text, kept::text, credits = balances + kept AS holds FROM s`);
  const wrongRefunds = await db.rows<{ id: string; status: string; refunds: number }>(`
    SELECT a.id::text, a.status, count(r.id)::int AS refunds
      FROM transactions a
      LEFT JOIN transactions r ON r.type = 'REFUND' AND r.related_id::text = a.id::text
     WHERE a.type = 'ACTIVATION'
     GROUP BY a.id, a.status
    HAVING count(r.id) <> CASE WHEN a.status = 'FAILED' THEN 1 ELSE 0 END`);
  return { ...sums!, wrongRefunds };
}

/** The processes that are no longer running, with their output, for a failure message. */
export function exited(procs: ServerProcess[]): string[] {
  return procs.filter((p) => !p.running).map((p) => p.describe());
}
