// `tsx bench/seed.ts [options]`: writes the benchmark's data into the database the service would use
// (DATABASE_URL, else the embedded one in DATA_DIR). Running it again adds only what is missing.
import { parseArgs } from 'node:util';
import { hashPassword } from '../src/auth/passwords.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { embeddedDir, openDatabase } from '../src/db/connect.js';
import { EmbeddedDatabaseBusy } from '../src/db/embedded-lock.js';
import { migrateToLatest } from '../src/db/migrate.js';
import {
  BENCH_BALANCE,
  BENCH_OFFER_PRICE,
  BENCH_PASSWORD,
  benchUsername,
  DEFAULT_BATCH,
  seedHistory,
  SeedError,
  seedOffers,
  seedUsers,
} from './lib/seed-data.js';

const USAGE = `Usage: npx tsx bench/seed.ts [--users N] [--balance B] [--password P] [--offers N] [--history-user U --history N] [--batch N]
  --users N         users ${benchUsername(1)} … with balance B (default ${BENCH_BALANCE})
                    and password P (default ${BENCH_PASSWORD})
  --offers N        offers "Bench offer 001" … priced ${BENCH_OFFER_PRICE}
  --history-user U  a user (created if missing) who gets N transactions of 0.01
  --history N
  --batch N         rows per database transaction (default ${DEFAULT_BATCH})
The database is the service's: DATABASE_URL (with JWT_SECRET), else the embedded one in DATA_DIR.`;

class UsageError extends Error {}

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

function count(name: string, raw: string | undefined): number {
  if (raw === undefined) return 0;
  if (!/^\d{1,8}$/.test(raw)) throw new UsageError(`--${name} must be a whole number up to 99999999, got "${raw}"`);
  return Number(raw);
}

/** Prints a line at each tenth of the way, for runs that take a while. */
function progressPrinter(label: string) {
  let shown = -1;
  return (done: number, total: number) => {
    const tenth = Math.floor((done * 10) / total);
    if (tenth === shown) return;
    shown = tenth;
    err(`  ${label}: ${done}/${total}`);
  };
}

function options(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      options: {
        users: { type: 'string' },
        balance: { type: 'string', default: BENCH_BALANCE },
        password: { type: 'string', default: BENCH_PASSWORD },
        offers: { type: 'string' },
        'history-user': { type: 'string' },
        history: { type: 'string' },
        batch: { type: 'string' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  const batch = values.batch === undefined ? DEFAULT_BATCH : count('batch', values.batch);
  if (batch < 1) throw new UsageError('--batch must be at least 1');
  if ((values['history-user'] === undefined) !== (values.history === undefined)) {
    throw new UsageError('--history-user and --history go together');
  }
  if (!/^\d{1,10}(\.\d{1,2})?$/.test(values.balance)) throw new UsageError(`--balance must be a decimal string like 100.00, got "${values.balance}"`);
  if (values.password.length < 8) throw new UsageError('--password must have at least 8 characters');
  return {
    users: count('users', values.users),
    offers: count('offers', values.offers),
    historyUser: values['history-user'],
    history: count('history', values.history),
    balance: values.balance,
    password: values.password,
    batch,
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    out(USAGE);
    return;
  }
  const wanted = options(argv);
  const config = loadConfig(process.env, { partnerRequired: false });
  const database = openDatabase({ databaseUrl: config.databaseUrl, pgliteDir: embeddedDir(config.dataDir), poolSize: 1 });
  const { db } = database;
  try {
    await migrateToLatest(db);
    if (wanted.offers > 0) {
      const { added } = await seedOffers(db, wanted.offers);
      out(`Offers: ${added} added, ${wanted.offers - added} already there.`);
    }
    // One hash for every seeded user: argon2 is deliberately slow.
    const passwordHash = wanted.users > 0 || wanted.historyUser !== undefined ? await hashPassword(wanted.password) : '';
    if (wanted.users > 0) {
      const { created } = await seedUsers(
        db,
        { count: wanted.users, balance: wanted.balance, passwordHash, batch: wanted.batch },
        progressPrinter('users'),
      );
      out(`Users: ${created} created, ${wanted.users - created} already there (${benchUsername(1)} … ${benchUsername(wanted.users)}).`);
    }
    if (wanted.historyUser !== undefined) {
      const result = await seedHistory(
        db,
        { username: wanted.historyUser, count: wanted.history, passwordHash, batch: wanted.batch },
        progressPrinter('history'),
      );
      out(
        `History of ${wanted.historyUser}: ${result.added} transactions added, ${wanted.history - result.added} already there; balance ${result.balance} ${config.currency}.`,
      );
    }
  } finally {
    await database.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof UsageError) {
      err(`${error.message}\n\n${USAGE}`);
      process.exit(2);
    }
    const expected = error instanceof ConfigError || error instanceof SeedError || error instanceof EmbeddedDatabaseBusy;
    err(expected ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
