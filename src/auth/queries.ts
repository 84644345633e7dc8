// SQL for users and refresh tokens.
import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/connect.js';
import type { DB } from '../db/types.js';

export type Executor = Database;

export const userColumns = ['id', 'username', 'email', 'is_admin', 'created_at', 'disabled_at'] as const;

export function findUserByUsername(db: Executor, username: string) {
  return db
    .selectFrom('users')
    .select([...userColumns, 'password_hash'])
    .where(sql<string>`lower(username)`, '=', username.toLowerCase())
    .executeTakeFirst();
}

export function findUserById(db: Executor, id: number) {
  return db.selectFrom('users').select(userColumns).where('id', '=', id).executeTakeFirst();
}

/** Whether the user exists and is not disabled: what an access token needs to stay good. */
export async function userExists(db: Executor, id: number): Promise<boolean> {
  const row = await db.selectFrom('users').select('id').where('id', '=', id).where('disabled_at', 'is', null).executeTakeFirst();
  return row !== undefined;
}

/**
 * The user, share-locked until the surrounding transaction ends: a refresh holds it while it writes
 * the session's next token, so logout-all (which takes it exclusively) sees that token and revokes it.
 * With the password hash, so a login can tell that the password it checked was changed meanwhile.
 */
export function findUserForShare(db: Executor, id: number) {
  return db.selectFrom('users').select([...userColumns, 'password_hash']).where('id', '=', id).forShare().executeTakeFirst();
}

export async function lockUser(db: Executor, id: number) {
  await db.selectFrom('users').select('id').where('id', '=', id).forUpdate().execute();
}

/** The user's password hash, with the username the login throttle counts by. */
export function findCredentials(db: Executor, id: number) {
  return db.selectFrom('users').select(['username', 'password_hash']).where('id', '=', id).executeTakeFirst();
}

export async function updatePasswordHash(db: Executor, id: number, passwordHash: string): Promise<boolean> {
  const result = await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', id).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export function updateEmail(db: Executor, id: number, email: string | null) {
  return db.updateTable('users').set({ email }).where('id', '=', id).returning(userColumns).executeTakeFirst();
}

/** The user and their account; run it in a transaction, so neither exists without the other. */
export async function insertUser(
  trx: Transaction<DB>,
  user: { username: string; email: string | null; passwordHash: string; isAdmin: boolean },
) {
  const row = await trx
    .insertInto('users')
    .values({ username: user.username, email: user.email, password_hash: user.passwordHash, is_admin: user.isAdmin })
    .returning(userColumns)
    .executeTakeFirstOrThrow();
  await trx.insertInto('accounts').values({ user_id: row.id }).execute();
  return row;
}

/** Sets or clears disabled_at, only when it changes (compare-and-set); undefined when it did not. */
export function setDisabled(trx: Transaction<DB>, id: number, disabled: boolean) {
  return trx
    .updateTable('users')
    .set({ disabled_at: disabled ? sql<Date>`now()` : null })
    .where('id', '=', id)
    .where('disabled_at', disabled ? 'is' : 'is not', null)
    .returning([...userColumns, 'disabled_at'])
    .executeTakeFirst();
}

export function insertRefreshToken(
  db: Executor,
  token: { id: string; hash: string; familyId: string; userId: number; ttlSeconds: number },
) {
  return db
    .insertInto('refresh_tokens')
    .values({
      id: token.id,
      token_hash: token.hash,
      family_id: token.familyId,
      user_id: token.userId,
      expires_at: sql<Date>`now() + make_interval(secs => ${token.ttlSeconds})`,
    })
    .execute();
}

/** Marks a live refresh token used, exactly once: a second presentation finds nothing to update. */
export function consumeRefreshToken(db: Executor, hash: string) {
  return db
    .updateTable('refresh_tokens')
    .set({ used_at: sql`now()` })
    .where('token_hash', '=', hash)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .returning(['family_id', 'user_id'])
    .executeTakeFirst();
}

export function findRefreshToken(db: Executor, hash: string) {
  return db
    .selectFrom('refresh_tokens')
    .select(['family_id', 'user_id', 'used_at', 'revoked_at'])
    .where('token_hash', '=', hash)
    .executeTakeFirst();
}

/** Locks every token of a family until the surrounding transaction ends. */
export async function lockFamily(db: Executor, familyId: string) {
  await db.selectFrom('refresh_tokens').select('id').where('family_id', '=', familyId).forUpdate().execute();
}

/** Revokes every session of the user, but `keep` when given; returns their ids. */
export async function revokeUserSessions(db: Executor, userId: number, keep?: string): Promise<string[]> {
  let update = db
    .updateTable('refresh_tokens')
    .set({ revoked_at: sql`now()` })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null);
  if (keep !== undefined) update = update.where('family_id', '!=', keep);
  const rows = await update.returning('family_id').execute();
  return [...new Set(rows.map((r) => r.family_id))];
}

export async function recentlyRevokedSessions(db: Executor, withinSeconds: number): Promise<string[]> {
  const rows = await db
    .selectFrom('refresh_tokens')
    .select('family_id')
    .distinct()
    .where('revoked_at', '>', sql<Date>`now() - make_interval(secs => ${withinSeconds})`)
    .execute();
  return rows.map((r) => r.family_id);
}

/**
 * Deletes, in batches, refresh tokens that expired or were revoked more than `graceSeconds` ago.
 * The grace (an access-token lifetime) keeps a revoked session in the table while its access
 * tokens live, since processes reload revocations from here. Returns how many went.
 */
export async function purgeRefreshTokens(db: Executor, graceSeconds: number, batch = 1000): Promise<number> {
  let total = 0;
  for (;;) {
    const cutoff = sql<Date>`now() - make_interval(secs => ${graceSeconds})`;
    const deleted = await db
      .deleteFrom('refresh_tokens')
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('refresh_tokens')
          .select('id')
          .where((w) => w.or([w('expires_at', '<', cutoff), w('revoked_at', '<', cutoff)]))
          .limit(batch),
      )
      .executeTakeFirst();
    const count = Number(deleted.numDeletedRows);
    total += count;
    if (count < batch) return total;
  }
}

export function revokeFamily(db: Executor, familyId: string) {
  return db
    .updateTable('refresh_tokens')
    .set({ revoked_at: sql`now()` })
    .where('family_id', '=', familyId)
    .where('revoked_at', 'is', null)
    .execute();
}
