// Idempotency keys for requests that move money: the first request with a key does the work, a
// replay with the same body gets the first answer, and the same key with another body is refused.
import { createHash } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { DB } from '../db/types.js';

/** Hashes what a request asks for, so a replay can be told apart from a different request under one key. */
export function requestHash(request: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(request)).digest('hex');
}

/**
 * Claims the key for this request, or returns the row already holding it. Written first in the
 * request's transaction: a concurrent replay waits on the key row until the first one commits.
 */
export async function claimIdempotencyKey(
  trx: Transaction<DB>,
  key: { userId: number; key: string; requestHash: string; transactionId: string },
) {
  const inserted = await trx
    .insertInto('idempotency_keys')
    .values({ user_id: key.userId, key: key.key, request_hash: key.requestHash, transaction_id: key.transactionId })
    .onConflict((oc) => oc.columns(['user_id', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst();
  if (inserted) return undefined;
  return trx
    .selectFrom('idempotency_keys')
    .select(['request_hash', 'transaction_id'])
    .where('user_id', '=', key.userId)
    .where('key', '=', key.key)
    .executeTakeFirstOrThrow();
}
