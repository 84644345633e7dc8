// Fault tests: steady traffic against real server processes while PostgreSQL or Redis goes away,
// and the checks that the processes stayed up and every paid activation ended with money intact.
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, type TestContext } from 'vitest';
import { backendEnv } from './backends.js';
import { adminLogin, newOffer, newUser, type Sql, openSql, Processes, type ServerProcess, waitFor } from './processes.js';
import { TcpProxy } from './tcp-proxy.js';

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
  /** A proxy in front of `url` (PostgreSQL or Redis), closed when the test ends. */
  const proxyTo = async (url: string) => {
    const proxy = await TcpProxy.forUrl(url);
    afterwards.push(() => proxy.close());
    return proxy;
  };
  return { env, procs, db, proxyTo };
}

export type Role = 'all' | 'api' | 'worker';

/**
 * Starts one process per role, in order; the first one serves HTTP. ROLE=all runs on PostgreSQL
 * alone, with the in-process queue, so that both queue kinds meet the outages.
 */
export async function startService(procs: Processes, roles: Role[], env: Record<string, string>): Promise<ServerProcess[]> {
  const serviceEnv = { ...env };
  if (roles.includes('all')) {
    delete serviceEnv.REDIS_URL;
    delete serviceEnv.REDIS_KEY_PREFIX;
  }
  const started: ServerProcess[] = [];
  for (const role of roles) started.push(await procs.start(role, { ...serviceEnv, ROLE: role }));
  return started;
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

/**
 * An admin, an offer at 1.00 and `clients` users with enough money for every activation they try,
 * sending traffic; returns once it has had a few activations accepted.
 */
export async function trafficUnderway(baseUrl: string, clients: number, options: { requestTimeoutMs?: number } = {}) {
  const admin = await adminLogin(baseUrl);
  const offer = await newOffer(baseUrl, admin, '1.00');
  const users = await Promise.all(Array.from({ length: clients }, () => newUser(baseUrl, admin, '10000.00')));
  const tokens = users.map((u) => u.token);
  const traffic = new Traffic(baseUrl, tokens, offer.id, options.requestTimeoutMs);
  traffic.start();
  await waitFor(async () => (traffic.accepted.length >= 5 ? true : undefined), { what: 'activations before the fault', timeoutMs: 20_000 });
  return { traffic, tokens };
}

/**
 * Takes the network away at the proxy for `outageMs` ('cut': connections end; 'blackhole': packets
 * are dropped silently), waiting meanwhile for /ready to say 503, at most `notReadyWithinMs`; then
 * restores it and waits for /ready to say 200 again. Returns the instants and the 503's body.
 */
export async function networkOutage(
  proxy: TcpProxy,
  baseUrl: string,
  options: { how: 'cut' | 'blackhole'; outageMs: number; notReadyWithinMs: number },
): Promise<{ startedAt: number; restoredAt: number; notReady: unknown }> {
  const startedAt = Date.now();
  if (options.how === 'cut') proxy.cut();
  else proxy.blackhole();
  const during = await waitFor(
    async () => {
      const ready = await readiness(baseUrl);
      return ready.status === 503 ? ready : undefined;
    },
    { what: `/ready to say 503 during the ${options.how}`, timeoutMs: options.notReadyWithinMs },
  );
  await sleep(Math.max(0, startedAt + options.outageMs - Date.now()));
  const restoredAt = Date.now();
  proxy.restore();

  await waitFor(async () => ((await readiness(baseUrl)).status === 200 ? true : undefined), {
    what: `/ready to say 200 after the ${options.how}`,
    timeoutMs: 15_000,
  });
  return { startedAt, restoredAt, notReady: during.body };
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

/**
 * How every fault test ends: once all activations are final (waiting until `deadline`, epoch ms),
 * none is left unfinished, or with `allSucceeded` none but SUCCESS; every accepted one is among
 * them; and the money equation holds.
 */
export async function expectSettled(
  db: Sql,
  accepted: string[],
  options: { deadline: number; context: () => string; allSucceeded?: boolean },
): Promise<void> {
  await waitUntilAllFinal(db, options.deadline, options.context);
  if (!options.allSucceeded) expect(await unfinishedActivations(db)).toEqual([]);
  const activations = await db.rows<{ id: string; status: string }>(`SELECT id::text, status FROM transactions WHERE type = 'ACTIVATION'`);
  if (options.allSucceeded) expect(activations.filter((a) => a.status !== 'SUCCESS')).toEqual([]);
  expect(activations.map((a) => a.id)).toEqual(expect.arrayContaining(accepted));
  const money = await moneyEquation(db);
  expect(money, JSON.stringify(money)).toMatchObject({ holds: true, wrongRefunds: [] });
}

/** The processes that are no longer running, with their output, for a failure message. */
export function exited(procs: ServerProcess[]): string[] {
  return procs.filter((p) => !p.running).map((p) => p.describe());
}
