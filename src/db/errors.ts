// PostgreSQL error codes we act on; PGlite reports the same codes.
const code = (err: unknown): string | undefined =>
  typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;

export const isUniqueViolation = (err: unknown) => code(err) === '23505';
export const isCheckViolation = (err: unknown) => code(err) === '23514';
