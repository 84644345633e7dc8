// Activations the partner may have provisioned are never refunded on a guess. `maybe_delivered`
// records that a request may have reached the partner (an ambiguous answer, or a worker lost in the
// middle of a call): from then on only a definite answer or the deadline settles the activation.
// `needs_review` marks one refunded at the deadline, so a person checks it with the partner; the
// partial index keeps that admin list cheap however large the table grows.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE transactions
              ADD COLUMN maybe_delivered boolean NOT NULL DEFAULT false,
              ADD COLUMN needs_review boolean NOT NULL DEFAULT false`.execute(db);
  await sql`CREATE INDEX transactions_needs_review ON transactions (seq DESC) WHERE needs_review`.execute(db);
}
