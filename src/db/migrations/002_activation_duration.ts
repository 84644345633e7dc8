// An activation keeps the duration it was bought with: an admin who edits the offer between the
// charge and the partner's answer must not change what the buyer paid for.
import { type Kysely, sql } from 'kysely';

const statements = [
  `ALTER TABLE transactions ADD COLUMN duration_days integer CHECK (duration_days > 0)`,
  // Earlier activations take their offer's current duration: the best record there is of them.
  `UPDATE transactions t SET duration_days = o.duration_days
     FROM offers o
    WHERE o.id = t.offer_id AND t.type = 'ACTIVATION'`,
  `ALTER TABLE transactions ADD CONSTRAINT activation_has_duration
     CHECK (type <> 'ACTIVATION' OR duration_days IS NOT NULL)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
