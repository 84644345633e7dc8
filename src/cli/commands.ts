// The commands behind src/cli.ts, loaded only once a valid command name and configuration are known.
import { userInfo } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { pino } from 'pino';
import type { TSchema } from 'typebox';
import { creditAccount } from '../account/service.js';
import { CreditBody, NewUserBody } from '../admin/schemas.js';
import type { AuditContext } from '../audit/domain.js';
import { findUserByUsername } from '../auth/queries.js';
import { createUser } from '../auth/service.js';
import { seedDemoOffers } from '../bootstrap.js';
import type { Config } from '../config.js';
import { embeddedDir, openDatabase } from '../db/connect.js';
import { migrateToLatest } from '../db/migrate.js';
import { invalid } from '../domain/errors.js';
import { IdempotencyHeaders } from '../http/schemas.js';
import { describeValidation, validatorCompiler } from '../http/validation.js';
import { createRuntime, type Runtime } from '../runtime.js';
import { CommandError, UsageError } from './errors.js';
import { canPrompt, promptNewPassword } from './prompt.js';

type Env = Record<string, string | undefined>;

const out = (line: string) => process.stdout.write(`${line}\n`);

function parse<const T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function expectPositionals(command: string, positionals: string[], names: string[], allowMore = false) {
  if (positionals.length < names.length || (!allowMore && positionals.length > names.length)) {
    throw new UsageError(`${command} takes ${names.join(' ')}`);
  }
}

/** Checks CLI input against the API's own body schema, so both give the same answer. */
function validate(schema: TSchema, value: Record<string, unknown>): void {
  const check = validatorCompiler({ schema, httpPart: 'body', method: 'POST', url: '/' });
  if (check(value) === true) return;
  const { message, details } = describeValidation((check.errors ?? []) as never, 'body');
  throw invalid('validation_error', message, details);
}

/** The operator at the command line, as the audit trail names them: cli:<os user>. */
function operator(): AuditContext {
  let name: string;
  try {
    name = userInfo().username;
  } catch {
    // A uid without a passwd entry (some containers) has no name.
    name = `uid-${process.getuid?.() ?? 'unknown'}`;
  }
  return { actor: `cli:${name}`, actorId: null, requestId: null, clientAddress: null };
}

/** Logs go to stderr so that stdout carries only the command's answer. */
async function withRuntime<T>(config: Config, run: (runtime: Runtime) => Promise<T>): Promise<T> {
  const log = pino({ level: config.logLevel, base: { service: 'offers-api', role: 'cli' } }, pino.destination({ dest: 2, sync: true }));
  // Commands only touch the database; Redis holds nothing they read or write.
  const runtime = await createRuntime({ ...config, redisUrl: undefined }, { log });
  try {
    return await run(runtime);
  } finally {
    await runtime.close();
  }
}

async function migrate(config: Config, args: string[]): Promise<void> {
  expectPositionals('migrate', parse(args, {}).positionals, []);
  const database = openDatabase({
    databaseUrl: config.databaseUrl,
    pgliteDir: embeddedDir(config.dataDir),
    poolSize: 1,
    queryTimeoutMs: config.databaseQueryTimeoutMs,
  });
  try {
    const applied = await migrateToLatest(database.db);
    if (applied.length === 0) out('Database is up to date.');
    for (const name of applied) out(`Applied migration ${name}`);
  } finally {
    await database.close();
  }
}

async function newPassword(username: string, flag: string | undefined, env: Env): Promise<string> {
  if (flag !== undefined) return flag;
  if (env.OFFERS_PASSWORD !== undefined) return env.OFFERS_PASSWORD;
  if (canPrompt()) return promptNewPassword(username);
  throw new UsageError('create-user needs a password: set OFFERS_PASSWORD, pass --password, or run it in a terminal');
}

async function createUserCommand(config: Config, args: string[], env: Env): Promise<void> {
  const { values, positionals } = parse(args, {
    password: { type: 'string' },
    email: { type: 'string' },
    admin: { type: 'boolean', default: false },
  });
  expectPositionals('create-user', positionals, ['USERNAME']);
  const username = positionals[0]!;
  const password = await newPassword(username, values.password, env);
  validate(NewUserBody, { username, password, is_admin: values.admin, ...(values.email === undefined ? {} : { email: values.email }) });
  const user = await withRuntime(config, (runtime) =>
    createUser(runtime.db, { username, password, email: values.email, isAdmin: values.admin }, operator()),
  );
  out(`Created ${user.is_admin ? 'admin' : 'user'} ${user.username} (id ${user.id})`);
}

async function credit(config: Config, args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { 'idempotency-key': { type: 'string' } });
  expectPositionals('credit', positionals, ['USERNAME', 'AMOUNT', 'REASON'], true);
  const [username, amount, ...words] = positionals as [string, string, ...string[]];
  const reason = words.join(' ');
  const key = values['idempotency-key'];
  validate(CreditBody, { amount, reason });
  if (key !== undefined) validate(IdempotencyHeaders, { 'idempotency-key': key });
  const { body, replayed } = await withRuntime(config, async (runtime) => {
    const user = await findUserByUsername(runtime.db, username);
    if (!user) throw new CommandError(`User not found: ${username}`);
    // The operator is no user of the service: their keys are kept with the account credited, apart from its own.
    const idempotency = key === undefined ? undefined : { scopeUserId: user.id, key: `cli-credit:${key}` };
    return creditAccount(runtime.db, { userId: user.id, amount, reason, idempotency, audit: operator() });
  });
  const what = replayed ? 'Already credited (same idempotency key)' : 'Credited';
  out(`${what} ${amount} ${config.currency} to ${username}: transaction ${body.transaction_id}, new balance ${body.balance} ${config.currency}`);
}

async function seed(config: Config, args: string[]): Promise<void> {
  expectPositionals('seed', parse(args, {}).positionals, []);
  const added = await withRuntime(config, (runtime) => seedDemoOffers(runtime, operator()));
  out(added > 0 ? `Added ${added} demo offers.` : 'The catalogue already has offers; no demo offers added.');
}

export const commands: Record<string, (config: Config, args: string[], env: Env) => Promise<void>> = {
  migrate,
  'create-user': createUserCommand,
  credit,
  seed,
};
