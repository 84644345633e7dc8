// `npm run bench [-- --mode embedded|postgres]`: builds the service, seeds a fresh database with
// bench/seed.ts, runs the service as separate processes, drives every journey step with autocannon and
// compares each figure with a baseline measured in the same run. See README "## Performance".
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { Redis } from 'ioredis';
import pg from 'pg';
import { embeddedDir } from '../src/db/connect.js';
import { MetricsRegistry } from '../src/metrics/registry.js';
import { chargeThroughPg, chargeThroughPglite, type ChargeResult } from './lib/charge.js';
import { fire, type LoadResult, type LoadSpec, measure } from './lib/load.js';
import { freePort, NodeProcess, RssSampler, runNode, waitForHttp } from './lib/processes.js';
import { percentile, streamsDuring } from './lib/streams.js';
import {
  finishMachine,
  machine,
  type Machine,
  type ModeResult,
  type Row,
  type Target,
  targetText,
  textTable,
  updateReadme,
  writeResults,
} from './lib/report.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORK = join(ROOT, 'bench/.work');
const DIST = join(WORK, 'dist');
const RESULTS = join(ROOT, 'bench/results');
const SEEDER = join(ROOT, 'bench/seed.ts');

const { values: args } = parseArgs({
  options: {
    mode: { type: 'string' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '32' },
    e2e: { type: 'string', default: '2000' },
    users: { type: 'string', default: '10000' },
    history: { type: 'string', default: '1000000' },
    'no-readme': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    streams: { type: 'string', default: '1000' },
    'only-streams': { type: 'boolean', default: false },
    'only-metrics': { type: 'boolean', default: false },
    'only-activation': { type: 'boolean', default: false },
  },
});
const MODES = args.mode === undefined ? (['embedded', 'postgres'] as const) : ([args.mode] as const);
for (const mode of MODES) {
  if (mode !== 'embedded' && mode !== 'postgres') throw new Error(`--mode must be embedded or postgres, got ${mode}`);
}
const TIMING = { warmup: Number(args.warmup), duration: Number(args.duration) };
const CONNECTIONS = Number(args.connections);
const E2E_ACTIVATIONS = Number(args.e2e);
const USERS = Number(args.users);
const HISTORY = Number(args.history);
const STREAMS = Number(args.streams);
/** Runs the stream step alone (after seeding), to try it at a small scale. */
const ONLY_STREAMS = args['only-streams'];
/** Runs the metrics cost step alone (after seeding): try it with a small --users and --history. */
const ONLY_METRICS = args['only-metrics'];
/** Runs the charge baseline and the activation rows alone (after seeding), to iterate on the money path. */
const ONLY_ACTIVATION = args['only-activation'];
const PARTIAL = ONLY_METRICS || ONLY_ACTIVATION;
const HISTORY_SMALL = 1000;
const OFFERS = 20;

const PG_ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const POOL_SIZE = Number(process.env.DATABASE_POOL_SIZE ?? 10);
const PASSWORD = 'bench-password';
const ADMIN = { username: 'bench_admin', password: 'bench-admin-password' };
const JWT_SECRET = 'bench-only-secret-bench-only-secret-0123456789';
/** Users whose tokens drive the authenticated rows; they rotate so no account row is hot. */
const TOKEN_USERS = 128;
const STATUS_USERS = 32;
/** The direct charge baseline uses its own users, so its writes never meet the API's. */
const CHARGE_USERS = { from: 5001, count: 256 };
const LOGIN_USERS = { from: 6001, count: 4000 };
/** Deep history pages: follow `next` with this page size until this many rows are behind. */
const DEEP_STEP = 200;
const DEEP_ROWS = { large: Math.min(100_000, Math.floor(HISTORY * 0.9)), small: 900 };

const started = Date.now();
const say = (msg: string) => process.stdout.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${msg}\n`);
const username = (n: number) => `bench_user_${String(n).padStart(6, '0')}`;
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

// ---------------------------------------------------------------------------------------------
// The service and its data

/** Settings the parent may carry that would change what is measured. */
const NOT_INHERITED = ['DATABASE_URL', 'REDIS_URL', 'REDIS_KEY_PREFIX', 'PARTNER_URL', 'ROLE', 'PORT', 'HOST', 'DATA_DIR'];

function serviceEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of NOT_INHERITED) delete env[name];
  return {
    ...env,
    NODE_ENV: 'production',
    // As `npm start` sets it: see README "Running on PostgreSQL and Redis".
    MALLOC_MMAP_THRESHOLD_: '131072',
    MALLOC_ARENA_MAX: '2',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PARTNER_SIMULATOR: 'true',
    PARTNER_SIM_LATENCY_MS: '0',
    AUTH_RATE_LIMIT_PER_MINUTE: '1000000000',
    // The stream step holds STREAMS streams over TOKEN_USERS users on one process.
    MAX_STREAMS_PER_USER: '1000',
    MAX_CONNECTIONS: '8192',
    LOGIN_MAX_FAILURES: '1000000',
    JWT_SECRET,
    ACCESS_TOKEN_TTL: '3600',
    SEED_DEMO: 'false',
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
    ...overrides,
  };
}

async function build(): Promise<void> {
  say('building the service (tsc → bench/.work/dist)');
  rmSync(DIST, { recursive: true, force: true });
  try {
    await runNode('tsc', [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', DIST], process.env, ROOT);
  } catch (err) {
    // tsc still writes JavaScript for code with type errors; measure it, but say so.
    if (!existsSync(join(DIST, 'server.js')) || !existsSync(join(DIST, 'cli.js'))) throw err;
    say(`WARNING: the build has type errors; measuring the JavaScript tsc wrote anyway:\n${(err as Error).message}`);
  }
}

async function seed(env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = Date.now();
  const seeder = (extra: string[]) =>
    runNode('seed', ['--import', 'tsx', SEEDER, '--password', PASSWORD, ...extra], env, ROOT, (line) => say(`  seed: ${line.trim()}`));
  say(`seeding ${USERS} users, ${OFFERS} offers, ${HISTORY} transactions for history_large and ${HISTORY_SMALL} for history_small`);
  await seeder(['--users', String(USERS), '--balance', '1000.00', '--offers', String(OFFERS)]);
  await seeder(['--history-user', 'history_small', '--history', String(HISTORY_SMALL)]);
  await seeder(['--history-user', 'history_large', '--history', String(HISTORY)]);
  return (Date.now() - t0) / 1000;
}

interface Service {
  base: string;
  procs: NodeProcess[];
}

async function startService(name: string, roles: Array<'all' | 'api' | 'worker'>, env: Record<string, string>): Promise<Service> {
  const port = await freePort();
  const procs = roles.map(
    (role) =>
      new NodeProcess(
        `${name}:${role}`,
        [
          // As `npm start` runs it.
          '--max-semi-space-size=4',
          ...(args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${join(WORK, 'profiles')}`, `--cpu-prof-name=${name}-${role}-${Date.now()}.cpuprofile`] : []),
          join(DIST, 'server.js'),
        ],
        serviceEnv({ ...env, ROLE: role, PORT: String(port) }),
        ROOT,
      ),
  );
  const base = `http://127.0.0.1:${port}`;
  const api = procs[roles.findIndex((r) => r !== 'worker')]!;
  await waitForHttp(`${base}/ready`, api);
  for (const p of procs) if (!p.running) throw new Error(`${p.name} exited:\n${p.output}`);
  say(`service up: ${roles.map((r) => `ROLE=${r}`).join(' + ')} on ${base} (pids ${procs.map((p) => p.pid).join(', ')})`);
  return { base, procs };
}

async function stopService(service: Service): Promise<void> {
  await Promise.all(service.procs.map((p) => p.stop()));
}

/** Starts the service, runs `measure` against it, stops it, and keeps its processes' peak RSS in `rss`. */
async function withService<T>(
  name: string,
  roles: Array<'all' | 'api' | 'worker'>,
  env: Record<string, string>,
  rss: { config: string; into: Record<string, Record<string, number>> },
  measure: (service: Service) => Promise<T>,
): Promise<T> {
  const service = await startService(name, roles, env);
  const sampler = new RssSampler(service.procs);
  try {
    return await measure(service);
  } finally {
    rss.into[rss.config] = sampler.finish();
    await stopService(service);
  }
}

// ---------------------------------------------------------------------------------------------
// Talking to the service

async function call<T>(base: string, path: string, init: { method?: string; token?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path} → ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

async function login(base: string, user: string, password = PASSWORD): Promise<string> {
  const { access } = await call<{ access: string }>(base, '/api/v1/auth/login/', { method: 'POST', body: { username: user, password } });
  return access;
}

async function loginAll(base: string, users: string[], concurrency = 8): Promise<string[]> {
  const tokens: string[] = new Array<string>(users.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < users.length) {
        const i = next++;
        tokens[i] = await login(base, users[i]!);
      }
    }),
  );
  return tokens;
}

/** Follows `next` cursors until `rows` rows are behind, and returns the cursor of the page there. */
async function deepCursor(base: string, token: string, rows: number): Promise<string> {
  let cursor: string | undefined;
  for (let behind = 0; behind < rows; ) {
    const step = Math.min(DEEP_STEP, rows - behind);
    const query = `?limit=${step}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await call<{ next: string | null }>(base, `/api/v1/account/transactions/${query}`, { token });
    if (!page.next) throw new Error(`history ended before ${rows} rows`);
    cursor = page.next;
    behind += step;
  }
  return cursor!;
}

interface Submitted {
  token: string;
  id: string;
}

const FINAL = new Set(['SUCCESS', 'FAILED']);

async function statusOf(base: string, s: Submitted): Promise<string> {
  return (await call<{ status: string }>(base, `/api/v1/activation/status/${s.id}/`, { token: s.token })).status;
}

/**
 * Waits until every activation is final, through the status endpoint: first the last one
 * submitted, then a sweep of the others. Resolves to the moment (performance.now()) the last one
 * was seen final, and how many FAILED.
 */
async function allFinal(base: string, submitted: Submitted[], timeoutS = 300): Promise<{ at: number; failed: number }> {
  const deadline = performance.now() + timeoutS * 1000;
  let at = performance.now();
  let failed = 0;
  const settle = async (s: Submitted) => {
    for (let status = await statusOf(base, s); ; status = await statusOf(base, s)) {
      if (FINAL.has(status)) return status;
      if (performance.now() > deadline) throw new Error(`activation ${s.id} still ${status} after ${timeoutS} s`);
      await sleep(5);
    }
  };
  const last = submitted[submitted.length - 1];
  if (last) {
    await settle(last);
    at = performance.now();
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < submitted.length) {
        const s = submitted[next++]!;
        const first = await statusOf(base, s);
        const status = FINAL.has(first) ? first : await settle(s);
        if (!FINAL.has(first)) at = Math.max(at, performance.now());
        if (status === 'FAILED') failed++;
      }
    }),
  );
  return { at, failed };
}

/** A submit load that records the id and owner of every accepted activation. */
function recordingSubmit(c: Omit<Context, 'history'>, into: Submitted[]): LoadSpec {
  const spec = submitSpec(c);
  return {
    ...spec,
    onResponse: (status, body, i) => {
      if (status === 202) into.push({ token: c.tokens[i % c.tokens.length]!, id: (JSON.parse(body) as { transaction_id: string }).transaction_id });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The rows

interface Context {
  base: string;
  config: string;
  tokens: string[];
  adminToken: string;
  offerIds: number[];
  statuses: Array<{ token: string; id: string }>;
  history: { large: string; small: string; largeDeep: string; smallDeep: string };
}

const get = (base: string, path: (i: number) => string, token: (i: number) => string): LoadSpec => ({
  url: base,
  connections: CONNECTIONS,
  request: (i) => ({ path: path(i), headers: { authorization: `Bearer ${token(i)}` } }),
});

function row(config: string, name: string, r: LoadResult, note?: string): Row {
  return { config, name, rps: r.rps, p50: r.p50, p99: r.p99, errors: r.errors, non2xx: r.non2xx, note };
}

async function timed(config: string, name: string, spec: LoadSpec, note?: string): Promise<Row> {
  say(`${config}: ${name} — ${TIMING.warmup}s warm-up + ${TIMING.duration}s at ${spec.connections} connections`);
  const r = await measure(spec, TIMING);
  const out = row(config, name, r, note);
  const codes = Object.entries(r.statusCodes).map(([c, n]) => `${c}×${n}`).join(' ');
  say(`  ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, errors ${r.errors} [${codes}]`);
  return out;
}

const offersList = (c: Context) => get(c.base, () => '/api/v1/offers/', (i) => c.tokens[i % c.tokens.length]!);
const loginSpec = (c: Context): LoadSpec => ({
  url: c.base,
  connections: CONNECTIONS,
  method: 'POST',
  request: (i) => ({
    path: '/api/v1/auth/login/',
    body: JSON.stringify({ username: username(LOGIN_USERS.from + (i % LOGIN_USERS.count)), password: PASSWORD }),
  }),
});
const submitSpec = (c: Omit<Context, 'history'>): LoadSpec => ({
  url: c.base,
  connections: CONNECTIONS,
  method: 'POST',
  request: (i) => ({
    path: '/api/v1/activation/',
    headers: { authorization: `Bearer ${c.tokens[i % c.tokens.length]!}` },
    body: JSON.stringify({ offer_id: c.offerIds[i % c.offerIds.length] }),
  }),
});

async function readRows(c: Context, full: boolean): Promise<Row[]> {
  const rows: Row[] = [];
  rows.push(await timed(c.config, 'offers list', offersList(c)));
  rows.push(await timed(c.config, 'account', get(c.base, () => '/api/v1/account/', (i) => c.tokens[i % c.tokens.length]!)));
  rows.push(
    await timed(
      c.config,
      'activation status',
      get(c.base, (i) => `/api/v1/activation/status/${c.statuses[i % c.statuses.length]!.id}/`, (i) => c.statuses[i % c.statuses.length]!.token),
    ),
  );
  if (!full) return rows;
  const history = (name: string, token: string, cursor?: string) =>
    timed(c.config, name, get(c.base, () => `/api/v1/account/transactions/${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`, () => token));
  rows.push(await history(`history first page, ${HISTORY_SMALL} rows`, c.history.small));
  rows.push(await history(`history deep page, ${HISTORY_SMALL} rows`, c.history.small, c.history.smallDeep));
  rows.push(await history(`history first page, ${HISTORY} rows`, c.history.large));
  rows.push(await history(`history deep page, ${HISTORY} rows`, c.history.large, c.history.largeDeep));
  return rows;
}

async function loginRows(c: Context): Promise<Row[]> {
  const rows = [await timed(c.config, 'login', loginSpec(c), 'argon2id')];
  say(`${c.config}: offers list while logins run — ${TIMING.warmup}s warm-up + ${TIMING.duration}s, ${CONNECTIONS} + ${CONNECTIONS} connections`);
  const [offers, logins] = await Promise.all([measure(offersList(c), TIMING), measure(loginSpec(c), TIMING)]);
  say(`  offers ${offers.rps.toFixed(0)} req/s p99 ${offers.p99.toFixed(2)} ms; logins ${logins.rps.toFixed(0)} req/s`);
  rows.push(row(c.config, 'offers list during logins', offers, `${logins.rps.toFixed(0)} logins/s alongside`));
  return rows;
}

async function activationRows(c: Omit<Context, 'history'>): Promise<Row[]> {
  const accepted: Submitted[] = [];
  say(`${c.config}: activation submit — ${TIMING.warmup}s warm-up + ${TIMING.duration}s at ${CONNECTIONS} connections`);
  const r = await measure(recordingSubmit(c, accepted), TIMING);
  const submitEnd = performance.now();
  // The queue is roughly first in, first out: the last activation of each connection done means the backlog is.
  const { at } = await allFinal(c.base, accepted.slice(-CONNECTIONS));
  const backlog = (at - submitEnd) / 1000;
  say(`  ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, errors ${r.errors}, non-2xx ${r.non2xx}; backlog done ${backlog.toFixed(1)} s later`);
  const submit = row(c.config, 'activation submit', r, `backlog done ${backlog.toFixed(1)} s later`);

  say(`${c.config}: end to end — ${E2E_ACTIVATIONS} activations until all are SUCCESS`);
  const e2eAccepted: Submitted[] = [];
  const t0 = performance.now();
  const fired = await fire(recordingSubmit(c, e2eAccepted), E2E_ACTIVATIONS);
  const submitS = (performance.now() - t0) / 1000;
  const done = await allFinal(c.base, e2eAccepted);
  const totalS = (done.at - t0) / 1000;
  say(`  ${e2eAccepted.length} accepted in ${submitS.toFixed(2)} s, all final after ${totalS.toFixed(2)} s (${(e2eAccepted.length / totalS).toFixed(0)}/s); FAILED: ${done.failed}`);
  const e2e: Row = {
    config: c.config,
    name: 'end to end to SUCCESS',
    rps: (e2eAccepted.length - done.failed) / totalS,
    errors: fired.errors,
    non2xx: fired.non2xx + done.failed,
    note: `${E2E_ACTIVATIONS} in ${totalS.toFixed(2)} s, submitted in ${submitS.toFixed(2)} s`,
  };
  return [submit, e2e];
}

async function prepare(base: string, config: string, tokens?: Context['tokens']): Promise<Omit<Context, 'history'> & { history?: Context['history'] }> {
  const adminToken = await login(base, ADMIN.username, ADMIN.password);
  const offers = await call<{ results: Array<{ id: number }> }>(base, '/api/v1/offers/', { token: adminToken });
  const t0 = Date.now();
  tokens ??= await loginAll(base, range(1, TOKEN_USERS).map(username));
  say(`${tokens.length} access tokens (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const statuses = await Promise.all(
    tokens.slice(0, STATUS_USERS).map(async (token) => {
      const { transaction_id } = await call<{ transaction_id: string }>(base, '/api/v1/activation/', {
        method: 'POST',
        token,
        body: { offer_id: offers.results[0]!.id },
      });
      return { token, id: transaction_id };
    }),
  );
  await allFinal(base, statuses, 60);
  return { base, config, tokens, adminToken, offerIds: offers.results.map((o) => o.id), statuses };
}

async function historyContext(base: string): Promise<Context['history']> {
  const t0 = Date.now();
  const [large, small] = await Promise.all([login(base, 'history_large'), login(base, 'history_small')]);
  const [largeDeep, smallDeep] = await Promise.all([deepCursor(base, large, DEEP_ROWS.large), deepCursor(base, small, DEEP_ROWS.small)]);
  say(`deep cursors: ${DEEP_ROWS.large} and ${DEEP_ROWS.small} rows in, ${DEEP_STEP} per page (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return { large, small, largeDeep, smallDeep };
}

/** STREAMS concurrent event streams on the API process while activations run for their users. */
async function streamRow(c: Omit<Context, 'history'>, api: NodeProcess): Promise<Row> {
  say(`${c.config}: ${STREAMS} event streams while activations run — ${TIMING.warmup}s warm-up + ${TIMING.duration}s at ${CONNECTIONS} connections`);
  const sampler = new RssSampler([api]);
  let submitted: LoadResult | undefined;
  const r = await streamsDuring(c.base, c.tokens, STREAMS, async () => {
    submitted = await measure(submitSpec(c as Context), TIMING);
  });
  const rssMb = Object.values(sampler.finish())[0] ?? 0;
  const p50 = percentile(r.latencies, 50);
  const p99 = percentile(r.latencies, 99);
  say(`  ${r.events} events to ${STREAMS - r.refused} streams, commit to client p50 ${p50} ms, p99 ${p99} ms, refused ${r.refused}, API RSS ${rssMb} MB`);
  return {
    config: c.config,
    name: `event stream, ${STREAMS} streams`,
    rps: r.events / r.seconds,
    p50,
    p99,
    errors: r.refused,
    non2xx: 0,
    note: `commit to client; ${submitted?.rps.toFixed(0)} activations/s alongside; API process RSS ${rssMb} MB`,
  };
}

// ---------------------------------------------------------------------------------------------
// The cost of metrics

const METRICS_TOKEN = 'bench-metrics-token-0123456789';
const METRICS_ROUNDS = 2;
/** Far more often than Prometheus scrapes (15 s is usual), so each scrape's database readings count too. */
const SCRAPE_EVERY_MS = 1000;
const METRICS_ON = 'offers list, metrics on';
const METRICS_OFF = 'offers list, metrics off';

/**
 * What the request hook costs per request, measured in this process: a figure the machine's noise
 * moves far less than the difference of two throughputs.
 */
function hookNanoseconds(): number {
  const metrics = new MetricsRegistry({
    sources: { stuckActivations: async () => 0, outboxLag: async () => [], queueJobs: async () => ({}) },
    onCollectError: () => undefined,
  });
  const routes = ['/api/v1/offers/', '/api/v1/account/', '/api/v1/activation/status/:transaction_id/'];
  const observe = (n: number) => {
    for (let i = 0; i < n; i += 1) metrics.observeRequest('GET', routes[i % routes.length], 200, 0.001 + (i % 7) / 1000);
  };
  observe(100_000);
  const n = 1_000_000;
  const t0 = process.hrtime.bigint();
  observe(n);
  return Number(process.hrtime.bigint() - t0) / n;
}

/**
 * The offers list with metrics on (METRICS_TOKEN set, scraped every second) and off, on services
 * started alternately METRICS_ROUNDS times each, so a machine that drifts during the step moves both.
 */
async function metricsRows(config: string, env: Record<string, string>, tokens: string[]): Promise<Row[]> {
  const runs: Record<'on' | 'off', LoadResult[]> = { on: [], off: [] };
  const rss: Record<string, Record<string, number>> = {};
  for (let round = 1; round <= METRICS_ROUNDS; round += 1) {
    for (const state of ['off', 'on'] as const) {
      const serviceEnv = state === 'on' ? { ...env, METRICS_TOKEN } : env;
      await withService(`metrics-${state}`, ['all'], serviceEnv, { config, into: rss }, async (service) => {
        say(`${config}: offers list with metrics ${state} (round ${round} of ${METRICS_ROUNDS})`);
        const scraper =
          state === 'on'
            ? setInterval(() => void call(service.base, '/metrics', { token: METRICS_TOKEN }).catch(() => undefined), SCRAPE_EVERY_MS)
            : undefined;
        try {
          const r = await measure(get(service.base, () => '/api/v1/offers/', (i) => tokens[i % tokens.length]!), TIMING);
          say(`  ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, errors ${r.errors}`);
          runs[state].push(r);
        } finally {
          clearInterval(scraper);
        }
      });
    }
  }
  const mean = (list: LoadResult[], key: 'rps' | 'p50' | 'p99') => list.reduce((sum, r) => sum + r[key], 0) / list.length;
  const summary = (state: 'on' | 'off', name: string): Row => ({
    config,
    name,
    rps: mean(runs[state], 'rps'),
    p50: mean(runs[state], 'p50'),
    p99: mean(runs[state], 'p99'),
    errors: runs[state].reduce((sum, r) => sum + r.errors, 0),
    non2xx: runs[state].reduce((sum, r) => sum + r.non2xx, 0),
    note: `mean of ${METRICS_ROUNDS} services${state === 'on' ? `, scraped every ${SCRAPE_EVERY_MS / 1000} s` : ''}`,
  });
  const off = summary('off', METRICS_OFF);
  const on = { ...summary('on', METRICS_ON), baseline: 'metrics off', ratio: 0 };
  on.ratio = on.rps / off.rps;
  const hookNs = hookNanoseconds();
  // One core's share of a request at the measured rate, next to what the hook adds to it.
  const hookShare = (hookNs / 1e9) * off.rps;
  on.note = `${on.note}; request hook ${(hookNs / 1000).toFixed(2)} µs in-process, ${(hookShare * 100).toFixed(1)} % of a core at this rate`;
  say(`  metrics cost on the offers list: ${((1 - on.ratio) * 100).toFixed(1)} % of the throughput; the request hook takes ${hookNs.toFixed(0)} ns`);
  return [off, on];
}

// ---------------------------------------------------------------------------------------------
// Baselines

const BARE = 'bare Fastify offer list';

/**
 * The bare server, measured at the start of a mode and again at its end: the ratios use the mean
 * of the two, so a machine that gets faster or slower during the run moves both sides.
 */
async function bareRow(base: string, adminToken: string, when: 'first' | 'last'): Promise<Row> {
  const body = await call<unknown>(base, '/api/v1/offers/', { token: adminToken });
  const file = join(WORK, 'offers.json');
  writeFileSync(file, JSON.stringify(body));
  const port = await freePort();
  const bare = new NodeProcess('bare', ['--import', 'tsx', join(ROOT, 'bench/bare-server.ts')], { ...process.env, PORT: String(port), BENCH_BODY_FILE: file }, ROOT);
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/api/v1/offers/`, bare);
    const name = when === 'first' ? BARE : `${BARE}, again at the end`;
    const r = await timed('baseline', name, { url, connections: CONNECTIONS, request: () => ({ path: '/api/v1/offers/' }) });
    return r;
  } finally {
    await bare.stop();
  }
}

function chargeRow(name: string, r: ChargeResult): Row {
  say(`  ${r.rps.toFixed(0)} charges/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, errors ${r.errors}`);
  return { config: 'baseline', name, rps: r.rps, p50: r.p50, p99: r.p99, errors: r.errors, non2xx: 0 };
}

const chargeOptions = (userIds: number[], offerIds: number[]) => ({ concurrency: CONNECTIONS, ...TIMING, userIds, offerIds });

/** After a bulk load, what autovacuum would do a little later: fresh statistics, no dead versions. */
async function vacuum(exec: (sql: string) => Promise<unknown>): Promise<void> {
  const t0 = Date.now();
  await exec('VACUUM ANALYZE');
  say(`VACUUM ANALYZE after seeding (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

async function chargeBaselinePg(url: string): Promise<Row> {
  say(`baseline: direct charge transaction through pg (pool ${POOL_SIZE}, ${CONNECTIONS} concurrent)`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const users = await client.query<{ id: number }>('SELECT id FROM users WHERE username = ANY($1) ORDER BY id', [
    range(CHARGE_USERS.from, CHARGE_USERS.count).map(username),
  ]);
  const offers = await client.query<{ id: number }>('SELECT id FROM offers WHERE is_active ORDER BY id');
  await client.end();
  const r = await chargeThroughPg(url, POOL_SIZE, chargeOptions(users.rows.map((u) => u.id), offers.rows.map((o) => o.id)));
  return chargeRow(`direct charge via pg (pool ${POOL_SIZE})`, r);
}

async function chargeBaselinePglite(dataDir: string): Promise<Row> {
  say(`baseline: direct charge transaction through PGlite in-process (${CONNECTIONS} concurrent)`);
  const pglite = new PGlite(embeddedDir(dataDir));
  try {
    await vacuum((text) => pglite.exec(text));
    const users = await pglite.query<{ id: number }>('SELECT id FROM users WHERE username = ANY($1) ORDER BY id', [
      range(CHARGE_USERS.from, CHARGE_USERS.count).map(username),
    ]);
    const offers = await pglite.query<{ id: number }>('SELECT id FROM offers WHERE is_active ORDER BY id');
    const r = await chargeThroughPglite(pglite, chargeOptions(users.rows.map((u) => u.id), offers.rows.map((o) => o.id)));
    return chargeRow('direct charge via PGlite', r);
  } finally {
    await pglite.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Ratios and targets

const READS = ['offers list', 'account', 'activation status', 'history'];

function withRatios(rows: Row[]): Row[] {
  const bares = rows.filter((r) => r.name.startsWith(BARE));
  const bare = { rps: bares.reduce((sum, r) => sum + r.rps, 0) / bares.length };
  const charge = rows.find((r) => r.name.startsWith('direct charge'))!;
  for (const r of rows) {
    if (r.config === 'baseline' || r.name.startsWith('event stream') || r.baseline === 'metrics off' || r.name === METRICS_OFF) continue;
    if (r.name === 'activation submit' || r.name === 'end to end to SUCCESS') {
      r.baseline = 'direct charge';
      r.ratio = r.rps / charge.rps;
    } else if (r.name.startsWith('history') && r.name.endsWith(`${HISTORY} rows`)) {
      // Compared in time per page with the same page of the small history.
      const small = rows.find((s) => s.config === r.config && s.name === r.name.replace(`${HISTORY} rows`, `${HISTORY_SMALL} rows`));
      if (small?.p50 && r.p50) {
        r.baseline = `${HISTORY_SMALL}-row history p50`;
        r.ratio = r.p50 / small.p50;
      }
    } else {
      r.baseline = bares.length > 1 ? 'bare (mean)' : 'bare';
      r.ratio = r.rps / bare.rps;
    }
  }
  return rows;
}

function targets(mode: string, rows: Row[], rss: Record<string, Record<string, number>>): Target[] {
  const out: Target[] = [];
  const fmt = (r: Row) => `${r.ratio?.toFixed(2)} (${r.config})`;
  for (const r of rows) {
    if (r.config === 'baseline') continue;
    if (r.name === METRICS_ON) out.push({ target: 'metrics cost on the offers list < 5 %', figure: `${((1 - r.ratio!) * 100).toFixed(1)} % (${r.config})`, met: r.ratio! > 0.95 });
    if (r.name === 'offers list') out.push({ target: 'offers list ≥ 0.7 × bare', figure: fmt(r), met: r.ratio! >= 0.7 });
    if (r.name === 'activation status') out.push({ target: 'activation status ≥ 0.6 × bare', figure: fmt(r), met: r.ratio! >= 0.6 });
    const pgOnly = mode === 'postgres' ? '' : ' (asked of postgres mode)';
    const pgTarget = (met: boolean) => (mode === 'postgres' ? met : undefined);
    if (r.name === 'activation submit') {
      out.push({ target: `activation submit ≥ 1.0 × direct charge${pgOnly}`, figure: fmt(r), met: pgTarget(r.ratio! >= 1.0) });
    }
    if (r.name === 'end to end to SUCCESS') {
      out.push({ target: `end to end ≥ 0.6 × direct charge${pgOnly}`, figure: fmt(r), met: pgTarget(r.ratio! >= 0.6) });
    }
    if (r.name === 'account' && mode === 'embedded') {
      out.push({ target: 'account ≥ 0.08 × bare (embedded)', figure: fmt(r), met: r.ratio! >= 0.08 });
    }
    const isHistory = r.name.startsWith('history');
    if (isHistory && r.baseline?.startsWith('bare')) {
      out.push({ target: `${r.name} ≥ 0.1 × bare${pgOnly}`, figure: fmt(r), met: pgTarget(r.ratio! >= 0.1) });
    }
    if (isHistory && r.p99 !== undefined) {
      out.push({ target: `p99 < 20 ms: ${r.name}${pgOnly}`, figure: `${r.p99.toFixed(2)} ms (${r.config})`, met: pgTarget(r.p99 < 20) });
    }
    // The metrics pair measures a difference under load, not the latency the p99 target is about.
    const read = READS.some((name) => r.name.startsWith(name)) && !isHistory;
    if (read && r.p99 !== undefined && r.name !== METRICS_ON && r.name !== METRICS_OFF) {
      out.push({ target: `p99 < 10 ms: ${r.name}`, figure: `${r.p99.toFixed(2)} ms (${r.config})`, met: r.p99 < 10 });
    }
    if (r.baseline?.includes('history')) {
      out.push({ target: `${r.name} ≤ 2 × ${HISTORY_SMALL}-row time`, figure: `p50 ${fmt(r)}`, met: r.ratio! <= 2 });
    }
  }
  for (const [config, procs] of Object.entries(rss)) {
    for (const [proc, mb] of Object.entries(procs)) {
      out.push({ target: `peak RSS < 200 MB: ${proc}`, figure: `${mb} MB (${config})`, met: mb < 200 });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The modes

/** The result of --only-metrics or --only-activation: shown, never written over the committed results. */
function partialResult(mode: ModeResult['mode'], m: Machine, rows: Row[], step: string): ModeResult {
  finishMachine(m);
  const ratioRows = step === 'activation' ? withRatios(rows) : rows;
  return {
    mode,
    description: `${mode === 'embedded' ? 'Embedded' : 'PostgreSQL'} mode, the ${step} step alone (--only-${step})`,
    machine: m,
    settings: settings(),
    timings: {},
    rows: ratioRows,
    rssMb: {},
    targets: targets(mode, ratioRows, {}),
  };
}

async function runEmbedded(): Promise<ModeResult> {
  const m = machine();
  const dataDir = join(WORK, `embedded-${Date.now()}`);
  const timings: Record<string, number> = {};
  const rows: Row[] = [];
  const rss: Record<string, Record<string, number>> = {};
  try {
    timings.seedSeconds = await seed(serviceEnv({ DATA_DIR: dataDir }));
    const config = 'embedded';
    if (ONLY_METRICS) {
      const tokens = await withService(config, ['all'], { DATA_DIR: dataDir }, { config, into: {} }, (service) =>
        loginAll(service.base, range(1, TOKEN_USERS).map(username)),
      );
      rows.push(...(await metricsRows(config, { DATA_DIR: dataDir }, tokens)));
      return partialResult('embedded', m, rows, 'metrics');
    }
    rows.push(await chargeBaselinePglite(dataDir));
    if (ONLY_ACTIVATION) {
      await withService(config, ['all'], { DATA_DIR: dataDir }, { config, into: {} }, async (service) => {
        rows.push(...(await activationRows(await prepare(service.base, config))));
      });
      return partialResult('embedded', m, rows, 'activation');
    }
    const tokens = await withService(config, ['all'], { DATA_DIR: dataDir }, { config, into: rss }, async (service) => {
      if (ONLY_STREAMS) {
        rows.push(await streamRow(await prepare(service.base, config), service.procs[0]!));
        return undefined;
      }
      const ctx = { ...(await prepare(service.base, config)), history: await historyContext(service.base) };
      rows.push(await bareRow(service.base, ctx.adminToken, 'first'));
      rows.push(...(await readRows(ctx, true)));
      rows.push(...(await loginRows(ctx)));
      rows.push(...(await activationRows(ctx)));
      rows.push(await streamRow(ctx, service.procs[0]!));
      rows.push(await bareRow(service.base, ctx.adminToken, 'last'));
      return ctx.tokens;
    });
    if (tokens) rows.push(...(await metricsRows(config, { DATA_DIR: dataDir }, tokens)));
  } finally {
    if (!args.keep) rmSync(dataDir, { recursive: true, force: true });
  }
  finishMachine(m);
  const ratioRows = withRatios(rows);
  return {
    mode: 'embedded',
    description: 'Embedded mode: PGlite, in-process queue and status cache, one process',
    machine: m,
    settings: settings(),
    timings,
    rows: ratioRows,
    rssMb: rss,
    targets: targets('embedded', ratioRows, rss),
  };
}

async function runPostgres(): Promise<ModeResult> {
  const m = machine();
  const stamp = Date.now();
  const dbName = `bench_${stamp}`;
  const prefix = `bench-${stamp}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  const env = { DATABASE_URL: databaseUrl, REDIS_URL, REDIS_KEY_PREFIX: prefix, DATA_DIR: join(WORK, `postgres-${stamp}`) };
  const timings: Record<string, number> = {};
  const rows: Row[] = [];
  const rss: Record<string, Record<string, number>> = {};
  say(`postgres mode: database ${dbName}, Redis key prefix ${prefix}`);
  try {
    timings.seedSeconds = await seed(serviceEnv(env));
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await vacuum((text) => client.query(text)).finally(() => client.end());
    if (ONLY_METRICS) {
      const tokens = await withService('all', ['all'], env, { config: 'ROLE=all', into: {} }, (service) =>
        loginAll(service.base, range(1, TOKEN_USERS).map(username)),
      );
      rows.push(...(await metricsRows('ROLE=all', env, tokens)));
      return partialResult('postgres', m, rows, 'metrics');
    }
    rows.push(await chargeBaselinePg(databaseUrl));
    if (ONLY_ACTIVATION) {
      const tokens = await withService('all', ['all'], env, { config: 'ROLE=all', into: {} }, async (service) => {
        const ctx = await prepare(service.base, 'ROLE=all');
        rows.push(...(await activationRows(ctx)));
        return ctx.tokens;
      });
      await withService('split', ['api', 'worker'], env, { config: 'api + worker', into: {} }, async (service) => {
        rows.push(...(await activationRows(await prepare(service.base, 'api + worker', tokens))));
      });
      return partialResult('postgres', m, rows, 'activation');
    }

    const all = 'ROLE=all';
    // The split run reuses the logged-in tokens and history cursors of the ROLE=all run.
    const { tokens, history } = await withService('all', ['all'], env, { config: all, into: rss }, async (service) => {
      const ctx = { ...(await prepare(service.base, all)), history: await historyContext(service.base) };
      rows.push(await bareRow(service.base, ctx.adminToken, 'first'));
      rows.push(...(await readRows(ctx, true)));
      rows.push(...(await loginRows(ctx)));
      rows.push(...(await activationRows(ctx)));
      return ctx;
    });

    const split = 'api + worker';
    await withService('split', ['api', 'worker'], env, { config: split, into: rss }, async (service) => {
      const ctx = { ...(await prepare(service.base, split, tokens)), history };
      if (ONLY_STREAMS) {
        rows.push(await streamRow(ctx, service.procs[0]!));
        return;
      }
      rows.push(...(await readRows(ctx, false)));
      rows.push(...(await activationRows(ctx)));
      rows.push(await streamRow(ctx, service.procs[0]!));
      rows.push(await bareRow(service.base, ctx.adminToken, 'last'));
    });
    if (!ONLY_STREAMS) rows.push(...(await metricsRows(all, env, tokens)));
  } finally {
    if (!args.keep) {
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await deleteRedisKeys(prefix);
      rmSync(env.DATA_DIR, { recursive: true, force: true });
    }
    await admin.end();
  }
  finishMachine(m);
  const ratioRows = withRatios(rows);
  return {
    mode: 'postgres',
    description: `PostgreSQL mode: pg pool of ${POOL_SIZE}, BullMQ and status cache on Redis; ROLE=all, then one ROLE=api + one ROLE=worker`,
    machine: m,
    settings: settings(),
    timings,
    rows: ratioRows,
    rssMb: rss,
    targets: targets('postgres', ratioRows, rss),
  };
}

async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    const stream = redis.scanStream({ match: `${prefix}:*`, count: 1000 });
    for await (const keys of stream as AsyncIterable<string[]>) if (keys.length > 0) await redis.unlink(...keys);
  } finally {
    redis.disconnect();
  }
}

function settings(): Record<string, string | number> {
  return {
    connections: CONNECTIONS,
    'warm-up s': TIMING.warmup,
    'duration s': TIMING.duration,
    'end-to-end activations': E2E_ACTIVATIONS,
    DATABASE_POOL_SIZE: POOL_SIZE,
    WORKER_CONCURRENCY: process.env.WORKER_CONCURRENCY ?? 'default',
  };
}

async function main(): Promise<void> {
  mkdirSync(WORK, { recursive: true });
  mkdirSync(RESULTS, { recursive: true });
  await build();
  for (const mode of MODES) {
    const result = mode === 'embedded' ? await runEmbedded() : await runPostgres();
    if (!PARTIAL) writeResults(RESULTS, result);
    process.stdout.write(`\n${result.description}\n${textTable(result.rows)}\n\n${targetText(result.targets)}\n\n`);
  }
  if (!args['no-readme'] && !PARTIAL) updateReadme(join(ROOT, 'README.md'), RESULTS);
  say(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; results in bench/results/`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
