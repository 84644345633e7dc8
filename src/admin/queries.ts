// SQL for the admin views of users.
import type { Database } from '../db/connect.js';
import type { KeysetSlice } from '../http/pagination.js';

function usersWithBalance(db: Database) {
  return db
    .selectFrom('users')
    .innerJoin('accounts', 'accounts.user_id', 'users.id')
    .select(['users.id', 'users.username', 'users.email', 'users.is_admin', 'users.created_at', 'accounts.balance']);
}

export function findUserWithBalance(db: Database, id: number) {
  return usersWithBalance(db).where('users.id', '=', id).executeTakeFirst();
}

export function listUsers(db: Database, slice: KeysetSlice) {
  const { after } = slice;
  return usersWithBalance(db)
    .$if(after !== undefined, (q) => q.where('users.id', after!.op, after!.key))
    .orderBy('users.id', slice.order)
    .limit(slice.limit)
    .execute();
}

export async function countUsers(db: Database) {
  const row = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export type UserWithBalance = NonNullable<Awaited<ReturnType<typeof findUserWithBalance>>>;
