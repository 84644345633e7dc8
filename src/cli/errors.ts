// Expected command-line failures: printed as one line, no stack trace.
/** Bad arguments: usage text, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The command ran but could not do what was asked: exit code 1. */
export class CommandError extends Error {
  override name = 'CommandError';
}
