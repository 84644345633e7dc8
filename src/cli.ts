#!/usr/bin/env node
// Command-line entry: migrate, create-user, credit and seed, on the same database as the server.
import { CommandError, UsageError } from './cli/errors.js';
import { ConfigError, loadConfig } from './config.js';
import { EmbeddedDatabaseBusy } from './db/embedded-lock.js';
import { DomainError, type ErrorKind } from './domain/errors.js';

type Env = Record<string, string | undefined>;

const USAGE = `Usage: offers-api <command> [arguments]   (from a checkout: npm run cli -- <command> …)

Commands:
  migrate
      Apply the database migrations.
  create-user USERNAME [--email E] [--admin] [--password P]
      Create a user. The password comes from --password, else the OFFERS_PASSWORD
      environment variable, else a prompt when run in a terminal.
  credit USERNAME AMOUNT REASON [--idempotency-key K]
      Add AMOUNT (a decimal string such as 50.00) to the user's balance. Run again with
      the same K (after a timeout, say), it credits once and prints the first result.
  seed
      Add the demo offers when the catalogue is empty.
  help
      Show this text.

The database is the server's: PostgreSQL at DATABASE_URL, or the embedded one in DATA_DIR
(default ./data). Exit codes: 0 done, 1 failed, 2 bad arguments, 75 try again later.
`;

const COMMAND_NAMES = ['migrate', 'create-user', 'credit', 'seed'];

const err = (line: string) => process.stderr.write(`${line}\n`);

/** The one place a domain error becomes an exit code: 75 (EX_TEMPFAIL) says "try again later". */
const EXIT_CODE_OF_KIND: Record<ErrorKind, number> = {
  invalid: 1,
  unauthenticated: 1,
  forbidden: 1,
  not_found: 1,
  conflict: 1,
  rate_limited: 75,
  unavailable: 75,
};

/** Runs one command and returns the exit code. */
async function main(argv: string[], env: Env): Promise<number> {
  const [name, ...args] = argv;
  if (name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (name === undefined || !COMMAND_NAMES.includes(name)) {
    err(name === undefined ? 'No command given.' : `Unknown command: ${name}`);
    process.stderr.write(`\n${USAGE}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    const config = loadConfig(env, { partnerRequired: false });
    // Loading the service's modules takes a while; usage and configuration errors come first.
    const { commands } = await import('./cli/commands.js');
    await commands[name]!(config, args, env);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      err(`${error.message}\nRun "offers-api help" for usage.`);
      return 2;
    }
    if (error instanceof DomainError) {
      err(error.message);
      return EXIT_CODE_OF_KIND[error.kind];
    }
    if (error instanceof ConfigError) err(`Configuration error: ${error.message}`);
    else if (error instanceof CommandError || error instanceof EmbeddedDatabaseBusy) err(error.message);
    else err(`Unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  }
}

// Exit explicitly: a pool or file handle left open by a failed command must not keep the process alive.
main(process.argv.slice(2), process.env).then((code) => process.exit(code));
