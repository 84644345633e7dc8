// Names and defaults of the benchmark data written by `seed`, shared by the seeder and the usage text.
export const BENCH_USER_PREFIX = 'bench_user_';
export const BENCH_OFFER_PREFIX = 'Bench offer ';
export const BENCH_OFFER_PRICE = '1.00';
export const BENCH_PASSWORD = 'bench-password';
export const BENCH_BALANCE = '100.00';
export const HISTORY_AMOUNT = '0.01';
/** Rows written per database transaction. */
export const DEFAULT_BATCH = 50_000;

/** bench_user_000001 … bench_user_999999, then bench_user_1000000 …: sorts and reads well. */
export const benchUsername = (n: number) => `${BENCH_USER_PREFIX}${String(n).padStart(6, '0')}`;
