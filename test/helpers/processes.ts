// The server as real processes (src/server.ts through tsx), a small HTTP client over real sockets,
// and read-only SQL on the database they share, for crash, shutdown and scale-out tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { embeddedDir, openDatabase } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import type { TestContext } from 'vitest';
import { ADMIN, type Backend, backendEnv } from './backends.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 20_000;
const OUTPUT_TAIL_CHARS = 8000;
const ACCESS_LOG = /"msg":"(incoming request|request completed)"/;

// Settings the parent may carry that would silently change the backend under test (or, for the
// malloc setting, what the start-up log test expects to be missing unless it sets it).
const INHERITED_OUT = new Set(['DATABASE_URL', 'REDIS_URL', 'PARTNER_URL', 'ROLE', 'PORT', 'HOST', 'DATA_DIR', 'MALLOC_MMAP_THRESHOLD_']);

function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name.startsWith('TEST_') || INHERITED_OUT.has(name)) continue;
    env[name] = value;
  }
  return env;
}

/** How the tests run the server unless they say otherwise: the sources through tsx, no build. */
const SERVER_FROM_SOURCE = [process.execPath, '--import', 'tsx', 'src/server.ts'];

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface LogLine {
  msg?: string;
  reqId?: string;
  [key: string]: unknown;
}

export class ServerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  #exit: Exit | undefined;
  #output = '';
  /** The HTTP port the server reported once listening (it binds port 0, so no other process can take it first). */
  port: number | undefined;

  constructor(
    readonly name: string,
    readonly env: Record<string, string>,
    command: readonly string[] = SERVER_FROM_SOURCE,
  ) {
    this.child = spawn(command[0]!, command.slice(1), {
      cwd: repoRoot,
      env: { ...inheritedEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.#output += chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.#output += chunk));
    // 'close' rather than 'exit': by then stdout and stderr are drained, so the output is complete.
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
  }

  get url(): string {
    if (this.port === undefined) throw new Error(`${this.name} has no HTTP port (ROLE=worker)`);
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  get output(): string {
    return this.#output;
  }

  /** The pino JSON lines written so far. */
  logs(): LogLine[] {
    return this.#output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as LogLine];
        } catch {
          return [];
        }
      });
  }

  /** Index of the first log line matching, or -1. */
  logIndex(match: (line: LogLine) => boolean): number {
    return this.logs().findIndex(match);
  }

  /** The output's tail, without the per-request access log lines, for failure messages. */
  describe(): string {
    const state = this.#exit ? `exited code=${this.#exit.code} signal=${this.#exit.signal}` : 'running';
    const lines = this.#output.split('\n').filter((line) => !ACCESS_LOG.test(line));
    return `--- ${this.name} (pid ${this.child.pid}, ${state}) ---\n${lines.join('\n').slice(-OUTPUT_TAIL_CHARS)}`;
  }

  /** Waits until a log line matches; fails early if the process exits. */
  async waitForLog(match: (line: LogLine) => boolean, what: string, timeoutMs = START_TIMEOUT_MS): Promise<void> {
    await waitFor(
      async () => {
        if (this.logIndex(match) >= 0) return true;
        if (!this.running) throw new Error(`${this.name} exited while waiting for ${what}\n${this.describe()}`);
        return undefined;
      },
      { what: `${this.name}: ${what}`, timeoutMs, intervalMs: 25, context: () => this.describe() },
    );
  }

  async signal(signal: NodeJS.Signals): Promise<void> {
    if (this.running) this.child.kill(signal);
  }

  /** Sends the signal and waits (bounded) for the exit. */
  async kill(signal: NodeJS.Signals, timeoutMs = STOP_TIMEOUT_MS): Promise<Exit> {
    await this.signal(signal);
    const exit = await Promise.race([this.exited, sleep(timeoutMs).then(() => undefined)]);
    if (!exit) {
      this.child.kill('SIGKILL');
      throw new Error(`${this.name} did not exit within ${timeoutMs} ms after ${signal}\n${this.describe()}`);
    }
    return exit;
  }
}

const LISTENING = /^Server listening at http:\/\/127\.0\.0\.1:(\d+)$/;

/** Every process a test starts, so that all of them are killed when it ends, whatever happened. */
export class Processes {
  readonly #all: ServerProcess[] = [];

  /** Starts src/server.ts (or `command`) with the given environment and waits until it logged "started". */
  async start(name: string, env: Record<string, string>, command?: readonly string[]): Promise<ServerProcess> {
    // The start-up and job logs are how the tests know what a process did, so they are always on.
    const proc = new ServerProcess(name, { ...env, HOST: '127.0.0.1', LOG_LEVEL: 'info', PORT: '0' }, command);
    this.#all.push(proc);
    await proc.waitForLog((line) => line.msg === 'started', 'start-up');
    if (env.ROLE !== 'worker') {
      const listening = proc.logs().find((line) => typeof line.msg === 'string' && LISTENING.test(line.msg));
      if (!listening) throw new Error(`${name} started without logging its port\n${proc.describe()}`);
      proc.port = Number(LISTENING.exec(listening.msg as string)![1]);
    }
    return proc;
  }

  describe(): string {
    return this.#all.map((p) => p.describe()).join('\n');
  }

  async killAll(): Promise<void> {
    await Promise.all(
      this.#all.filter((p) => p.running).map((p) => p.kill('SIGKILL', 10_000).catch(() => undefined)),
    );
  }
}

/** Polls until `check` returns a value other than undefined; throws after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  options: { what: string; timeoutMs: number; intervalMs?: number; context?: () => string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}\n${options.context?.() ?? ''}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}

let template: Promise<string> | undefined;

/**
 * Gives DATA_DIR a migrated PGlite database. A fresh PGlite runs initdb, seconds of CPU each time;
 * copying one migrated data directory instead keeps several embedded tests affordable side by side.
 * The server still opens it, checks the migrations and creates its admin as on any start.
 */
export async function prepareEmbeddedDataDir(dataDir: string): Promise<void> {
  template ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'offers-template-'));
    const { db } = openDatabase({ pgliteDir: embeddedDir(dir) });
    await migrateToLatest(db);
    await db.destroy();
    return dir;
  })();
  cpSync(embeddedDir(await template), embeddedDir(dataDir), { recursive: true });
}

/** For afterAll: removes the migrated data directory that prepareEmbeddedDataDir copies. */
export async function removeEmbeddedTemplate(): Promise<void> {
  const dir = await template?.catch(() => undefined);
  template = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------- HTTP over real sockets

export interface HttpResult<T = unknown> {
  status: number;
  body: T;
}

export async function call<T = Record<string, unknown>>(
  baseUrl: string,
  method: 'GET' | 'POST' | 'PATCH',
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResult<T>> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the failure message
  }
  return { status: res.status, body: body as T };
}

async function expectStatus<T>(result: Promise<HttpResult<T>>, status: number, what: string): Promise<T> {
  const res = await result;
  if (res.status !== status) throw new Error(`${what}: expected HTTP ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function login(baseUrl: string, username: string, password: string): Promise<string> {
  const body = await expectStatus(call<{ access: string }>(baseUrl, 'POST', '/api/v1/auth/login/', { body: { username, password } }), 200, 'login');
  return body.access;
}

export const adminLogin = (baseUrl: string) => login(baseUrl, ADMIN.username, ADMIN.password);

export interface ProcessUser {
  id: number;
  username: string;
  password: string;
  token: string;
}

/** Registers a user, credits it through the admin API when `balance` is given, and logs it in. */
export async function newUser(baseUrl: string, adminToken: string, balance?: string): Promise<ProcessUser> {
  const username = `proc_${randomUUID().slice(0, 12).replace(/-/g, '')}`;
  const password = 'correct horse battery';
  const { id } = await expectStatus(
    call<{ id: number }>(baseUrl, 'POST', '/api/v1/auth/register/', { body: { username, password } }),
    201,
    'register',
  );
  if (balance) {
    await expectStatus(
      call(baseUrl, 'POST', `/api/v1/admin/users/${id}/credit/`, { token: adminToken, body: { amount: balance, reason: 'process test' } }),
      201,
      'credit',
    );
  }
  return { id, username, password, token: await login(baseUrl, username, password) };
}

export async function newOffer(baseUrl: string, adminToken: string, price: string): Promise<{ id: number; price: string }> {
  return expectStatus(
    call<{ id: number; price: string }>(baseUrl, 'POST', '/api/v1/admin/offers/', {
      token: adminToken,
      body: { name: `offer_${randomUUID().slice(0, 8)}`, description: 'process test offer', price, duration_days: 30 },
    }),
    201,
    'create offer',
  );
}

export const activate = (baseUrl: string, token: string, offerId: number) =>
  call<{ transaction_id: string; status: string; code?: string }>(baseUrl, 'POST', '/api/v1/activation/', { token, body: { offer_id: offerId } });

export async function activationStatus(baseUrl: string, token: string, id: string): Promise<string> {
  const body = await expectStatus(
    call<{ status: string }>(baseUrl, 'GET', `/api/v1/activation/status/${id}/`, { token }),
    200,
    'activation status',
  );
  return body.status;
}

/** Polls the status endpoint until it shows `status` (bounded). */
export async function waitForStatus(
  baseUrl: string,
  token: string,
  id: string,
  status: string,
  options: { timeoutMs?: number; context?: () => string } = {},
): Promise<void> {
  let seen = '';
  await waitFor(
    async () => {
      seen = await activationStatus(baseUrl, token, id);
      return seen === status ? true : undefined;
    },
    {
      what: `activation ${id} to be ${status}`,
      timeoutMs: options.timeoutMs ?? 30_000,
      intervalMs: 25,
      context: () => `last status seen: ${seen}\n${options.context?.() ?? ''}`,
    },
  );
}

/**
 * Sends a POST's headers and the first byte of its body over a raw keep-alive connection, and
 * holds the rest back until `finish()`: the server has the request in flight for as long as the
 * test wants. Like a proxy, the client never closes the connection itself; only `close()` does.
 */
export function heldRequest(baseUrl: string, path: string, body: unknown) {
  const url = new URL(path, baseUrl);
  const payload = Buffer.from(JSON.stringify(body));
  const requestId = randomUUID();
  const socket = connect(Number(url.port), url.hostname);
  const response = new Promise<HttpResult & { headers: Record<string, string> }>((resolve, reject) => {
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const headEnd = received.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const [statusLine, ...lines] = received.subarray(0, headEnd).toString('latin1').split('\r\n');
      const headers = Object.fromEntries(
        lines.map((line) => [line.slice(0, line.indexOf(':')).trim().toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
      );
      const bodyBytes = received.subarray(headEnd + 4);
      if (bodyBytes.length < Number(headers['content-length'] ?? 0)) return;
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: JSON.parse(bodyBytes.toString('utf8')) as unknown });
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('the connection closed before a whole response arrived')));
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy(new Error('held request timed out')));
  });
  // A test that fails before awaiting the response must not also report an unhandled rejection.
  response.catch(() => undefined);
  socket.write(
    `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: keep-alive\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${payload.length}\r\nX-Request-Id: ${requestId}\r\n\r\n`,
  );
  socket.write(payload.subarray(0, 1));
  return {
    requestId,
    response,
    finish: () => {
      socket.write(payload.subarray(1));
    },
    close: () => {
      socket.destroy();
    },
  };
}

// ---------------------------------------------------------------- the database, read-only

export interface Sql {
  rows<T>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/**
 * Opens the database the processes used. PGlite allows one process at a time, so for the embedded
 * backend call this only after every server on that DATA_DIR has exited.
 */
export async function openSql(env: Record<string, string>): Promise<Sql> {
  if (env.DATABASE_URL) {
    const client = new pg.Client({ connectionString: env.DATABASE_URL });
    await client.connect();
    return {
      rows: async <T>(text: string, params: unknown[] = []) => (await client.query(text, params)).rows as T[],
      close: () => client.end(),
    };
  }
  const pglite = new PGlite(embeddedDir(env.DATA_DIR!));
  return {
    rows: async <T>(text: string, params: unknown[] = []) => (await pglite.query<T>(text, params)).rows,
    close: () => pglite.close(),
  };
}

/**
 * The processes, environment and database of one test, all killed and removed when it ends; on a
 * failure the processes' output goes to stderr. `query` reads the database through its own
 * connection (for the embedded backend, only once the processes have exited).
 */
export async function processTest(context: TestContext, backend: Backend, commonEnv: Record<string, string> = {}) {
  const { env, cleanup } = await backendEnv(backend);
  Object.assign(env, commonEnv);
  const procs = new Processes();
  context.onTestFailed(() => {
    process.stderr.write(`${procs.describe()}\n`);
  });
  context.onTestFinished(async () => {
    await procs.killAll();
    await cleanup();
    rmSync(env.DATA_DIR!, { recursive: true, force: true });
  });
  if (backend === 'embedded') await prepareEmbeddedDataDir(env.DATA_DIR!);
  const query = async <T>(read: (db: Sql) => Promise<T>): Promise<T> => {
    const db = await openSql(env);
    try {
      return await read(db);
    } finally {
      await db.close();
    }
  };
  return { env, procs, query };
}

export interface ActivationRow {
  id: string;
  user_id: number;
  status: string;
  amount: string;
  attempts: number;
  completed_at: string | null;
}

/** What the database says about one user's money: activations, refunds, balance, ledger. */
export async function moneyOf(db: Sql, userId: number) {
  const activations = await db.rows<ActivationRow>(
    `SELECT id::text, user_id, status, amount::text, attempts, completed_at::text
       FROM transactions WHERE user_id = $1 AND type = 'ACTIVATION' ORDER BY seq`,
    [userId],
  );
  const [refunds] = await db.rows<{ n: number }>(
    `SELECT count(*)::int AS n FROM transactions WHERE user_id = $1 AND type = 'REFUND'`,
    [userId],
  );
  const [account] = await db.rows<{ balance: string }>(`SELECT balance::text FROM accounts WHERE user_id = $1`, [userId]);
  const ledgerRows = await db.rows<{ transaction_id: string; amount: string }>(
    `SELECT transaction_id::text, amount::text FROM ledger_entries WHERE user_id = $1 ORDER BY id`,
    [userId],
  );
  return { activations, refunds: refunds!.n, balance: account!.balance, ledgerRows };
}
